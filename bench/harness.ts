import { performance } from 'node:perf_hooks';
import type { Database } from '../src-main/platform/db/database';
import type { SecretStore } from '../src-main/platform/keychain/secret-store';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline: higher is better. */
  ratio: number;
  /** The ratio the issue asks for; null for a figure reported for context only. */
  target: number | null;
  baselineName: string;
}

/** Operations per second of `fn(n)`, which performs n operations. */
export function rate(n: number, fn: (n: number) => void): number {
  const start = performance.now();
  fn(n);
  const seconds = (performance.now() - start) / 1000;
  return n / seconds;
}

/**
 * Runs the subject and its baseline in alternating rounds and keeps each one's median, so a
 * burst of load from a neighbour hits both sides alike rather than skewing one of them.
 */
export function compare(rounds: number, subject: () => number, baseline: () => number): { value: number; baseline: number } {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    if (i % 2 === 0) {
      a.push(subject());
      b.push(baseline());
    } else {
      b.push(baseline());
      a.push(subject());
    }
  }
  return { value: median(a), baseline: median(b) };
}

/** `compare` for subjects that await (a walk on worker threads). */
export async function compareAsync(rounds: number, subject: () => Promise<number>, baseline: () => Promise<number>): Promise<{ value: number; baseline: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    if (i % 2 === 0) {
      a.push(await subject());
      b.push(await baseline());
    } else {
      b.push(await baseline());
      a.push(await subject());
    }
  }
  return { value: median(a), baseline: median(b) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function result(name: string, unit: string, measured: { value: number; baseline: number }, target: number | null, baselineName: string): BenchResult {
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    name,
    value: round(measured.value),
    unit,
    baseline: round(measured.baseline),
    ratio: round(measured.value / measured.baseline),
    target,
    baselineName,
  };
}

/**
 * The keychain stand-in for the benchmarks only: the services read a secret from memory, so the
 * keychain (a D-Bus round trip) is not on the measured path of either side.
 */
export class MemorySecretStore implements SecretStore {
  readonly #map = new Map<string, string>();
  async get(account: string) {
    return this.#map.get(account) ?? null;
  }
  async set(account: string, secret: string) {
    this.#map.set(account, secret);
  }
  async delete(account: string) {
    return this.#map.delete(account);
  }
  async probe() {}
}

/**
 * What durability alone costs, as a baseline: on a bare connection, `ops` operations of
 * `commitsPerOp` fsynced commits each, one small row per commit; answers operations per second.
 */
export function bareCommits(db: Database): (ops: number, commitsPerOp: number) => number {
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const write = db.transaction((v: string) => insert.run(v));
  return (ops, commitsPerOp) => {
    const start = performance.now();
    for (let i = 0; i < ops; i += 1) for (let c = 0; c < commitsPerOp; c += 1) write.immediate(`op ${i} commit ${c}`);
    return ops / ((performance.now() - start) / 1000);
  };
}
