import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseId } from '../../src-main/platform/db/database';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { chainHash, GENESIS_HASH } from '../../src-main/services/audit/audit-chain';
import { checkpointAccount } from '../../src-main/services/audit/audit-checkpoint';
import { AuditLog } from '../../src-main/services/audit/audit.service';
import { AuditRepository } from '../../src-main/platform/db/repositories/audit.repository';
import { walkInParallel } from '../../src-main/services/audit/parallel-walk';
import { DROP_APPEND_ONLY_TRIGGERS, sqlite } from '../fixtures/sqlite-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { testEvent } from '../fixtures/audit-events';

let t: TempCustodian;

beforeEach(() => {
  t = tempCustodian();
});
afterEach(async () => {
  await t.remove();
});

/** n rows in one transaction (one fsync), then the keychain anchor caught up. */
async function appendRows(n: number): Promise<void> {
  const { audit } = t.custodian;
  audit.transact(() => {
    for (let i = 0; i < n; i += 1) audit.append({ event: testEvent('test_event'), actor: 'alice@corp', subject: `req-${i}`, data: { n: i } });
  });
  await audit.settled();
}

const keychain = (): KeytarSecretStore => new KeytarSecretStore({ service: t.config.keychain.service, timeoutMs: 5000 });
const checkpoint = (): Promise<string | null> => keychain().get(checkpointAccount(databaseId(t.custodian.db)));
const setCheckpoint = (value: string): Promise<void> => keychain().set(checkpointAccount(databaseId(t.custodian.db)), value);
const hashAt = (id: number): string => t.custodian.db.prepare('SELECT hash FROM audit_log WHERE id = ?').pluck().get(id) as string;

