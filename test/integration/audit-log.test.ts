import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../src-shared/errors';
import { databaseId } from '../../src-main/platform/db/database';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import type { SecretStore } from '../../src-main/platform/keychain/secret-store';
import { anchorAccount, LEGACY_ANCHOR_ACCOUNT } from '../../src-main/services/audit/audit-anchor';
import { chainHash, GENESIS_HASH } from '../../src-main/services/audit/audit-chain';
import { DROP_APPEND_ONLY_TRIGGERS, sqlite } from '../fixtures/sqlite-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { testEvent } from '../fixtures/audit-events';

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
    t.custodian.audit.record({ event: testEvent('test_event'), actor: 'alice@corp', subject: `req-${i}`, sourceIp: '10.0.0.7', data: { n: i } });
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
    expect(() => t.custodian.audit.record({ event: testEvent('x'), actor: 'a', data: { totpSecret: 'JBSWY3DP' } })).toThrow(
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

  it('fails, not verified, when the keychain does not answer', async () => {
    await appendRows(2);
    const locked = tempCustodian({ secrets: lockedKeychain });
    locked.custodian.audit.record({ event: testEvent('x'), actor: 'a' });
    await expect(locked.custodian.audit.verify()).resolves.toEqual({
      ok: false,
      rows: 1,
      firstBadId: 1,
      reason: 'anchor-unavailable',
      headId: 1,
      anchoredId: null,
    });
    expect(locked.custodian.audit.anchorWriteState()).toBe('failing');
    // An empty log out of the keychain's reach is not vouched for either: it may have been emptied.
    const empty = tempCustodian({ secrets: lockedKeychain });
    await expect(empty.custodian.audit.verify()).resolves.toMatchObject({ ok: false, reason: 'anchor-unavailable' });
    await empty.remove();
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
      audit.append({ event: testEvent('outer_before'), actor: 'a' });
      try {
        audit.transact(() => {
          audit.append({ event: testEvent('inner'), actor: 'a' });
          throw new AppError('ERR-VALIDATION', { field: 'x' });
        });
      } catch {
        // The inner change is refused; the outer one carries on.
      }
      audit.append({ event: testEvent('outer_after'), actor: 'a' });
    });
    expect(audit.list(10).entries.map((e) => e.event)).toEqual(['outer_after', 'outer_before']);
    await expect(audit.verify()).resolves.toMatchObject({ ok: true, rows: 2 });
  });
});

describe('a change with its audit row (recordChange, issue 10)', () => {
  it('commits both, writes no row for a change that found nothing to do, and rolls both back on a throw', () => {
    const { audit, db } = t.custodian;
    const put = db.prepare("INSERT INTO settings (key, value) VALUES (?, 'x')");
    const rows = () => audit.list(10).entries.map((e) => e.subject);
    const settings = () => db.prepare("SELECT key FROM settings WHERE key LIKE 'k%' ORDER BY key").pluck().all();

    expect(audit.recordChange({ event: testEvent('changed'), actor: 'a', subject: 'k1' }, () => put.run('k1').changes)).toBe(1);
    expect(audit.recordChange({ event: testEvent('changed'), actor: 'a', subject: 'k2' }, () => false)).toBe(false);
    expect(() =>
      audit.recordChange({ event: testEvent('changed'), actor: 'a', subject: 'k3' }, () => {
        put.run('k3');
        throw new AppError('ERR-NOT-FOUND');
      }),
    ).toThrow(AppError);
    expect(rows()).toEqual(['k1']);
    expect(settings()).toEqual(['k1']);
  });
});

/** A real keychain that a test can take away, for writes only or for everything, and give back. */
function switchableKeychain(service: string): { secrets: SecretStore; readsOff(): void; writesOff(): void; allOn(): void } {
  const real = new KeytarSecretStore({ service, timeoutMs: 5000 });
  let reads = true;
  let writes = true;
  return {
    secrets: {
      get: (account) => (reads ? real.get(account) : unavailable()),
      set: (account, secret) => (writes ? real.set(account, secret) : unavailable()),
      delete: (account) => (writes ? real.delete(account) : unavailable()),
      probe: () => (reads && writes ? real.probe() : unavailable()),
    },
    readsOff: () => {
      reads = false;
      writes = false;
    },
    writesOff: () => {
      writes = false;
    },
    allOn: () => {
      reads = true;
      writes = true;
    },
  };
}

