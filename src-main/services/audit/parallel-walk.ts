import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database } from '../../platform/db/database';
import type { AuditRepository } from '../../platform/db/repositories/audit.repository';
import { ChainVerifier, type ChainVerdict } from './audit-chain';

/** Where the walk may use worker threads, and from how many rows on it is worth it. */
export interface WalkWorkers {
  /** The built worker (`audit-walk-worker` in electron.vite.config.ts). */
  script: string;
  /** The better-sqlite3 addon the worker loads: the Electron app's own build there. */
  nativeBinding?: string | undefined;
  /** Worker threads beside the main thread; one fewer than the cores by default. */
  threads?: number;
  /** Below this many rows to walk, one thread does it all: starting a worker costs ~50 ms. */
  minRows?: number;
}

export interface RangeJob {
  file: string;
  nativeBinding: string | undefined;
  after: number;
  through: number;
}

/** What one range's walk found: the stored hash of the row it started after, and its verdict. */
export interface RangeWalk {
  start: string | undefined;
  verdict: ChainVerdict;
}

const DEFAULT_MIN_ROWS = 50_000;

/**
 * Walks rows (after, through] in one read transaction, from `after`'s hash: the one given, or
 * else the one stored on that row. The main thread and the workers each run this on their range.
 */
export function walkRange(db: Database, repo: AuditRepository, start: number | { id: number; hash: string }, through: number): RangeWalk {
  return db.transaction((): RangeWalk => {
    const from = typeof start === 'number' ? { id: start, hash: repo.hashAt(start) } : start;
    const verifier = new ChainVerifier({ id: from.id, hash: from.hash ?? '' });
    // From the genesis, rows below id 1 are read too: one slipped in there is a sequence gap.
    const after = from.id === 0 ? Number.MIN_SAFE_INTEGER : from.id;
    if (from.hash !== undefined) for (const page of repo.linkPages(after, through)) if (!verifier.feed(page)) break;
    return { start: from.hash, verdict: verifier.verdict() };
  })();
}

/**
 * The built worker beside the bundle (out/main, or out/main/chunks when this module lands in a
 * shared chunk). Running from source, as under Vitest, there is none: the walk stays on one thread.
 */
export function builtWalkerScript(): string | undefined {
  for (const dir of [__dirname, join(__dirname, '..')]) {
    const file = join(dir, 'audit-walk-worker.js');
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Issue 13, item 8: reading rows out of SQLite costs about as much as hashing them, and both are
 * synchronous, so one thread can only do one after the other. This splits the rows after `from`
 * up to the head into ranges, one per thread, each read and hashed on its own connection at once.
 *
 * Each range is walked from the hash stored on the row before it, in its own snapshot; the ranges
 * are then stitched: each must start from the very hash the range before it ended on, end on the
 * row the next one starts after, and the last must end on the head read first. A chain stitched so
 * is one unbroken chain from `from` to that head (a forged range would have to hash to the same
 * values as the honest one). Rows appended meanwhile lie past the head and are not walked.
 *
 * It only ever vouches: any fault, or any worker that fails, answers `undefined`, and the caller
 * walks on one thread, which names the first bad row exactly as it always has.
 */
export async function walkInParallel(
  db: Database,
  repo: AuditRepository,
  from: { id: number; hash: string },
  workers: WalkWorkers,
): Promise<ChainVerdict | undefined> {
  const head = repo.head();
  const threads = Math.max(1, workers.threads ?? availableParallelism() - 1);
  if (!head || db.memory || head.id - from.id < (workers.minRows ?? DEFAULT_MIN_ROWS)) return undefined;
  const span = Math.ceil((head.id - from.id) / (threads + 1));
  const bounds: number[] = [from.id];
  for (let b = from.id + span; b < head.id; b += span) bounds.push(b);
  bounds.push(head.id);

  const spawned: Worker[] = [];
  const remote = bounds.slice(1, -1).map((after, i) => {
    const job: RangeJob = { file: db.name, nativeBinding: workers.nativeBinding, after, through: bounds[i + 2] as number };
    return new Promise<RangeWalk | undefined>((resolve) => {
      const worker = new Worker(workers.script, { workerData: job });
      spawned.push(worker);
      worker.once('message', (walk: RangeWalk) => resolve(walk));
      worker.once('error', () => resolve(undefined));
      worker.once('exit', () => resolve(undefined));
    });
  });
  try {
    // The first range on this thread, while the workers start and walk theirs.
    const walks: (RangeWalk | undefined)[] = [walkRange(db, repo, from, bounds[1] as number)];
    walks.push(...(await Promise.all(remote)));
    let rows = 0;
    let hash = from.hash;
    for (const [i, walk] of walks.entries()) {
      if (!walk?.verdict.ok || walk.start !== hash || walk.verdict.headId !== bounds[i + 1]) return undefined;
      rows += walk.verdict.rows;
      hash = walk.verdict.headHash;
    }
    return hash === head.hash ? { ok: true, rows, headId: head.id, headHash: hash } : undefined;
  } finally {
    for (const worker of spawned) void worker.terminate();
  }
}
