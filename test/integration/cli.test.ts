import { createServer, type Server } from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { DROP_APPEND_ONLY_TRIGGERS, sqlite } from '../fixtures/sqlite-cli';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { migrations } from '../../src-main/platform/db/migrations';
import { testEvent } from '../fixtures/audit-events';

// These run the built bin (npm test builds first) against a data directory the test filled.
let t: TempCustodian;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  t = tempCustodian({ clock: 'following' });
  for (let i = 0; i < 5; i += 1) t.custodian.audit.record({ event: testEvent('test_event'), actor: 'alice@corp', data: { n: i } });
  await t.close();
  env = {
    CUSTODIAN_DATA_DIR: t.dir,
    CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service,
    CUSTODIAN_GATEWAY_PORT: String(20000 + Math.floor(Math.random() * 20000)),
  };
});
afterEach(async () => {
  await t.remove();
});

describe('custodian audit', () => {
  it('verify exits 0 on an intact chain', () => {
    const run = runCli(['audit', 'verify'], env);
    expect(run.stdout).toBe('audit chain intact: 5 rows, head #5; the head matches the one anchored in the keychain\n');
    expect(run.status).toBe(0);
  });

  it('verify exits 1 when the keychain cannot vouch for the head', () => {
    const run = runCli(['audit', 'verify'], { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    expect(run.stdout).toContain('audit chain intact: 5 rows, head #5; The system keychain is unavailable.');
    expect(run.status).toBe(1);
  });

  it('verify names the row the anchor vouched for when rows were cut off the end', () => {
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} DELETE FROM audit_log WHERE id = 5;`);
    const run = runCli(['audit', 'verify'], env);
    expect(run.stdout).toContain('broken at row #5 (head-missing)');
    expect(run.status).toBe(1);
  });

  it('verify names the first bad row and exits 1 after a tamper', () => {
    sqlite(t.dbFile, `${DROP_APPEND_ONLY_TRIGGERS} UPDATE audit_log SET content = json_set(content, '$[2]', 'nothing_happened') WHERE id = 3;`);
    const run = runCli(['audit', 'verify'], env);
    expect(run.stdout).toContain('broken at row #3');
    expect(run.status).toBe(1);
    const json = runCli(['audit', 'verify', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, rows: 3, firstBadId: 3, reason: 'hash-mismatch' });
  });

  describe('against the keychain anchor', () => {
    // The anchor's accounts: this database's own, and the one older versions shared.
    const accounts = (): string[] => {
      const db = new BetterSqlite3(t.dbFile, { readonly: true });
      const id = db.prepare("SELECT value FROM settings WHERE key = 'database.id'").pluck().get() as string | undefined;
      db.close();
      return id ? [`audit:head:${id}`, 'audit:head'] : ['audit:head'];
    };
    const keychain = (): KeytarSecretStore => new KeytarSecretStore({ service: t.config.keychain.service, timeoutMs: 5000 });

    it('verify exits 1 when the anchor was deleted with rows present', async () => {
      for (const account of accounts()) await keychain().delete(account);
      const run = runCli(['audit', 'verify'], env);
      expect(run.stdout).toContain('audit chain intact: 5 rows, head #5; but this database has no anchor in the keychain');
      expect(run.stdout).toContain('custodian audit reanchor');
      expect(run.status).toBe(1);
      expect(JSON.parse(runCli(['audit', 'verify', '--json'], env).stdout)).toMatchObject({ ok: false, reason: 'anchor-missing', firstBadId: 1 });
    });

    it('verify exits 1 when the anchor was garbled', async () => {
      for (const account of accounts()) await keychain().set(account, 'garbage');
      const run = runCli(['audit', 'verify'], env);
      expect(run.stdout).toContain('the keychain anchor for this database is unreadable');
      expect(run.status).toBe(1);
    });

    it('verify --incremental walks from the checkpoint the last passing verification left, and refuses a forged one', async () => {
      const intact = 'audit chain intact: 5 rows, head #5; the head matches the one anchored in the keychain';
      expect(runCli(['audit', 'verify', '--incremental'], env)).toMatchObject({ status: 0, stdout: `no checkpoint yet, the whole log walked: ${intact}\n` });
      const again = runCli(['audit', 'verify', '--incremental', '--json'], env);
      expect(JSON.parse(again.stdout)).toEqual({ ok: true, rows: 0, headId: 5, anchor: 'verified', from: 5 });
      const checkpoint = (accounts()[0] ?? '').replace('audit:head:', 'audit:checkpoint:');
      await keychain().set(checkpoint, `5 ${'f'.repeat(64)}`);
      const forged = runCli(['audit', 'verify', '--incremental'], env);
      expect(forged.stdout).toContain('audit checkpoint refused: it names row #5, which the log no longer holds with that hash');
      expect(forged.status).toBe(1);
      // The full walk still passes, and sets the checkpoint right.
      expect(runCli(['audit', 'verify'], env).status).toBe(0);
      expect(runCli(['audit', 'verify', '--incremental'], env)).toMatchObject({ status: 0, stdout: `from the checkpoint at row #5: ${intact.replace('5 rows', '0 rows')}\n` });
    });

    it('verify says "anchored at #N of M" and exits 1 when the anchor lags the head', async () => {
      const db = new BetterSqlite3(t.dbFile, { readonly: true });
      const third = db.prepare('SELECT hash FROM audit_log WHERE id = 3').pluck().get() as string;
      db.close();
      for (const account of accounts()) await keychain().set(account, `3 ${third}`);
      const run = runCli(['audit', 'verify'], env);
      expect(run.stdout).toBe(
        'audit chain intact: 5 rows, head #5; anchored at #3 of 5: rows after #3 are not vouched for by the keychain (its writes failed or have not caught up)\n',
      );
      expect(run.status).toBe(1);
      const doctor = runCli(['doctor'], env);
      expect(doctor.stdout).toMatch(/FAIL\s+audit-anchor\s+audit chain intact: 5 rows, head #5; anchored at #3 of 5/);
      expect(doctor.status).toBe(1);
    });

    it('reanchor anchors the head after a deletion, records it, and verify passes again', async () => {
      for (const account of accounts()) await keychain().delete(account);
      const run = runCli(['audit', 'reanchor'], env);
      expect(run.stdout).toBe(
        're-anchored (the keychain held: anchor-missing); audit chain intact: 6 rows, head #6; the head matches the one anchored in the keychain\n',
      );
      expect(run.status).toBe(0);
      const last = JSON.parse(runCli(['audit', 'export'], env).stdout.trim().split('\n').at(-1)!) as { event: string; actor: string };
      expect(last).toMatchObject({ event: 'audit_reanchored', actor: expect.stringMatching(/^cli:/) });
      expect(runCli(['audit', 'verify'], env).status).toBe(0);
    });
  });

  it('head prints the latest id and hash; export prints one JSON line per row', () => {
    const head = runCli(['audit', 'head'], env);
    expect(head.stdout).toMatch(/^5 [0-9a-f]{64}\n$/);
    const lines = runCli(['audit', 'export'], env).stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4] ?? '')).toMatchObject({ id: 5, event: 'test_event', hash: head.stdout.split(' ')[1]?.trim() });
  });
});

