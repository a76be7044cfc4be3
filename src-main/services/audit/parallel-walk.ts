import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
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
  /** Below this many rows to walk, one thread does it all: starting a worker costs ~50-150 ms. */
  minRows?: number;
  /** Rows per chunk handed out to the threads (tests set small chunks to place the boundaries). */
  chunkRows?: number;
  /**
   * Whether the main thread takes chunks too (the default: it would only wait otherwise). Tests
   * turn it off so the workers walk every chunk.
   */
  mainThread?: boolean;
}

/** What a worker is given: the chunk bounds, and the shared counters the threads take chunks from. */
export interface WalkJob {
  file: string;
  nativeBinding: string | undefined;
  /** Chunk k is the rows (bounds[k], bounds[k + 1]]. */
  bounds: readonly number[];
  /** Where chunk 0 starts: the genesis or a checkpoint, whose hash is not read from the table. */
  from: { id: number; hash: string };
  /** Int32Array over it: [next chunk to take, first chunk known to be faulty]. */
  control: SharedArrayBuffer;
}

/** What one range's walk found: the stored hash of the row it started after, and its verdict. */
export interface RangeWalk {
  start: string | undefined;
  verdict: ChainVerdict;
}

/** One walked chunk, as a worker posts it. */
export type ChunkWalk = readonly [chunk: number, walk: RangeWalk];

/**
 * What the threads vouch for: the rows after `from` up to `through`, `rows` of them, one unbroken
 * chain. `complete` when that reaches the head read before the walk; otherwise the one-thread walk
 * goes on from `through` and names the first bad row.
 */
export interface ParallelWalk {
  through: { id: number; hash: string };
  rows: number;
  complete: boolean;
}

const DEFAULT_MIN_ROWS = 50_000;
/** 30-50 ms of work per chunk: a thread that starts late or gets less CPU just takes fewer chunks. */
const DEFAULT_CHUNK_ROWS = 16_384;
const NEXT = 0;
const STOP = 1;

/**
 * Walks rows (after, through] in one read transaction, from `after`'s hash: the one given, or
 * else the one stored on that row. The main thread and the workers each run this on their chunks.
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
 * Takes chunks off the shared counter and walks them until none is left, or every chunk left lies
 * past one found faulty (the walk after a fault is the one-thread walk's). Each worker runs this;
 * the main thread runs the same loop in `walkInParallel`, letting its event loop turn in between.
 */
export function takeChunks(db: Database, repo: AuditRepository, job: Pick<WalkJob, 'bounds' | 'from' | 'control'>, done: (walked: ChunkWalk) => void): void {
  const control = new Int32Array(job.control);
  for (;;) {
    const chunk = takeChunk(control, job.bounds.length - 1);
    if (chunk === undefined) return;
    done([chunk, walkChunk(db, repo, job, chunk, control)]);
  }
}

function takeChunk(control: Int32Array, chunks: number): number | undefined {
  const chunk = Atomics.add(control, NEXT, 1);
  return chunk < chunks && chunk <= Atomics.load(control, STOP) ? chunk : undefined;
}

