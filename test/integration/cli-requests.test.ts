import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, http, validRequest } from '../fixtures/gateway-client';
import { runCli, spawnCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// `custodian requests list|show` and `custodian request --wait ID` (issue 11), the built bin in
// its own process, against a gateway and a database served by this test process.
let t: TempCustodian;
let env: NodeJS.ProcessEnv;
let key: string;
let port: number;

beforeEach(async () => {
  port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port) }, clock: 'following' });
  env = { CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service, CUSTODIAN_GATEWAY_PORT: String(port) };
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
});
afterEach(async () => {
  await t.remove();
});

async function send(body: Record<string, unknown> = validRequest): Promise<{ id: string; matchCode: number }> {
  const answer = await http({ port, path: '/v1/restore-requests', key, body });
  expect(answer.status).toBe(202);
  return answer.json as { id: string; matchCode: number };
}

describe('custodian requests list', () => {
  it('says so when there are none', () => {
    expect(runCli(['requests', 'list'], env)).toMatchObject({ status: 0, stdout: 'no restore requests\n', stderr: '' });
    expect(runCli(['requests', 'list', '--status', 'approved'], env)).toMatchObject({ status: 0, stdout: 'no approved restore requests\n' });
  });

  it('lists newest first with where each came from, marks the asserted requester, and filters by status', async () => {
    const first = await send({ ...validRequest, context: { host: 'db1' } });
    const second = await send({ ...validRequest, backupId: 'snap-2', requester: 'mallory@db2', sensitivity: 'low' });
    t.custodian.requests.deny(first.id, 'alice@corp');

    const all = runCli(['requests', 'list'], env);
    expect(all.status).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${second.id} {2}pending {4}low {7}snap-2 -> /srv/restore/db {2}via restic-nightly from 127\\.0\\.0\\.x {2}requester mallory@db2\\? {2}expires \\S+$`));
    expect(lines[1]).toMatch(new RegExp(`^${first.id} {2}denied {5}high .* requester backup@db1\\? {2}denied \\S+ by alice@corp$`));
    expect(lines[2]).toBe("? the requester's name is what the tool asserted; nothing verified it");

    const pending = runCli(['requests', 'list', '--status', 'pending', '--json'], env);
    const listed = JSON.parse(pending.stdout) as { requests: Record<string, unknown>[] };
    expect(listed.requests).toHaveLength(1);
    expect(listed.requests[0]).toMatchObject({
      id: second.id,
      status: 'pending',
      integrationName: 'restic-nightly',
      source: '127.0.0.x',
      requester: 'mallory@db2',
      asserted: ['requester', 'context'],
    });
    // Number matching only works if the approver hears the number from the requester.
    expect(listed.requests[0]).not.toHaveProperty('matchCode');
  });

  it('refuses an unknown status or a bad limit with exit 2', () => {
    expect(runCli(['requests', 'list', '--status', 'lost'], env).status).toBe(2);
    expect(runCli(['requests', 'list', '--limit', '0'], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('--limit') });
  });
});

describe('custodian requests show', () => {
  it('shows one request: the verified integration and source, and the requester and context marked as only asserted', async () => {
    const { id } = await send({ ...validRequest, context: { host: 'db1', ticket: 'OPS-7' } });
    const shown = runCli(['requests', 'show', id], env);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`id:          ${id}\n`);
    expect(shown.stdout).toContain('status:      pending\n');
    expect(shown.stdout).toContain('backup:      snap-2026-11-24\n');
    expect(shown.stdout).toMatch(/integration: restic-nightly \(\S+\), verified by its key\n/);
    expect(shown.stdout).toContain('source:      127.0.0.x, as the gateway saw it, masked\n');
    expect(shown.stdout).toContain('requester:   backup@db1  (asserted by the tool, not verified)\n');
    expect(shown.stdout).toContain('context:     (asserted by the tool, not verified)\n  host: db1\n  ticket: OPS-7\n');

    const json = JSON.parse(runCli(['requests', 'show', id, '--json'], env).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ id, source: '127.0.0.x', context: { host: 'db1', ticket: 'OPS-7' }, asserted: ['requester', 'context'] });
    expect(json).not.toHaveProperty('matchCode');
  });

  it('says where a request stored before sources were kept came from: unknown', async () => {
    const { id } = await send();
    // As a row from before migration 010 holds it.
    const other = tempCustodian({ dir: t.dir, clock: 'following' });
    try {
      const db = other.custodian.db;
      db.prepare('UPDATE restore_requests SET source = NULL WHERE id = ?').run(id);
    } finally {
      await other.close();
    }
    expect(runCli(['requests', 'show', id], env).stdout).toContain('source:      unknown (stored before sources were kept), as the gateway saw it, masked\n');
  });

  it('exits 1 for an unknown id and 2 for one that is not an id', () => {
    expect(runCli(['requests', 'show', 'req_missing00'], env)).toMatchObject({ status: 1, stderr: 'custodian: Not found.\n' });
    expect(runCli(['requests', 'show', '../etc'], env).status).toBe(2);
  });
});

describe('custodian request --wait ID', () => {
  const requestArgs = ['request', '--backup', 'snap-1', '--target', '/srv/restore', '--reason', 'drill', '--requester', 'backup@db1'];

  it('waits again for a request sent with --no-wait, and exits 3 when another process denies it', async () => {
    const sent = await spawnCli([...requestArgs, '--no-wait'], { ...env, CUSTODIAN_API_KEY: key }).done;
    expect(sent.status).toBe(0);
    const id = sent.stdout.trim();
    expect(sent.stderr).toContain(`custodian request --wait ${id}`);

    const waiting = spawnCli(['request', '--wait', id], { ...env, CUSTODIAN_API_KEY: key });
    while (t.custodian.requests.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // Decided by a third process; this process's real tick notices through data_version.
    expect((await spawnCli(['deny', id], env).done).status).toBe(0);
    const result = await waiting.done;
    expect(result.stderr).toBe(`custodian: restore request ${id} was denied\n`);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(3);
  });

  it('answers a decided request at once with the same exit codes as request: 3 denied, 4 expired, JSON with --json', async () => {
    const denied = await send();
    t.custodian.requests.deny(denied.id, 'alice@corp');
    expect((await spawnCli(['request', '--wait', denied.id], { ...env, CUSTODIAN_API_KEY: key }).done).status).toBe(3);

    const expired = await send();
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    const run = await spawnCli(['request', '--wait', expired.id, '--json'], { ...env, CUSTODIAN_API_KEY: key }).done;
    expect(JSON.parse(run.stdout)).toEqual({ id: expired.id, status: 'expired', expiresAt: expect.any(String) });
    expect(run.status).toBe(4);
  });

  it('exits 2 on a malformed id, on options that describe a new request, or without a key; 1 for an id that is not its own', async () => {
    const withKey = { ...env, CUSTODIAN_API_KEY: key };
    expect((await spawnCli(['request', '--wait', '../x'], withKey).done)).toMatchObject({ status: 2, stderr: expect.stringContaining('--wait') });
    expect((await spawnCli(['request', '--wait', 'req_abcdefgh12', '--backup', 'x'], withKey).done).status).toBe(2);
    expect((await spawnCli(['request', '--wait', 'req_abcdefgh12'], env).done).status).toBe(2);
    expect((await spawnCli(['request', '--wait', 'req_abcdefgh12'], withKey).done)).toMatchObject({ status: 1, stderr: 'custodian: Not found.\n' });
    // Another integration's request is not found either (DESIGN.md: "an integration only ever sees its own requests").
    const { id } = await send();
    const other = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
    expect((await spawnCli(['request', '--wait', id], { ...env, CUSTODIAN_API_KEY: other }).done).status).toBe(1);
  });
});