describe('audit verification from a keychain checkpoint (issue 13, item 8)', () => {
  it('walks the whole log the first time, then only the rows appended since the last passing verification', async () => {
    await appendRows(6);
    await expect(t.custodian.audit.verifyIncremental()).resolves.toEqual({ ok: true, rows: 6, headId: 6, anchor: 'verified', from: 0 });
    expect(await checkpoint()).toBe(`6 ${hashAt(6)}`);
    await appendRows(3);
    await expect(t.custodian.audit.verifyIncremental()).resolves.toEqual({ ok: true, rows: 3, headId: 9, anchor: 'verified', from: 6 });
    await expect(t.custodian.audit.verifyIncremental()).resolves.toEqual({ ok: true, rows: 0, headId: 9, anchor: 'verified', from: 9 });
    // A full verification that passes moves it too.
    await appendRows(2);
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true, rows: 11 });
    expect(await checkpoint()).toBe(`11 ${hashAt(11)}`);
  });

  it('catches an edit after the checkpoint incrementally, at that row, and leaves the checkpoint where it was', async () => {
    await appendRows(6);
    await t.custodian.audit.verify();
    await appendRows(4);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 8;`);
    t.reopen();
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: false, firstBadId: 8, reason: 'hash-mismatch', from: 6 });
    expect(await checkpoint()).toBe(`6 ${hashAt(6)}`);
  });

  it('leaves an edit before the checkpoint (hash left as it was) to the full verification, which catches it', async () => {
    await appendRows(6);
    await t.custodian.audit.verify();
    await appendRows(2);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 3;`);
    t.reopen();
    // The documented limit: the rows after the checkpoint chain onto it, so the increment passes.
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: true, rows: 2, from: 6 });
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 3, reason: 'hash-mismatch' });
  });

  it('refuses a checkpoint when the chain was rewritten and rehashed under it', async () => {
    await appendRows(6);
    await t.custodian.audit.verify();
    const db = new BetterSqlite3(t.dbFile);
    db.exec(DROP_APPEND_ONLY_TRIGGERS);
    const rows = db.prepare('SELECT id, content FROM audit_log ORDER BY id').all() as { id: number; content: string }[];
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const content = row.id === 2 ? row.content.replace('alice@corp', 'mallory@corp') : row.content;
      const hash = chainHash(prev, content);
      db.prepare('UPDATE audit_log SET content = ?, prev_hash = ?, hash = ? WHERE id = ?').run(content, prev, hash, row.id);
      prev = hash;
    }
    db.close();
    t.reopen();
    await expect(t.custodian.audit.verifyIncremental()).resolves.toEqual({ ok: false, rows: 0, firstBadId: 6, reason: 'checkpoint-mismatch', from: 6 });
  });

  it('refuses a forged checkpoint (another hash, a row past the head, garbage) and takes a new one only from a full verification that passes', async () => {
    await appendRows(6);
    await t.custodian.audit.verify();
    await appendRows(2);
    // Pushed forward past rows never verified, with a hash that is not the row's.
    await setCheckpoint(`8 ${'a'.repeat(64)}`);
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: false, firstBadId: 8, reason: 'checkpoint-mismatch' });
    await setCheckpoint(`99 ${hashAt(8)}`);
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: false, firstBadId: 99, reason: 'checkpoint-mismatch' });
    await setCheckpoint('garbage');
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: false, reason: 'checkpoint-unreadable' });
    // A refused checkpoint is left alone: an incremental walk never blesses it.
    expect(await checkpoint()).toBe('garbage');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true, rows: 8 });
    expect(await checkpoint()).toBe(`8 ${hashAt(8)}`);
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: true, rows: 0, from: 8 });
  });

  it('keeps the anchor checks: rows cut off after the checkpoint are still found', async () => {
    await appendRows(6);
    await t.custodian.audit.verify();
    await appendRows(4);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} DELETE FROM audit_log WHERE id > 8;`);
    t.reopen();
    await expect(t.custodian.audit.verifyIncremental()).resolves.toMatchObject({ ok: false, firstBadId: 10, reason: 'head-missing', from: 6 });
  });
});

describe('the chain walk on worker threads', () => {
  // The worker is a built file (electron.vite.config.ts); `npm test` builds before it runs.
  const script = join(__dirname, '..', '..', 'out', 'main', 'audit-walk-worker.js');
  // Chunks of 500 rows: (0, 500], (500, 1000], ... (2500, 3000], so the boundaries are known. The
  // workers alone take them (no chunk on the main thread), so it is their walk that is checked.
  const workers = { script, threads: 3, minRows: 0, chunkRows: 500, mainThread: false };
  const parallel = (options: Partial<typeof workers> = {}): AuditLog => new AuditLog(t.custodian.db, t.clock, undefined, { walkers: { ...workers, ...options } });
  // The worker threads' own answer: how far the chunks verified and stitched.
  const onWorkers = (from = { id: 0, hash: GENESIS_HASH }) => walkInParallel(t.custodian.db, new AuditRepository(t.custodian.db), from, workers);

  it('vouches for an intact chain as the one-thread walk does, from the genesis and from a checkpoint', async () => {
    expect(existsSync(script), 'run npm run build first').toBe(true);
    await appendRows(3001);
    const serial = t.custodian.audit.verifyChain();
    await expect(onWorkers()).resolves.toEqual({ through: { id: 3001, hash: hashAt(3001) }, rows: 3001, complete: true });
    await expect(parallel().walkChain()).resolves.toEqual(serial);
    await expect(parallel({ mainThread: true }).walkChain()).resolves.toEqual(serial);
    const fromCheckpoint = { ok: true, rows: 2001, headId: 3001, headHash: hashAt(3001) };
    await expect(onWorkers({ id: 1000, hash: hashAt(1000) })).resolves.toEqual({ through: { id: 3001, hash: hashAt(3001) }, rows: 2001, complete: true });
    await expect(parallel().walkChain({ id: 1000, hash: hashAt(1000) })).resolves.toEqual(fromCheckpoint);
    // A start that is not the row's hash vouches for nothing: the one-thread walk finds the break.
    await expect(onWorkers({ id: 1000, hash: hashAt(999) })).resolves.toEqual({ through: { id: 1000, hash: hashAt(999) }, rows: 0, complete: false });
    await expect(parallel().walkChain({ id: 1000, hash: hashAt(999) })).resolves.toEqual({ ok: false, rows: 1, firstBadId: 1001, reason: 'link-broken' });
  });

  it.each([
    ['an edit in the last chunk', `UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 2900;`, 2500, { firstBadId: 2900, reason: 'hash-mismatch' }],
    ['an edit to the head, the last row of the last chunk', `UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 3000;`, 2500, { firstBadId: 3000, reason: 'hash-mismatch' }],
    ['an edit to the first row of a chunk', `UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 1501;`, 1500, { firstBadId: 1501, reason: 'hash-mismatch' }],
    ['an edit to the last row of a chunk', `UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 1500;`, 1000, { firstBadId: 1500, reason: 'hash-mismatch' }],
    ['a deleted row on a chunk boundary', 'DELETE FROM audit_log WHERE id = 1000;', 500, { firstBadId: 1001, reason: 'sequence-gap' }],
    ['a deleted first row of a chunk', 'DELETE FROM audit_log WHERE id = 1001;', 1000, { firstBadId: 1002, reason: 'sequence-gap' }],
    ['a stored hash replaced on a chunk boundary (the next chunk starts from it)', `UPDATE audit_log SET hash = '${'b'.repeat(64)}' WHERE id = 2500;`, 2000, { firstBadId: 2500, reason: 'hash-mismatch' }],
    ['a link replaced on the first row of a chunk', `UPDATE audit_log SET prev_hash = '${'c'.repeat(64)}' WHERE id = 501;`, 500, { firstBadId: 501, reason: 'link-broken' }],
    ['a row slipped in below the first', `INSERT INTO audit_log (id, content, prev_hash, hash) SELECT 0, content, prev_hash, hash FROM audit_log WHERE id = 1;`, 0, { firstBadId: 0, reason: 'sequence-gap' }],
  ])('names the first bad row exactly as the one-thread walk does: %s', async (_name, sql, vouchedThrough, expected) => {
    await appendRows(3000);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} ${sql}`);
    t.reopen();
    // The workers vouch for the chunks before the faulty one, and no further.
    await expect(onWorkers()).resolves.toMatchObject({ through: { id: vouchedThrough }, rows: vouchedThrough, complete: false });
    const serial = t.custodian.audit.verifyChain();
    expect(serial).toMatchObject({ ok: false, ...expected });
    // The one-thread walk takes over there: the verdict, row count included, is the same.
    await expect(parallel().walkChain()).resolves.toEqual(serial);
    await expect(parallel({ mainThread: true }).walkChain()).resolves.toEqual(serial);
    await expect(parallel({ mainThread: true, chunkRows: 16_384 }).walkChain()).resolves.toEqual(serial);
  });

  it('walks on one thread when the worker cannot start', async () => {
    await appendRows(100);
    for (const mainThread of [true, false]) {
      const broken = new AuditLog(t.custodian.db, t.clock, undefined, { walkers: { script: join(t.dir, 'missing.js'), threads: 2, minRows: 0, chunkRows: 10, mainThread } });
      await expect(broken.walkChain()).resolves.toEqual({ ok: true, rows: 100, headId: 100, headHash: hashAt(100) });
    }
  });
});