describe('custodian doctor', () => {
  it('reports the keychain, database, audit anchor and port as OK and exits 0', () => {
    const run = runCli(['doctor'], env);
    expect(run.stdout).toMatch(/OK\s+keychain/);
    expect(run.stdout).toMatch(/OK\s+audit-anchor\s+audit chain intact: 5 rows, head #5; the head matches/);
    expect(run.stdout).toMatch(new RegExp(`OK\\s+database .*schema v${migrations.at(-1)?.version}, wal, 5 audit rows`));
    expect(run.stdout).toMatch(/OK\s+gateway-port/);
    expect(run.status).toBe(0);
  });

  it('fails closed on a keychain it cannot reach, says why, and exits 1', () => {
    const run = runCli(['doctor', '--json'], { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; ok: boolean; code?: string; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'keychain')).toMatchObject({
      ok: false,
      code: 'ERR-KEYCHAIN-UNAVAILABLE',
      detail: expect.stringContaining('keychain is unavailable'),
    });
    expect(run.stdout).not.toContain('/nonexistent');
    expect(run.status).toBe(1);
  });

  describe('with the gateway port taken', () => {
    let blocker: Server;
    beforeEach(async () => {
      blocker = createServer((socket) => socket.resume());
      await new Promise<void>((resolve) => blocker.listen(Number(env.CUSTODIAN_GATEWAY_PORT), '127.0.0.1', resolve));
    });
    afterEach(async () => {
      await new Promise((resolve) => blocker.close(resolve));
    });

    it('says the port is in use instead of crashing', () => {
      const run = runCli(['doctor'], env);
      expect(run.stdout).toMatch(new RegExp(`FAIL\\s+gateway-port\\s+Port ${env.CUSTODIAN_GATEWAY_PORT} is already in use`));
      expect(run.status).toBe(1);
    });
  });
});

describe('usage and configuration errors', () => {
  it('exits 2 on an unknown command', () => {
    expect(runCli(['frobnicate'], env).status).toBe(2);
  });

  it('names the bad setting and exits 1, with no stack trace', () => {
    const run = runCli(['audit', 'verify'], { ...env, CUSTODIAN_GATEWAY_PORT: 'http' });
    expect(run.stderr).toBe('custodian: The setting CUSTODIAN_GATEWAY_PORT is not valid: expected a number.\n');
    expect(run.status).toBe(1);
  });
});

describe('the test harness itself', () => {
  // Issue #9: a Custodian on a clock fixed at a date met a CLI child on the real clock, and the
  // suite went red once the calendar passed that date. The harness now refuses the pairing.
  it('refuses to run the CLI on a data directory served on a fixed test clock', async () => {
    const fixed = tempCustodian();
    try {
      expect(() => runCli(['doctor'], { CUSTODIAN_DATA_DIR: fixed.dir })).toThrow(/fixed TestClock/);
    } finally {
      await fixed.remove();
    }
  });
});
