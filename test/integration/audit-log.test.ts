import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../src-shared/errors';
import type { SecretStore } from '../../src-main/platform/keychain/secret-store';
import { chainHash, GENESIS_HASH } from '../../src-main/services/audit/audit-chain';
import { DROP_APPEND_ONLY_TRIGGERS, sqlite } from '../fixtures/sqlite-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

let t: TempCustodian;

const unavailable = (): Promise<never> => Promise.reject(new AppError('ERR-KEYCHAIN-UNAVAILABLE'));
const lockedKeychain: SecretStore = { get: unavailable, set: unavailable, delete: unavailable, probe: unavailable };

beforeEach(() => {
  t = tempCustodian();
});
afterEach(async () => {
  await t.remove();
});

async function appendRows(n: number): Promise<void> {
  for (let i = 1; i <= n; i += 1) {
    t.custodian.audit.record({ event: 'test_event', actor: 'alice@corp', subject: `req-${i}`, sourceIp: '10.0.0.7', data: { n: i } });
    t.clock.advanceSeconds(1);
  }
  // The keychain anchor follows each commit asynchronously; tampering starts after it caught up.
  await t.custodian.audit.settled();
}

function reopen(): void {
  // Verification after an outside edit reads the file afresh, as the CLI would.
  t.reopen();
}

describe('the audit log on a real SQLite file', () => {
  it('chains appended rows and masks the source', async () => {
    await appendRows(3);
    await expect(t.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 3, headId: 3, anchor: 'verified' });
    const { entries, total } = t.custodian.audit.list(10);
    expect(total).toBe(3);
    expect(entries.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(entries[0]).toMatchObject({ event: 'test_event', source: '10.0.0.x', ts: '2026-11-24T09:00:02.000Z', data: { n: 3 } });
  });

  it('commits a change and its audit row together, or neither', async () => {
    expect(() =>
      t.custodian.audit.transact(() => {
        t.custodian.db.prepare("INSERT INTO settings (key, value) VALUES ('k', 'v')").run();
        t.custodian.audit.append({ event: 'settings_changed', actor: 'alice@corp' });
        throw new AppError('ERR-VALIDATION', { field: 'x' });
      }),
    ).toThrow(AppError);
    expect(t.custodian.db.prepare("SELECT COUNT(*) AS n FROM settings WHERE key = 'k'").get()).toEqual({ n: 0 });
    expect(t.custodian.audit.head()).toBeNull();
  });

  it('refuses the change when the audit row cannot be written (fail closed)', async () => {
    await appendRows(1);
    // A full disk or a broken log looks like this to the service: the insert fails.
    sqlite(t.dbFile, "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    reopen();
    expect(() => t.custodian.settings.setLanguage('tr', 'alice@corp')).toThrow(expect.objectContaining({ code: 'ERR-AUDIT-UNAVAILABLE' }));
    expect(t.custodian.settings.get().language).toBe('en');
  });

  it('refuses a secret-looking field in an audit row', async () => {
    expect(() => t.custodian.audit.record({ event: 'x', actor: 'a', data: { totpSecret: 'JBSWY3DP' } })).toThrow(
      expect.objectContaining({ code: 'ERR-INTERNAL' }),
    );
    expect(t.custodian.audit.head()).toBeNull();
  });

  it('cannot be updated or deleted through SQL while its triggers stand', async () => {
    await appendRows(2);
    expect(() => sqlite(t.dbFile, "UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 1;")).toThrow(/append-only/);
    expect(() => sqlite(t.dbFile, 'DELETE FROM audit_log WHERE id = 2;')).toThrow(/append-only/);
  });

  it('detects a row edited with the sqlite3 command line, at that row', async () => {
    await appendRows(6);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 4;`);
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 4, reason: 'hash-mismatch' });
  });

  it('detects an edit to a row’s data', async () => {
    await appendRows(3);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[7].n', 99) WHERE id = 2;`);
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 2 });
  });

  it('detects a deleted row, at the row after it', async () => {
    await appendRows(6);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} DELETE FROM audit_log WHERE id = 3;`);
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 4, reason: 'sequence-gap' });
  });

  it('detects a deleted row even when the ids are renumbered to hide the gap', async () => {
    await appendRows(6);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} DELETE FROM audit_log WHERE id = 3; UPDATE audit_log SET id = id - 1 WHERE id > 3;`);
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 3, reason: 'link-broken' });
  });

  it('detects two rows swapped, at the first of them', async () => {
    await appendRows(6);
    sqlite(
      t.dbFile,
      `${DROP_APPEND_ONLY_TRIGGERS}
       UPDATE audit_log SET id = -2 WHERE id = 2;
       UPDATE audit_log SET id = 2 WHERE id = 5;
       UPDATE audit_log SET id = 5 WHERE id = -2;`,
    );
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 2 });
  });

  it('detects rows cut off the end, against the head anchored in the keychain', async () => {
    await appendRows(6);
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} DELETE FROM audit_log WHERE id > 4;`);
    reopen();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 6, reason: 'head-missing' });
  });

  it('detects a chain rewritten and rehashed whole, against the anchor', async () => {
    await appendRows(6);
    // An attacker with the file and this code: edit row 2, then recompute every hash after it.
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
    reopen();
    expect(t.custodian.audit.verifyChain()).toMatchObject({ ok: true, rows: 6 });
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 6, reason: 'anchor-mismatch' });
  });

  it('says the anchor is unavailable, not verified, when the keychain does not answer', async () => {
    await appendRows(2);
    const locked = tempCustodian({ secrets: lockedKeychain });
    locked.custodian.audit.record({ event: 'x', actor: 'a' });
    await expect(locked.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 1, headId: 1, anchor: 'unavailable' });
    await locked.remove();
  });

  it('keeps verifying as intact after a clean reopen', async () => {
    await appendRows(4);
    reopen();
    await appendRows(2);
    await expect(t.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 6, headId: 6, anchor: 'verified' });
  });
});

describe('nested audited changes', () => {
  it('keep the chain whole when an inner change rolls back and the outer one goes on', async () => {
    const { audit } = t.custodian;
    audit.transact(() => {
      audit.append({ event: 'outer_before', actor: 'a' });
      try {
        audit.transact(() => {
          audit.append({ event: 'inner', actor: 'a' });
          throw new AppError('ERR-VALIDATION', { field: 'x' });
        });
      } catch {
        // The inner change is refused; the outer one carries on.
      }
      audit.append({ event: 'outer_after', actor: 'a' });
    });
    expect(audit.list(10).entries.map((e) => e.event)).toEqual(['outer_after', 'outer_before']);
    await expect(audit.verify()).resolves.toMatchObject({ ok: true, rows: 2 });
  });
});