describe('the keychain anchor', () => {
  const account = (): string => anchorAccount(databaseId(t.custodian.db));
  const keychain = (): KeytarSecretStore => new KeytarSecretStore({ service: t.config.keychain.service, timeoutMs: 5000 });

  it('lets an empty log have no anchor, and anchors the first row', async () => {
    await expect(t.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 0, headId: null, anchor: 'empty' });
    await appendRows(1);
    expect(await keychain().get(account())).toBe(`1 ${t.custodian.audit.head()!.hash}`);
    await expect(t.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 1, headId: 1, anchor: 'verified' });
  });

  it('fails when the anchor is deleted with rows present, and the next commit does not re-anchor', async () => {
    await appendRows(3);
    await keychain().delete(account());
    await expect(t.custodian.audit.verify()).resolves.toEqual({
      ok: false,
      rows: 3,
      firstBadId: 1,
      reason: 'anchor-missing',
      headId: 3,
      anchoredId: null,
    });
    // A new process on the same files (the app restarted after the tamper) commits a row.
    reopen();
    await appendRows(1);
    expect(await keychain().get(account())).toBeNull();
    expect(t.custodian.audit.anchorWriteState()).toBe('refused');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, reason: 'anchor-missing' });
  });

  it('does not re-anchor even in the process that anchored the log from its first row', async () => {
    await appendRows(2);
    await keychain().delete(account());
    await appendRows(1);
    expect(await keychain().get(account())).toBeNull();
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, reason: 'anchor-missing' });
  });

  it('fails on a garbled anchor and never overwrites it', async () => {
    await appendRows(3);
    await keychain().set(account(), 'not an anchor');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 1, reason: 'anchor-unreadable' });
    await appendRows(1);
    expect(await keychain().get(account())).toBe('not an anchor');
    expect(t.custodian.audit.anchorWriteState()).toBe('refused');
  });

  it('does not move the anchor past a log that was rewritten under it', async () => {
    await appendRows(3);
    const anchored = await keychain().get(account());
    const db = new BetterSqlite3(t.dbFile);
    db.exec(DROP_APPEND_ONLY_TRIGGERS);
    const rows = db.prepare('SELECT id, content FROM audit_log ORDER BY id').all() as { id: number; content: string }[];
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const content = row.content.replace('alice@corp', 'mallory@corp');
      const hash = chainHash(prev, content);
      db.prepare('UPDATE audit_log SET content = ?, prev_hash = ?, hash = ? WHERE id = ?').run(content, prev, hash, row.id);
      prev = hash;
    }
    db.close();
    reopen();
    await appendRows(2);
    expect(await keychain().get(account())).toBe(anchored);
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: false, firstBadId: 3, reason: 'anchor-mismatch' });
  });

  it('says "anchored at #N of M" while writes fail, and catches up once the keychain takes them', async () => {
    const k = switchableKeychain(t.config.keychain.service);
    const app = tempCustodian({ secrets: k.secrets });
    try {
      for (let i = 0; i < 2; i += 1) app.custodian.audit.record({ event: testEvent('test_event'), actor: 'alice@corp' });
      await app.custodian.audit.settled();
      k.writesOff();
      for (let i = 0; i < 5; i += 1) app.custodian.audit.record({ event: testEvent('test_event'), actor: 'alice@corp' });
      await app.custodian.audit.settled();
      expect(app.custodian.audit.anchorWriteState()).toBe('failing');
      // What `custodian audit verify` in another process sees meanwhile: the anchor lags.
      const other = tempCustodian({ dir: app.dir, secrets: k.secrets });
      await expect(other.custodian.audit.verify()).resolves.toEqual({
        ok: false,
        rows: 7,
        firstBadId: 3,
        reason: 'anchor-lagging',
        headId: 7,
        anchoredId: 2,
      });
      await other.close();

      k.allOn();
      // The shared tick retries the failed write; no new commit is needed.
      app.clock.advanceSeconds(5);
      app.custodian.tick();
      await app.custodian.audit.settled();
      expect(app.custodian.audit.anchorWriteState()).toBe('ok');
      await expect(app.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 7, headId: 7, anchor: 'verified' });
    } finally {
      await app.remove();
    }
  });

  it('keeps one anchor per database: two data directories on one keychain service each verify', async () => {
    const service = t.config.keychain.service;
    const a = tempCustodian({ secrets: new KeytarSecretStore({ service, timeoutMs: 5000 }) });
    const b = tempCustodian({ secrets: new KeytarSecretStore({ service, timeoutMs: 5000 }) });
    try {
      for (let i = 0; i < 4; i += 1) {
        a.custodian.audit.record({ event: testEvent('in_a'), actor: 'alice@corp', data: { n: i } });
        b.custodian.audit.record({ event: testEvent('in_b'), actor: 'bob@corp', data: { n: i } });
      }
      a.custodian.audit.record({ event: testEvent('in_a'), actor: 'alice@corp' });
      await Promise.all([a.custodian.audit.settled(), b.custodian.audit.settled()]);
      expect(databaseId(a.custodian.db)).not.toBe(databaseId(b.custodian.db));
      await expect(a.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 5, headId: 5, anchor: 'verified' });
      await expect(b.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 4, headId: 4, anchor: 'verified' });
    } finally {
      await a.remove();
      await b.remove();
    }
  });

  it('adopts the shared anchor of an older version only when it vouches for this very log', async () => {
    await appendRows(3);
    const head = t.custodian.audit.head()!;
    // As an older version left things: one `audit:head` for the service, nothing per database.
    await keychain().delete(account());
    await keychain().set(LEGACY_ANCHOR_ACCOUNT, `${head.id} ${head.hash}`);
    const other = tempCustodian({ secrets: new KeytarSecretStore({ service: t.config.keychain.service, timeoutMs: 5000 }) });
    try {
      other.custodian.audit.record({ event: testEvent('elsewhere'), actor: 'bob@corp' });
      await other.custodian.audit.settled();
      // Another database on the same service leaves it alone: it does not vouch for that log.
      expect(await keychain().get(LEGACY_ANCHOR_ACCOUNT)).toBe(`${head.id} ${head.hash}`);

      reopen();
      await expect(t.custodian.audit.verify()).resolves.toEqual({ ok: true, rows: 3, headId: 3, anchor: 'verified' });
      expect(await keychain().get(account())).toBe(`${head.id} ${head.hash}`);
      expect(await keychain().get(LEGACY_ANCHOR_ACCOUNT)).toBeNull();
    } finally {
      await other.remove();
    }
  });

  it('re-anchors only on the administrator’s explicit, audited request, and never over a broken chain', async () => {
    await appendRows(3);
    await keychain().delete(account());
    const result = await t.custodian.audit.reanchor('cli:root');
    expect(result).toMatchObject({ changed: true, previous: 'anchor-missing', verification: { ok: true, rows: 4, anchor: 'verified' } });
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({
      id: 4,
      event: 'audit_reanchored',
      actor: 'cli:root',
      data: { previous: 'anchor-missing', previousId: null, rows: 3 },
    });
    await expect(t.custodian.audit.reanchor('cli:root')).resolves.toMatchObject({ changed: false, verification: { ok: true } });

    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[3]', 'mallory') WHERE id = 2;`);
    reopen();
    await keychain().delete(account());
    await expect(t.custodian.audit.reanchor('cli:root')).resolves.toMatchObject({
      changed: false,
      verification: { ok: false, firstBadId: 2, reason: 'hash-mismatch' },
    });
    expect(await keychain().get(account())).toBeNull();
  });
});