function walkChunk(db: Database, repo: AuditRepository, job: Pick<WalkJob, 'bounds' | 'from' | 'control'>, chunk: number, control: Int32Array): RangeWalk {
  const through = job.bounds[chunk + 1] as number;
  const walk = walkRange(db, repo, chunk === 0 ? job.from : (job.bounds[chunk] as number), through);
  if (walk.start === undefined || !walk.verdict.ok || walk.verdict.headId !== through) {
    // No thread need walk a chunk after this one: what follows a fault is not looked at.
    for (let stop = Atomics.load(control, STOP); chunk < stop; stop = Atomics.load(control, STOP)) {
      if (Atomics.compareExchange(control, STOP, stop, chunk) === stop) break;
    }
  }
  return walk;
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
 * Issue 13, item 8: reading rows out of SQLite costs somewhat more than hashing them, and both
 * are synchronous, so one thread can only do one after the other. Each row stores its own hash and
 * chains on the stored hash of the row before it, so any run of rows can be checked on its own
 * from the hash stored just before it: the rows after `from` up to the head are cut into chunks,
 * and the main thread and the workers, each on its own connection, take the next chunk off a
 * shared counter, read it and hash it. A thread that starts late or gets less of the CPU simply
 * takes fewer chunks, so the threads finish together; a fixed range per thread waited on the
 * slowest.
 *
 * Each chunk is walked in its own snapshot; the chunks are then stitched in order: each must start
 * from the very hash the one before it ended on and end on the row the next one starts after. A
 * chain stitched so is one unbroken chain from `from` (a forged chunk would have to hash to the
 * same values as the honest one). Rows appended meanwhile lie past the head read first and are
 * not walked.
 *
 * It vouches only for what stitches: the answer names how far that reaches. At the first chunk
 * that does not (a fault in it, a missing row at its edge, a worker that failed), the caller's
 * one-thread walk takes over from the end of the stitched chunks, so the first bad row, the reason
 * and the row count are exactly those of a walk on one thread from `from`. `undefined` means the
 * threads were not used (a short walk, an in-memory database).
 */
export async function walkInParallel(
  db: Database,
  repo: AuditRepository,
  from: { id: number; hash: string },
  workers: WalkWorkers,
): Promise<ParallelWalk | undefined> {
  const head = repo.head();
  const threads = Math.max(1, workers.threads ?? availableParallelism() - 1);
  if (!head || db.memory || head.id <= from.id || head.id - from.id < (workers.minRows ?? DEFAULT_MIN_ROWS)) return undefined;
  const chunkRows = Math.max(1, workers.chunkRows ?? DEFAULT_CHUNK_ROWS);
  const bounds: number[] = [];
  for (let b = from.id; b < head.id; b += chunkRows) bounds.push(b);
  bounds.push(head.id);
  const chunks = bounds.length - 1;
  const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(control), STOP, chunks);
  const job: WalkJob = { file: db.name, nativeBinding: workers.nativeBinding, bounds, from, control };

  const walks = new Map<number, RangeWalk>();
  const take = ([chunk, walk]: ChunkWalk): void => void walks.set(chunk, walk);
  // Every chunk up to the first faulty one has an answer: nothing more is needed.
  const answered = (): boolean => {
    const last = Math.min(chunks - 1, Atomics.load(new Int32Array(control), STOP));
    for (let chunk = 0; chunk <= last; chunk += 1) if (!walks.has(chunk)) return false;
    return true;
  };
  const spawned: Worker[] = [];
  let running = 0;
  let wake: () => void = () => undefined;
  for (let i = 0; i < threads; i += 1) {
    let worker: Worker;
    try {
      worker = new Worker(workers.script, { workerData: job });
    } catch {
      continue;
    }
    spawned.push(worker);
    running += 1;
    worker.on('message', (walked: ChunkWalk) => {
      take(walked);
      wake();
    });
    worker.once('error', () => undefined);
    // A worker that dies leaves the chunks it took unanswered: the stitch stops there.
    worker.once('exit', () => {
      running -= 1;
      wake();
    });
  }
  try {
    // The main thread takes chunks too, while the workers start, letting its event loop turn
    // between chunks (the desk's window stays answered during a long walk).
    const control32 = new Int32Array(control);
    const mainThread = workers.mainThread ?? true;
    for (let chunk = mainThread ? takeChunk(control32, chunks) : undefined; chunk !== undefined; chunk = takeChunk(control32, chunks)) {
      take([chunk, walkChunk(db, repo, job, chunk, control32)]);
      await nextTurn();
    }
    while (!answered() && running > 0) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    for (const worker of spawned) void worker.terminate();
  }
  return stitch(bounds, from, head, walks);
}

/** The chunks in order, as far as each starts where the one before it ended and verified whole. */
function stitch(bounds: readonly number[], from: { id: number; hash: string }, head: { id: number; hash: string }, walks: ReadonlyMap<number, RangeWalk>): ParallelWalk {
  let through = from;
  let rows = 0;
  for (let chunk = 0; chunk < bounds.length - 1; chunk += 1) {
    const walk = walks.get(chunk);
    if (!walk?.verdict.ok || walk.start !== through.hash || walk.verdict.headId !== bounds[chunk + 1]) break;
    rows += walk.verdict.rows;
    through = { id: walk.verdict.headId, hash: walk.verdict.headHash };
  }
  return { through, rows, complete: through.id === head.id && through.hash === head.hash };
}
