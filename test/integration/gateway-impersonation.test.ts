import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCustodian } from '../../src-main/composition';
import { loadConfig } from '../../src-main/config';
import { freePort } from '../fixtures/gateway-client';
import { spawnCli } from '../fixtures/run-cli';
import { runningAsRoot, startStranger, STRANGER_UID, type Stranger } from '../fixtures/stranger';

// Issue 9, item 2: another local user holds the gateway port first and answers like Custodian.
// The stranger is a real second process (as uid 65534 when the tests run as root, as the issue's
// red team did); every Custodian here is a real process too, on the real clock.
let dir: string;
let port: number;
let env: NodeJS.ProcessEnv;
let stranger: Stranger | undefined;

async function strangerOnPort(): Promise<number> {
  stranger = await startStranger(port);
  return stranger.pid;
}

function received(): string {
  return stranger?.received() ?? '';
}

async function addKey(name: string): Promise<string> {
  const added = await spawnCli(['integrations', 'add', name, '--json'], env).done;
  expect(added.status, added.stderr).toBe(0);
  return (JSON.parse(added.stdout) as { key: string }).key;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-imp-'));
  port = await freePort();
  env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_KEYCHAIN_SERVICE: `custodian-test-${dir.slice(-6)}`, CUSTODIAN_GATEWAY_PORT: String(port) };
});
afterEach(async () => {
  await stranger?.stop();
  stranger = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const requestArgs = ['request', '--backup', 'snap-1', '--target', '/srv/restore', '--reason', 'drill', '--requester', 'backup@db1'];

describe('a stranger holding the gateway port', () => {
  it('never receives the key, and `custodian request` exits 1 without taking its token', async () => {
    const key = await addKey('restic-nightly');
    await strangerOnPort();
    const run = await spawnCli(requestArgs, { ...env, CUSTODIAN_API_KEY: key }).done;
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`could not prove it is this Custodian`);
    const log = received();
    // It was asked to prove itself (with the key's public id), and was told nothing else.
    expect(log).toContain('/v1/auth/challenge');
    expect(log).not.toContain(key.slice('cst_'.length + 13));
    expect(log).not.toMatch(/authorization/i);
    expect(log).not.toContain('/v1/restore-requests');
  });

  it('never receives a restore token from `custodian redeem`', async () => {
    const key = await addKey('restic-nightly');
    await strangerOnPort();
    const token = 'T'.repeat(43);
    const run = await spawnCli(['redeem', token, '--requester', 'backup@db1'], { ...env, CUSTODIAN_API_KEY: key }).done;
    expect(run.status).toBe(1);
    expect(received()).not.toContain(token);
    expect(received()).not.toMatch(/authorization/i);
  });

  it('makes `custodian serve` refuse with exit 1 and say what holds the port', async () => {
    const pid = await strangerOnPort();
    const run = await spawnCli(['serve'], env).done;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Port ${port} is already in use by another program`);
    expect(run.stderr).toContain('not by this Custodian');
    expect(run.stderr).toContain(`pid ${pid}`);
    if (runningAsRoot) expect(run.stderr).toContain(`uid ${STRANGER_UID} (nobody)`);
    expect(run.stderr).not.toContain('another Custodian process already serves');
  });

  it('makes `custodian doctor` report FAIL', async () => {
    await strangerOnPort();
    const run = await spawnCli(['doctor'], env).done;
    expect(run.stdout).toMatch(new RegExp(`FAIL\\s+gateway-port\\s+Port ${port} is already in use by another program`));
    expect(run.stdout).toContain('not by this Custodian');
    expect(run.status).toBe(1);
  });

  it('keeps the app’s gateway off, with the holder in its status', async () => {
    const pid = await strangerOnPort();
    const custodian = openCustodian({ config: loadConfig({ env }) });
    try {
      await custodian.start();
      expect(custodian.gateway.status).toMatchObject({ state: 'port-in-use', port, holder: { pid } });
      if (runningAsRoot) expect(custodian.gateway.status.holder).toMatchObject({ uid: STRANGER_UID, user: 'nobody' });
    } finally {
      await custodian.dispose();
    }
  });
});

describe('another Custodian holding the gateway port', () => {
  async function serveIn(environment: NodeJS.ProcessEnv): Promise<ReturnType<typeof spawnCli>> {
    const run = spawnCli(['serve'], environment);
    while (!run.stderrSoFar().includes('serving the gateway')) {
      if (run.stderrSoFar().includes('custodian:') && !run.stderrSoFar().includes('serving')) throw new Error(run.stderrSoFar());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return run;
  }

  it('on this data directory is recognised by serve, doctor and the app, and answers the CLI', async () => {
    const key = await addKey('restic-nightly');
    const first = await serveIn(env);
    try {
      const second = await spawnCli(['serve'], env).done;
      expect(second.stderr).toContain('another Custodian process already serves the gateway');
      expect(second.status).toBe(0);
      const doctor = await spawnCli(['doctor'], env).done;
      expect(doctor.stdout).toMatch(/OK\s+gateway-port\s+127\.0\.0\.1:\d+ is served by a running Custodian on this data directory/);
      const custodian = openCustodian({ config: loadConfig({ env }) });
      try {
        await custodian.start();
        expect(custodian.gateway.status).toEqual({ state: 'elsewhere', port });
      } finally {
        await custodian.dispose();
      }
      const request = await spawnCli([...requestArgs, '--no-wait', '--json'], { ...env, CUSTODIAN_API_KEY: key }).done;
      expect(request.status, request.stderr).toBe(0);
      expect(JSON.parse(request.stdout)).toMatchObject({ status: 'pending' });
    } finally {
      first.kill('SIGTERM');
      await first.done;
    }
  });

  it('on another data directory is not taken for this one', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'custodian-imp-other-'));
    const other = await serveIn({ ...env, CUSTODIAN_DATA_DIR: otherDir });
    try {
      const run = await spawnCli(['serve'], env).done;
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('not by this Custodian');
      const doctor = await spawnCli(['doctor'], env).done;
      expect(doctor.stdout).toMatch(/FAIL\s+gateway-port/);
    } finally {
      other.kill('SIGTERM');
      await other.done;
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
