import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../src-main/clock';
import { openDatabase, type Database } from '../src-main/platform/db/database';
import { AuditAnchor } from '../src-main/services/audit/audit-anchor';
import { AuditCheckpoint } from '../src-main/services/audit/audit-checkpoint';
import { AuditLog, type AuditInput } from '../src-main/services/audit/audit.service';
import { builtWalkerScript } from '../src-main/services/audit/parallel-walk';
import { compare, compareAsync, median, MemorySecretStore, rate, result, type BenchResult } from './harness';

const row = (i: number): AuditInput => ({
  event: 'restore_request_received',
  actor: 'backup-nightly',
  subject: `req-${i.toString(36).padStart(8, '0')}`,
  sourceIp: '127.0.0.1',
  userAgent: 'restic/0.17.3 custodian-cli/0.1.0',
  data: { backupId: `snap-${i}`, target: '/srv/restore/db', sensitivity: 'high', matchCode: 42 },
});

function freshDb(dir: string, name: string): Database {
  return openDatabase({ file: join(dir, `${name}.db`), synchronous: 'FULL' });
}

/**
 * Audit append (one transaction per row, WAL, synchronous FULL) against raw better-sqlite3
 * inserts of the same rows into the same table, also one transaction each with the same pragmas.
 */
function appendRate(dir: string): BenchResult {
  const N = 400;
  let round = 0;
  const measured = compare(
    5,
    () => {
      const db = freshDb(dir, `append-${round++}`);
      const audit = new AuditLog(db, new TestClock());
      const r = rate(N, (n) => {
        for (let i = 0; i < n; i += 1) audit.record(row(i));
      });
      db.close();
      return r;
    },
    () => {
      const db = freshDb(dir, `raw-${round++}`);
      const insert = db.prepare('INSERT INTO audit_log (id, content, prev_hash, hash) VALUES (?, ?, ?, ?)');
      const one = db.transaction((i: number) => {
        const r = row(i);
        const content = JSON.stringify([i + 1, new Date(0).toISOString(), r.event, r.actor, r.subject, '127.0.0.x', r.userAgent, r.data]);
        insert.run(i + 1, content, '0'.repeat(64), 'f'.repeat(64));
      });
      const r = rate(N, (n) => {
        for (let i = 0; i < n; i += 1) one.immediate(i);
      });
      db.close();
      return r;
    },
  );
  return result('audit append (1 transaction per row, WAL, synchronous FULL)', 'rows/s', measured, 0.5, 'raw better-sqlite3 insert of the same rows');
}

/** The log's size for the verification figures: the 1,000,000 unless told otherwise. */
export const AUDIT_ROWS = 1_000_000;
/** Rows appended after the checkpoint for the incremental figure. */
const APPENDED = 1_000;

/**
 * Issue 13, item 8: verification of an R-row log (1,000,000 by default). The full walk (the main
 * thread and the worker threads taking chunks of rows, each reading and hashing on its own
 * connection, as `custodian audit verify` runs it) against reading the same rows alone on one
 * thread: the columns the walk needs, with the walk's own statement (id, prev_hash joined to the
 * content by SQLite, hash; raw rows, pages of 4,000), which was the fastest single-threaded read
 * tried (separate columns, `iterate()`, BLOBs, pages of 500 or 20,000, one read transaction or
 * none, a 64 MB page cache, mmap: none clearly faster). The CPU time both take per row, all threads
 * counted, for context: on a machine whose cores are taken, the walk's threads get no more CPU
 * than the read's one, and the ratio tends to that one. The one-thread walk and raw SHA-256 for
 * context; then N rows appended and the incremental walk from the checkpoint.
 */
