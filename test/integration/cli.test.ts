import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DROP_APPEND_ONLY_TRIGGERS, sqlite } from '../fixtures/sqlite-cli';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// These run the built bin (npm test builds first) against a data directory the test filled.
let t: TempCustodian;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  t = tempCustodian();
  for (let i = 0; i < 5; i += 1) t.custodian.audit.record({ event: 'test_event', actor: 'alice@corp', data: { n: i } });
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

  it('head prints the latest id and hash; export prints one JSON line per row', () => {
    const head = runCli(['audit', 'head'], env);
    expect(head.stdout).toMatch(/^5 [0-9a-f]{64}\n$/);
    const lines = runCli(['audit', 'export'], env).stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4] ?? '')).toMatchObject({ id: 5, event: 'test_event', hash: head.stdout.split(' ')[1]?.trim() });
  });
});

describe('custodian doctor', () => {
  it('reports the keychain, database and port as OK and exits 0', () => {
    const run = runCli(['doctor'], env);
    expect(run.stdout).toMatch(/OK\s+keychain/);
    expect(run.stdout).toMatch(/OK\s+database .*schema v\d+, wal, 5 audit rows/);
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
