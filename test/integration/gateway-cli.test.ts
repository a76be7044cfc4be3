import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/gateway-client';
import { spawnCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// The built bin against a gateway served by this test process, on a random loopback port.
let t: TempCustodian;
let env: NodeJS.ProcessEnv;
let key: string;

beforeEach(async () => {
  const port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port) }, clock: 'following' });
  env = { CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service, CUSTODIAN_GATEWAY_PORT: String(port) };
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
});
afterEach(async () => {
  await t.remove();
});

const requestArgs = ['request', '--backup', 'snap-1', '--target', '/srv/restore', '--reason', 'drill', '--requester', 'backup@db1'];

async function pendingOne(): Promise<string> {
  for (;;) {
    const [first] = t.custodian.requests.list('pending', 1);
    if (first) return first.id;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('custodian request', () => {
  it('prints the match code on stderr, waits, and exits 3 when denied', async () => {
    const run = spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: key });
    const id = await pendingOne();
    t.custodian.requests.deny(id, 'alice@corp');
    const result = await run.done;
    expect(result.stderr).toMatch(/match code \d\d/);
    expect(result.stderr).toContain(`${id} was denied`);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(3);
  });

  it('exits 4 when the request expires, and prints JSON with --json', async () => {
    const run = spawnCli([...requestArgs, '--json'], { ...env, CUSTODIAN_API_KEY: key });
    const id = await pendingOne();
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    const result = await run.done;
    expect(JSON.parse(result.stdout)).toEqual({ id, status: 'expired', expiresAt: expect.any(String) });
    expect(result.status).toBe(4);
  });

  it('exits 2 without CUSTODIAN_API_KEY, 1 with a bad key, 1 when no gateway answers', async () => {
    const noKey = await spawnCli(requestArgs, env).done;
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain('CUSTODIAN_API_KEY');
    const badKey = await spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: 'cst_nope' }).done;
    expect(badKey.stderr).toBe('custodian: The API key is missing or not valid.\n');
    expect(badKey.status).toBe(1);
    const nobody = await spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: key, CUSTODIAN_GATEWAY_PORT: String(await freePort()) }).done;
    expect(nobody.stderr).toContain('no Custodian gateway answers');
    expect(nobody.status).toBe(1);
  });

  it('sends an Idempotency-Key, and after a connection reset before the answer retries into the same request (issue 9)', async () => {
    const keys: string[] = [];
    let cut = true;
    t.custodian.gateway.nodeServer.prependListener('request', (req, res) => {
      if (req.method !== 'POST' || req.url !== '/v1/restore-requests') return;
      keys.push(String(req.headers['idempotency-key']));
      if (!cut) return;
      cut = false;
      // The request is stored and committed; its answer is lost with the connection.
      res.end = (() => {
        req.socket.destroy();
        return res;
      }) as typeof res.end;
    });
    const run = spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: key });
    const id = await pendingOne();
    t.custodian.requests.deny(id, 'alice@corp');
    const result = await run.done;
    expect(result.stderr).toContain(`${id} was denied`);
    expect(result.status).toBe(3);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(t.custodian.requests.list('history', 10).map((r) => r.id)).toEqual([id]);
    expect(t.custodian.requests.list('pending', 10)).toEqual([]);
  });

  it('refuses a target with a bidi control before sending anything, with exit 2 (issue 9)', async () => {
    const args = ['request', '--backup', 'snap-1', '--target', '/home/alice/restore-tmp/\u202Ewodahs/cte/', '--reason', 'drill'];
    const run = await spawnCli(args, { ...env, CUSTODIAN_API_KEY: key }).done;
    expect(run.stderr).toBe('custodian: The request is not valid: --target.\n');
    expect(run.status).toBe(2);
    expect(t.custodian.requests.list('pending', 10)).toEqual([]);
  });

  it('exits 2 on a missing option', async () => {
    expect((await spawnCli(['request', '--backup', 'x'], { ...env, CUSTODIAN_API_KEY: key }).done).status).toBe(2);
  });
});

describe('custodian deny, from another process', () => {
  it('wakes the requester waiting on this process’s gateway through data_version', async () => {
    const run = spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: key });
    const id = await pendingOne();
    const deny = await spawnCli(['deny', id, '--report'], env).done;
    expect(deny.stdout).toBe(`${id} denied (reported)\n`);
    expect(deny.status).toBe(0);
    // The real shared tick (TICK_MS) notices the other process's commit; no manual tick here.
    const result = await run.done;
    expect(result.status).toBe(3);
    expect(t.custodian.audit.list(5).entries.map((e) => e.event)).toContain('restore_request_reported');
    expect(t.custodian.audit.list(5).entries[0]?.actor).toMatch(/^cli:/);
  });

  it('exits 1 with the contract’s message for an unknown id', async () => {
    const deny = await spawnCli(['deny', 'req_missing00'], env).done;
    expect(deny.stderr).toBe('custodian: Not found.\n');
    expect(deny.status).toBe(1);
  });
});

describe('custodian integrations', () => {
  it('add prints the key once, list never shows it, revoke stops it at once', async () => {
    const added = await spawnCli(['integrations', 'add', 'borg-weekly', '--json'], env).done;
    const created = JSON.parse(added.stdout) as { id: string; name: string; key: string };
    expect(created).toEqual({ id: expect.any(String), name: 'borg-weekly', key: expect.stringMatching(/^cst_/) });
    const list = await spawnCli(['integrations', 'list', '--json'], env).done;
    expect(list.stdout).not.toContain(created.key);
    expect((JSON.parse(list.stdout) as { integrations: { name: string }[] }).integrations.map((i) => i.name).sort()).toEqual(['borg-weekly', 'restic-nightly']);
    const ok = spawnCli([...requestArgs, '--no-wait'], { ...env, CUSTODIAN_API_KEY: created.key });
    expect((await ok.done).status).toBe(0);
    expect((await spawnCli(['integrations', 'revoke', created.id], env).done).status).toBe(0);
    expect((await spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: created.key }).done).status).toBe(1);
  });

  it('refuses a name that is not a name, with exit 2', async () => {
    expect((await spawnCli(['integrations', 'add', '../../etc'], env).done).status).toBe(2);
  });
});

describe('custodian serve and doctor', () => {
  // A port held by something else is FAIL ERR-PORT-IN-USE: see cli.test.ts.
  it('doctor reports a port held by a running Custodian as OK', async () => {
    const run = await spawnCli(['doctor'], env).done;
    expect(run.stdout).toMatch(/OK\s+gateway-port\s+127\.0\.0\.1:\d+ is served by a running Custodian/);
  });

  it('serve on a port another Custodian serves says so and exits 0', async () => {
    const run = await spawnCli(['serve'], env).done;
    expect(run.stderr).toContain('another Custodian process already serves the gateway');
    expect(run.status).toBe(0);
  });

  it('serve serves the gateway until SIGTERM', async () => {
    const port = await freePort();
    const run = spawnCli(['serve'], { ...env, CUSTODIAN_GATEWAY_PORT: String(port) });
    while (!run.stderrSoFar().includes('serving the gateway')) await new Promise((resolve) => setTimeout(resolve, 20));
    const health = await fetch(`http://127.0.0.1:${port}/v1/health`);
    expect(await health.json()).toMatchObject({ service: 'custodian' });
    run.kill('SIGTERM');
    expect((await run.done).status).toBe(0);
  });
});
