import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../src-main/clock';
import { openDatabase, type Database } from '../src-main/platform/db/database';
import { AuditLog, type AuditInput } from '../src-main/services/audit/audit.service';
import { compare, rate, result, type BenchResult } from './harness';

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

/** verifyAuditChain over 100,000 rows against raw SHA-256 over the same bytes. */
function verifyRate(dir: string): BenchResult[] {
  const N = 100_000;
  const db = freshDb(dir, 'verify');
  const audit = new AuditLog(db, new TestClock());
  audit.transact(() => {
    for (let i = 0; i < N; i += 1) audit.append(row(i));
  });
  // Exactly the bytes each row's hash covers.
  const payloads = db.prepare("SELECT prev_hash || char(10) || content FROM audit_log ORDER BY id").pluck().all() as string[];
  const measured = compare(
    5,
    () =>
      rate(N, () => {
        const verdict = audit.verifyChain();
        if (!verdict.ok || verdict.rows !== N) throw new Error('the benchmark chain does not verify');
      }),
    () =>
      rate(N, () => {
        // node:crypto's one-shot hash: the fastest raw SHA-256 Node has, so the ratio is honest.
        for (const p of payloads) hash('sha256', p, 'hex');
      }),
  );
  // Context for the ratio above: reading the same bytes out of SQLite, with no hashing at all,
  // is the floor any verification from the database pays.
  const readOnly = db.prepare('SELECT id, prev_hash || char(10) || content, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT 4000').raw(true);
  const floor = compare(
    5,
    () =>
      rate(N, () => {
        if (!audit.verifyChain().ok) throw new Error('the benchmark chain does not verify');
      }),
    () =>
      rate(N, () => {
        for (let after = 0, rows = readOnly.all(after) as [number][]; rows.length > 0; rows = readOnly.all(after) as [number][]) {
          after = (rows[rows.length - 1] as [number])[0];
        }
      }),
  );
  db.close();
  return [
    result('verifyAuditChain over 100,000 rows', 'rows/s', measured, 0.5, 'raw SHA-256 over the same bytes'),
    result('verifyAuditChain over 100,000 rows', 'rows/s', floor, null, 'reading the same rows from SQLite without hashing'),
  ];
}

export function auditBenchmarks(): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-'));
  try {
    return [appendRate(dir), ...verifyRate(dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
