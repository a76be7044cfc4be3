import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors';
import { GroupCommit } from '../../src-main/services/audit/group-commit';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { testEvent } from '../fixtures/audit-events';

let t: TempCustodian;
let group: GroupCommit;
let flushes: (() => void)[];
let outermostTransactions: number;

beforeEach(() => {
  t = tempCustodian();
  flushes = [];
  // The test decides when the event loop "turns": a flush runs only when the test calls it.
  group = new GroupCommit(t.custodian.audit, (flush) => flushes.push(flush));
  outermostTransactions = 0;
  const { audit, db } = t.custodian;
  const transact = audit.transact.bind(audit);
  audit.transact = <T>(fn: () => T): T => {
    if (!db.inTransaction) outermostTransactions += 1;
    return transact(fn);
  };
});
afterEach(async () => {
  await t.remove();
});

function write(name: string): () => string {
  return () => {
    t.custodian.audit.append({ event: testEvent('test_event'), actor: 'alice@corp', subject: name });
    return name;
  };
}

const subjects = (): string[] => t.custodian.audit.list(100).entries.map((e) => e.subject ?? '').reverse();

describe('group commit of awaited writes', () => {
  it('commits a burst in one transaction and answers each caller only after it', async () => {
    const answered: string[] = [];
    const burst = ['a', 'b', 'c'].map((name) => group.commit(write(name)).then((value) => answered.push(value)));
    expect(flushes).toHaveLength(1);
    // Nothing is durable yet, so nobody has been answered.
    await Promise.resolve();
    expect(subjects()).toEqual([]);
    expect(answered).toEqual([]);
    flushes[0]?.();
    await Promise.all(burst);
    expect(outermostTransactions).toBe(1);
    expect(answered).toEqual(['a', 'b', 'c']);
    // A second connection, as another process, sees all three rows in order with an intact chain.
    const other = new BetterSqlite3(t.dbFile, { readonly: true });
    expect(other.prepare('SELECT COUNT(*) AS n FROM audit_log').get()).toEqual({ n: 3 });
    other.close();
    expect(subjects()).toEqual(['a', 'b', 'c']);
    expect(t.custodian.audit.verifyChain()).toMatchObject({ ok: true, rows: 3 });
  });

  it('refuses only the write that threw; the rest of its batch commits', async () => {
    const refused = group.commit(() => {
      write('doomed')();
      throw new AppError('ERR-VALIDATION', { field: 'x' });
    });
    const kept = group.commit(write('kept'));
    flushes[0]?.();
    await expect(refused).rejects.toMatchObject({ code: 'ERR-VALIDATION' });
    await expect(kept).resolves.toBe('kept');
    expect(subjects()).toEqual(['kept']);
    expect(t.custodian.audit.verifyChain()).toMatchObject({ ok: true, rows: 1 });
  });

  it('refuses every caller of a batch that cannot commit, and stays usable (nothing was promised)', async () => {
    // Another process holds the write lock longer than this one will wait for it.
    const other = new BetterSqlite3(t.dbFile);
    other.exec('BEGIN IMMEDIATE');
    t.custodian.db.pragma('busy_timeout = 20');
    const burst = [group.commit(write('x')), group.commit(write('y'))];
    flushes[0]?.();
    for (const refused of burst) await expect(refused).rejects.toMatchObject({ code: 'ERR-AUDIT-UNAVAILABLE' });
    other.exec('ROLLBACK');
    other.close();
    expect(subjects()).toEqual([]);
    expect(() => group.assertHealthy()).not.toThrow();
    const again = group.commit(write('z'));
    flushes[1]?.();
    await expect(again).resolves.toBe('z');
    expect(subjects()).toEqual(['z']);
  });

  it('fails closed while a batch owes a fire-and-forget write it had promised, and writes it once the database takes writes again', async () => {
    const other = new BetterSqlite3(t.dbFile);
    other.exec('BEGIN IMMEDIATE');
    t.custodian.db.pragma('busy_timeout = 20');
    group.enqueue(write('attempt'));
    const awaited = group.commit(write('request'));
    // A flush from the event loop has no caller to throw to: it must not crash the process.
    expect(() => flushes[0]?.()).not.toThrow();
    await expect(awaited).rejects.toMatchObject({ code: 'ERR-AUDIT-UNAVAILABLE' });
    // Still locked: every caller is refused, and the owed row stays owed.
    expect(() => group.assertHealthy()).toThrow(expect.objectContaining({ code: 'ERR-AUDIT-UNAVAILABLE' }));
    expect(() => group.commit(write('later'))).toThrow(expect.objectContaining({ code: 'ERR-AUDIT-UNAVAILABLE' }));
    other.exec('ROLLBACK');
    other.close();
    // Issue 13, item 3: no restart. The next caller writes what was owed first, then goes on.
    expect(() => group.assertHealthy()).not.toThrow();
    expect([...t.custodian.audit.export()].map((e) => e.subject)).toContain('attempt');
  });
});
