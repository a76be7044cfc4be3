import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvePurpose } from '../../src-shared/domain/approval';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { diskBack as spaceBack, diskFull as fullDisk } from '../fixtures/disk-full';
import { failsWith } from '../fixtures/fails-with';
import { freePort, http } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// Issue 13, item 3: when the audit row cannot be written (a full disk, simulated with SQLite's
// max_page_count), the action it records does not happen, the caller hears ERR-AUDIT-UNAVAILABLE
// (HTTP 503 with the typed body on the gateway, an error as data over IPC), and once space comes
// back the same action works, in the same process, with no restart.
const DESKTOP = { source: 'desktop' } as const;
const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };

let t: TempCustodian;
let port: number;
let key: string;
let secret: string;
let phone: string;

beforeEach(async () => {
  port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600' } });
  const c = t.custodian;
  await c.start();
  key = c.integrations.add('restic-nightly', 'alice@corp').key;
  c.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'security-admin' }, DESKTOP);
  const e = await c.mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  phone = e.factor.id;
  secret = await c.mfa.revealSecret(phone, DESKTOP);
  await c.mfa.confirmEnrollment(phone, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
});
afterEach(async () => {
  await t.remove();
});

function diskFull(): void {
  fullDisk(t.custodian);
}

function diskBack(): void {
  spaceBack(t.custodian);
}