async function verifyRate(dir: string, rows: number): Promise<BenchResult[]> {
  const db = freshDb(dir, 'verify');
  const secrets = new MemorySecretStore();
  // As the walk counts them (parallel-walk.ts): the main thread and one fewer workers than cores.
  const threads = Math.max(2, availableParallelism());
  const script = builtWalkerScript();
  if (!script) throw new Error('the audit walk worker is not built (npm run build)');
  const audit = new AuditLog(db, new TestClock(), new AuditAnchor(secrets, db), {
    checkpoint: new AuditCheckpoint(secrets, db),
    walkers: { script },
  });
  const serial = new AuditLog(db, new TestClock());
  for (let done = 0; done < rows; done += 10_000) {
    audit.transact(() => {
      for (let i = done; i < Math.min(done + 10_000, rows); i += 1) audit.append(row(i));
    });
  }
  await audit.settled();
  const readOnly = db.prepare('SELECT id, prev_hash || char(10) || content, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT 4000').raw(true);
  const read = (): number =>
    rate(rows, () => {
      for (let after = 0, page = readOnly.all(after) as [number][]; page.length > 0; page = readOnly.all(after) as [number][]) {
        after = (page[page.length - 1] as [number])[0];
      }
    });
  const walk = async (): Promise<number> => {
    const start = performance.now();
    const verdict = await audit.walkChain();
    if (!verdict.ok || verdict.rows !== rows) throw new Error('the benchmark chain does not verify');
    return rows / ((performance.now() - start) / 1000);
  };
  // Rows per second of CPU time, every thread of the process counted (the workers' included).
  const cpu = { walk: [] as number[], read: [] as number[] };
  const onCpu = async (into: number[], fn: () => Promise<number>): Promise<number> => {
    const before = process.cpuUsage();
    const value = await fn();
    const used = process.cpuUsage(before);
    into.push(rows / ((used.user + used.system) / 1e6));
    return value;
  };
  // The target's figure gets 5 rounds; the context figures 3 on a large log.
  const full = await compareAsync(5, () => onCpu(cpu.walk, walk), () => onCpu(cpu.read, async () => read()));
  const rounds = rows >= 500_000 ? 3 : 5;
  const oneThread = compare(
    rounds,
    () =>
      rate(rows, () => {
        if (!serial.verifyChain().ok) throw new Error('the benchmark chain does not verify');
      }),
    read,
  );
  // Exactly the bytes each row's hash covers, for the raw SHA-256 context figure.
  const sample = Math.min(rows, 100_000);
  const payloads = db.prepare('SELECT prev_hash || char(10) || content FROM audit_log ORDER BY id LIMIT ?').pluck().all(sample) as string[];
  const sha = compare(
    rounds,
    () => rate(rows, () => void walkSync(serial)),
    () => rate(sample, () => payloads.forEach((p) => hash('sha256', p, 'hex'))),
  );

  // Incremental: a full verification leaves the checkpoint at the head; N rows are appended; the
  // incremental walk covers those N. Each round appends N more.
  const verified = await audit.verify();
  if (!verified.ok) throw new Error(`the benchmark log does not verify: ${verified.reason}`);
  let appended = 0;
  const incremental: number[] = [];
  const readNew: number[] = [];
  const fullTimes: number[] = [];
  const readAfter = db.prepare('SELECT id, prev_hash || char(10) || content, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT 4000').raw(true);
  for (let round = 0; round < rounds; round += 1) {
    audit.transact(() => {
      for (let i = 0; i < APPENDED; i += 1) audit.append(row(rows + appended + i));
    });
    appended += APPENDED;
    await audit.settled();
    let start = performance.now();
    const v = await audit.verifyIncremental();
    const seconds = (performance.now() - start) / 1000;
    if (!v.ok || v.rows !== APPENDED) throw new Error(`the incremental walk did not cover the new rows: ${JSON.stringify(v)}`);
    incremental.push(seconds);
    start = performance.now();
    for (let after = rows + appended - APPENDED, page = readAfter.all(after) as [number][]; page.length > 0; page = readAfter.all(after) as [number][]) {
      after = (page[page.length - 1] as [number])[0];
    }
    readNew.push((performance.now() - start) / 1000);
    start = performance.now();
    if (!(await audit.walkChain()).ok) throw new Error('the benchmark chain does not verify');
    fullTimes.push((performance.now() - start) / 1000);
  }
  db.close();
  const size = rows.toLocaleString('en-US');
  return [
    result(
      `full audit verification over ${size} rows (reading and hashing split in chunks across ${threads} threads, each on its own connection: the main one and ${threads - 1} worker${threads === 2 ? '' : 's'})`,
      'rows/s',
      full,
      0.8,
      'reading the same rows (the columns the walk needs) from SQLite alone, one thread, no hashing',
    ),
    result(
      `full audit verification over ${size} rows: CPU time, every thread counted`,
      'rows per CPU-second',
      { value: median(cpu.walk), baseline: median(cpu.read) },
      null,
      'reading the same rows alone, one thread (ratio: where the wall-clock ratio tends when no core is free)',
    ),
    result(`the same walk on one thread (verifyChain) over ${size} rows`, 'rows/s', oneThread, null, 'reading the same rows from SQLite alone, one thread, no hashing'),
    result(`the same walk on one thread (verifyChain) over ${size} rows`, 'rows/s', sha, null, 'raw SHA-256 (crypto.hash) over the same bytes'),
    result(
      `incremental audit verification from the checkpoint: ${APPENDED.toLocaleString('en-US')} rows appended to ${size}`,
      'rows/s',
      { value: APPENDED / median(incremental), baseline: APPENDED / median(readNew) },
      null,
      'reading the same new rows from SQLite alone, no hashing (anchor and checkpoint reads included on the left)',
    ),
    result(
      `incremental audit verification of ${APPENDED.toLocaleString('en-US')} new rows against a full verification of the ${size}-row log`,
      'verifications/s',
      { value: 1 / median(incremental), baseline: 1 / median(fullTimes) },
      null,
      'full verification of the whole log, worker threads (ratio: the speed-up)',
    ),
  ];
}

function walkSync(log: AuditLog): boolean {
  return log.verifyChain().ok;
}

export async function auditBenchmarks(rows = AUDIT_ROWS): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-'));
  try {
    return [appendRate(dir), ...(await verifyRate(dir, rows))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