describe('the anchor when two processes write it at once', () => {
  /**
   * The keychain has no compare-and-set. Process A read the anchor and is writing head 13 while
   * process B commits 14 and anchors it; A's write lands last. Before, the anchor was left at 13,
   * and `audit verify` said "anchored at #13 of 14" (a flaky CI run found it).
   */
  it('ends at the log’s head, whichever write lands last', async () => {
    const { AuditAnchor } = await import('../../src-main/services/audit/audit-anchor');
    const { AuditLog } = await import('../../src-main/services/audit/audit.service');
    const { openDatabase } = await import('../../src-main/platform/db/database');
    const store = new Map<string, string>();
    let release: (() => void) | undefined;
    const shared: SecretStore = {
      get: (account) => Promise.resolve(store.get(account) ?? null),
      set: (account, value) => {
        store.set(account, value);
        return Promise.resolve();
      },
      delete: (account) => Promise.resolve(store.delete(account)),
      probe: () => Promise.resolve(),
    };
    // A's keychain takes the value now but stores it only when released: a slow write.
    const slow: SecretStore = {
      ...shared,
      set: (account, value) =>
        new Promise<void>((resolve) => {
          release = () => {
            store.set(account, value);
            resolve();
          };
        }),
    };
    const a = openDatabase({ file: t.dbFile, synchronous: 'FULL' });
    const b = openDatabase({ file: t.dbFile, synchronous: 'FULL' });
    const logA = new AuditLog(a, t.clock);
    const logB = new AuditLog(b, t.clock);
    for (let i = 0; i < 3; i += 1) logA.record({ event: testEvent('x'), actor: 'a' });
    const account = anchorAccount(databaseId(a));
    const headOf = (log: InstanceType<typeof AuditLog>) => log.head() as { id: number; hash: string };
    store.set(account, `${headOf(logA).id} ${headOf(logA).hash}`);

    logA.record({ event: testEvent('x'), actor: 'a' });
    const anchorA = new AuditAnchor(slow, a);
    const writing = anchorA.advance(headOf(logA), false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(release).toBeDefined();

    logB.record({ event: testEvent('x'), actor: 'b' });
    await new AuditAnchor(shared, b).advance(headOf(logB), false);
    expect(store.get(account)).toBe(`${headOf(logB).id} ${headOf(logB).hash}`);

    // A's late write lands (the anchor goes back to 13 for a moment); A then looks at the log
    // again and writes the head it finds, through the same slow keychain.
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    release?.();
    await writing;
    expect(store.get(account)).toBe(`${headOf(logB).id} ${headOf(logB).hash}`);
    a.close();
    b.close();
  });
});

describe('verifying while this process commits (issue 13)', () => {
  /**
   * A group commit on the tick may land while `verify` waits for the keychain to read the anchor:
   * its rows are then past the anchor read, with their own anchor write on its way. Before, the
   * Audit screen said "anchor lagging" for a moment (the IPC fuzzing found it).
   */
  it('looks again before calling a fresh commit unvouched', async () => {
    const { AuditAnchor } = await import('../../src-main/services/audit/audit-anchor');
    const { AuditLog } = await import('../../src-main/services/audit/audit.service');
    const { openDatabase } = await import('../../src-main/platform/db/database');
    const store = new Map<string, string>();
    let duringRead: (() => void) | undefined;
    const secrets: SecretStore = {
      get: (account) => {
        const value = store.get(account) ?? null;
        // The commit lands after the value was read, before the walk.
        duringRead?.();
        duringRead = undefined;
        return Promise.resolve(value);
      },
      set: (account, value) => {
        store.set(account, value);
        return Promise.resolve();
      },
      delete: (account) => Promise.resolve(store.delete(account)),
      probe: () => Promise.resolve(),
    };
    const db = openDatabase({ file: t.dbFile, synchronous: 'FULL' });
    const log = new AuditLog(db, t.clock, new AuditAnchor(secrets, db));
    for (let i = 0; i < 3; i += 1) log.record({ event: testEvent('x'), actor: 'a' });
    await log.settled();
    duringRead = () => log.record({ event: testEvent('x'), actor: 'a' });
    await expect(log.verify()).resolves.toMatchObject({ ok: true, anchor: 'verified' });
    expect(duringRead).toBeUndefined();
    db.close();
  });
});