function count(table: string): number {
  return (t.custodian.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

async function newRequest(): Promise<{ id: string; matchCode: number }> {
  const created = await http({ port, path: '/v1/restore-requests', key, body: { requester: 'backup@db1', backupId: 'snap-1', target: '/srv/r', reason: 'drill', sensitivity: 'medium' } });
  expect(created.status).toBe(202);
  return created.json as { id: string; matchCode: number };
}

async function passChain(purpose: string, sensitivity: 'medium' | 'critical' = 'medium'): Promise<void> {
  const view = t.custodian.chain.start(purpose, sensitivity, DESKTOP);
  await t.custodian.chain.verifyStep(view.attemptId, phone, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
}

describe('fail-closed audit: a full disk refuses the action, and it works again once space is back', () => {
  it('a gateway request: 503 with the typed body, no row; then 202', async () => {
    diskFull();
    const before = count('restore_requests');
    const refused = await http({ port, path: '/v1/restore-requests', key, body: { requester: 'backup@db1', backupId: 'snap-1', target: '/srv/r', reason: 'drill' } });
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({ error: { code: 'ERR-AUDIT-UNAVAILABLE', message: 'The audit log cannot be written, so the action was refused.' } });
    expect(count('restore_requests')).toBe(before);
    diskBack();
    await newRequest();
  });

  it('a chain step: refused, nothing used up (no grant, the step not passed, the replay floor where it was, no row); once space is back the same code passes once, and its replay is refused', async () => {
    const view = t.custodian.chain.start('test:full', 'medium', DESKTOP);
    const code = oathtool(secret, t.clock.now());
    const floor = (): unknown => t.custodian.db.prepare('SELECT last_used_step AS step FROM factors WHERE id = ?').get(phone);
    const floorBefore = floor();
    diskFull();
    const rowsBefore = count('audit_log');
    await failsWith(t.custodian.chain.verifyStep(view.attemptId, phone, code, DESKTOP), 'ERR-AUDIT-UNAVAILABLE');
    expect(count('step_up_grants')).toBe(0);
    expect(t.custodian.db.prepare('SELECT position, status FROM mfa_chain_attempts WHERE id = ?').get(view.attemptId)).toEqual({ position: 0, status: 'open' });
    // Issue 13: the code's time step is not used up by a step that left no record (the floor
    // moves in the step's own transaction), so the administrator may type the same code again.
    expect(floor()).toEqual(floorBefore);
    expect(count('audit_log')).toBe(rowsBefore);
    diskBack();
    await expect(t.custodian.chain.verifyStep(view.attemptId, phone, code, DESKTOP)).resolves.toMatchObject({ status: 'completed' });
    // Used once: the same code in another chain is a replay.
    const again = t.custodian.chain.start('test:full', 'medium', DESKTOP);
    await failsWith(t.custodian.chain.verifyStep(again.attemptId, phone, code, DESKTOP), 'ERR-MFA-REPLAYED');
  });

  it('an approval (in the window, over IPC): refused as data, the request still pending and the grant unspent; then approved', async () => {
    const { id, matchCode } = await newRequest();
    await passChain(approvePurpose(id));
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    diskFull();
    const refused = await app.handle('approvals:approve', { requestId: id, matchCode: String(matchCode) }, APP);
    expect(refused).toMatchObject({ ok: false, error: { code: 'ERR-AUDIT-UNAVAILABLE' } });
    expect(t.custodian.requests.get(id).status).toBe('pending');
    expect(count('restore_tokens')).toBe(0);
    diskBack();
    const approved = await app.handle('approvals:approve', { requestId: id, matchCode: String(matchCode) }, APP);
    expect(approved).toMatchObject({ ok: true });
  });

  it('a token redeem: 503, the token still unredeemed; then 200 once', async () => {
    const { id, matchCode } = await newRequest();
    await passChain(approvePurpose(id));
    t.custodian.approvals.approve(id, String(matchCode), DESKTOP);
    const read = await http({ port, path: `/v1/restore-requests/${id}`, key });
    const token = (read.json as { token: string }).token;
    diskFull();
    const refused = await http({ port, path: '/v1/restore-tokens/redeem', key, body: { token, requester: 'backup@db1' } });
    expect(refused.status).toBe(503);
    expect((refused.json as { error: { code: string } }).error.code).toBe('ERR-AUDIT-UNAVAILABLE');
    expect(t.custodian.tokens.view(id)?.state).toBe('delivered');
    diskBack();
    expect((await http({ port, path: '/v1/restore-tokens/redeem', key, body: { token, requester: 'backup@db1' } })).status).toBe(200);
  });

  it('a factor enrollment: refused, no row and no secret left in the keychain; then it starts', async () => {
    await passChain('factors:enroll', 'critical');
    const factorsBefore = count('factors');
    diskFull();
    await failsWith(t.custodian.mfa.startEnrollment({ label: 'Spare', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP), 'ERR-AUDIT-UNAVAILABLE');
    expect(count('factors')).toBe(factorsBefore);
    const leftovers = (await t.custodian.secrets.list?.()) ?? [];
    expect(leftovers.filter((e) => /:f_/.test(e.account)).map((e) => e.account)).toEqual([`${t.custodian.mfa.requireProfile().id}:${phone}`]);
    diskBack();
    await expect(t.custodian.mfa.startEnrollment({ label: 'Spare', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP)).resolves.toMatchObject({
      factor: { state: 'pending' },
    });
  });

  it('a settings change (over IPC): refused as data, unchanged; then changed', async () => {
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    diskFull();
    expect(await app.handle('settings:set-language', { language: 'tr' }, APP)).toMatchObject({ ok: false, error: { code: 'ERR-AUDIT-UNAVAILABLE' } });
    expect(t.custodian.settings.get().language).toBe('en');
    diskBack();
    expect(await app.handle('settings:set-language', { language: 'tr' }, APP)).toMatchObject({ ok: true });
  });

  it('failed attempts committed in the background during the outage: refused meanwhile, and the desk recovers by itself once space is back', async () => {
    diskFull();
    // A wrong code's audit row is queued (group commit) and cannot be committed.
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
    await new Promise((resolve) => setImmediate(resolve));
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-AUDIT-UNAVAILABLE');
    diskBack();
    // No restart: the queued failure is written now, and then this attempt is answered.
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
    await new Promise((resolve) => setImmediate(resolve));
    t.custodian.mfa.flush();
    expect([...t.custodian.audit.export()].filter((e) => e.event === 'mfa_challenge_failed')).toHaveLength(2);
  });
});

// A read-only database file. Root (this CI's user) writes through a 0444 mode, so the file is
// made immutable instead (chattr +i), which binds root too; where chattr cannot, the test says so.
const immutable = spawnSync('sh', ['-c', 'f=$(mktemp) && chattr +i "$f" && chattr -i "$f"; s=$?; rm -f "$f"; exit $s']).status === 0;

describe.skipIf(!immutable)('a read-only database file, from the shell', () => {
  it('every command says so in words (ERR-DATABASE-UNAVAILABLE), exit 1; once writable again the same command works', async () => {
    const shell = tempCustodian({ clock: 'following' });
    const env = { CUSTODIAN_DATA_DIR: shell.dir, CUSTODIAN_KEYCHAIN_SERVICE: shell.config.keychain.service };
    await shell.close();
    const file = shell.dbFile;
    try {
      expect(spawnSync('chattr', ['+i', file]).status).toBe(0);
      for (const args of [['integrations', 'add', 'restic'], ['settings', 'token-ttl', '600'], ['doctor']]) {
        const run = runCli(args, env);
        expect(run.status, args.join(' ')).toBe(1);
        expect(run.stderr).toBe('custodian: The Custodian database cannot be opened for writing (read-only file or full disk), so nothing was changed.\n');
      }
    } finally {
      spawnSync('chattr', ['-i', file]);
    }
    expect(runCli(['integrations', 'add', 'restic'], env).status).toBe(0);
    await shell.remove();
  });
});
