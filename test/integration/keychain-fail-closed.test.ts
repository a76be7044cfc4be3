import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { ANCHOR_FRESH_MS } from '../../src-main/services/audit/audit.service';
import { freePort, http } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { privateKeyring, type PrivateKeyring } from '../fixtures/private-keyring';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// Issue 13, item 3: the keychain goes away mid-run. What needs it is refused with a typed error
// and changes nothing; so is every audited change, whose row the keychain would anchor (a row
// the anchor never vouched for could be cut off or rewritten unseen); everything works again
// once it is back, with no restart. This file has a keychain of its own that it stops and starts
// (see keychain-recovery.test.ts).
let keyring: PrivateKeyring;
beforeAll(async () => {
  keyring = await privateKeyring();
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  await keyring.start();
});
afterAll(async () => {
  await keyring.close();
});

const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
const DESKTOP = { source: 'desktop' } as const;

const KEYCHAIN_REFUSAL = { ok: false, error: { code: 'ERR-KEYCHAIN-UNAVAILABLE', message: 'The system keychain is unavailable. Unlock or start it, then try again.' } };

function rows(t: TempCustodian, table: string): number {
  return (t.custodian.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

describe('a keychain that goes away mid-run', () => {
  it('refuses a step that needs the keychain as data, and catches up once it is back', async () => {
    const t = tempCustodian();
    try {
      const c = t.custodian;
      const router = createAppRouter(c, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
      const call = (channel: string, payload: unknown = {}) => router.handle(channel, payload, APP);
      await call('profile:init', { displayName: 'Alice', principal: 'alice@corp', role: 'operator' });
      const enrolled = await call('factors:enroll', { label: 'Phone' });
      const factorId = (enrolled as { data: { factor: { id: string } } }).data.factor.id;
      const secret = ((await call('factors:reveal-secret', { factorId })) as { data: { secret: string } }).data.secret;
      expect(await call('factors:confirm', { factorId, code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true });
      await c.audit.settled();
      // Lock: the secrets held in memory are dropped, so a step must read the keychain.
      expect(await call('lock:lock')).toMatchObject({ ok: true });
      t.clock.advanceSeconds(30);

      await keyring.stop();
      const factorsBefore = c.db.prepare('SELECT COUNT(*) AS n FROM factors').get();
      const refused = await call('lock:unlock', { code: oathtool(secret, t.clock.now()) });
      expect(refused).toMatchObject({ ok: false, error: { code: 'ERR-KEYCHAIN-UNAVAILABLE' } });
      expect(c.lock.isLocked()).toBe(true);
      expect(c.audit.anchorWriteState()).toBe('failing');
      expect(await c.audit.verify()).toMatchObject({ ok: false, reason: 'anchor-unavailable' });
      expect(c.db.prepare('SELECT COUNT(*) AS n FROM factors').get()).toEqual(factorsBefore);

      await keyring.start();
      // No restart: the next unlock reads the keychain again, and the anchor is up with the head.
      expect(await call('lock:unlock', { code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true });
      expect(c.audit.anchorWriteState()).toBe('ok');
      expect(await c.audit.verify()).toMatchObject({ ok: true, anchor: 'verified' });
    } finally {
      await t.remove();
    }
  });

  it('refuses every audited change while it is away (a denial, an integration revoked or added, a setting, incident mode, a gateway request), changes nothing and writes no row; the first try once it is back works', async () => {
    const port = await freePort();
    const t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600' } });
    try {
      const c = t.custodian;
      await c.start();
      const router = createAppRouter(c, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
      const call = (channel: string, payload: unknown = {}) => router.handle(channel, payload, APP);
      const { key } = c.integrations.add('restic-nightly', 'alice@corp');
      const spare = c.integrations.add('borg-weekly', 'alice@corp');
      await call('profile:init', { displayName: 'Alice', principal: 'alice@corp', role: 'operator' });
      const body = { requester: 'backup@db1', backupId: 'snap-1', target: '/srv/r', reason: 'drill', sensitivity: 'medium' };
      const created = await http({ port, path: '/v1/restore-requests', key, body });
      expect(created.status).toBe(202);
      const { id } = created.json as { id: string };
      await c.audit.settled();

      await keyring.stop();
      // The desk sat idle a moment: its next change asks the keychain first, so even the very first
      // change after the loss is refused, not committed with no anchor.
      t.clock.advance(ANCHOR_FRESH_MS);
      const auditRows = rows(t, 'audit_log');
      expect(await call('requests:deny', { id })).toEqual(KEYCHAIN_REFUSAL);
      expect(c.requests.get(id).status).toBe('pending');
      expect(await call('integrations:revoke', { id: spare.id })).toEqual(KEYCHAIN_REFUSAL);
      expect(await call('integrations:add', { name: 'tar-hourly' })).toEqual(KEYCHAIN_REFUSAL);
      expect(c.integrations.list().map((i) => [i.name, i.revokedAt]).sort()).toEqual([
        ['borg-weekly', null],
        ['restic-nightly', null],
      ]);
      expect(await call('settings:set-language', { language: 'tr' })).toEqual(KEYCHAIN_REFUSAL);
      expect(c.settings.get().language).toBe('en');
      expect(await call('incident:on')).toEqual(KEYCHAIN_REFUSAL);
      expect(c.incident.state()).toMatchObject({ on: false });
      const requestsBefore = rows(t, 'restore_requests');
      const gatewayRefusal = await http({ port, path: '/v1/restore-requests', key, body });
      expect(gatewayRefusal.status).toBe(503);
      expect(gatewayRefusal.json).toEqual({ error: KEYCHAIN_REFUSAL.error });
      expect(rows(t, 'restore_requests')).toBe(requestsBefore);
      // The refusals themselves leave no row: it could not be anchored either.
      expect(rows(t, 'audit_log')).toBe(auditRows);

      await keyring.start();
      // No restart, and no second try: the first change after the keychain is back goes through.
      expect(await call('requests:deny', { id })).toMatchObject({ ok: true });
      expect(c.requests.get(id).status).toBe('denied');
      expect(await call('settings:set-language', { language: 'tr' })).toMatchObject({ ok: true });
      expect(await call('integrations:revoke', { id: spare.id })).toMatchObject({ ok: true });
      expect((await http({ port, path: '/v1/restore-requests', key, body })).status).toBe(202);
      await c.audit.settled();
      expect(await c.audit.verify()).toMatchObject({ ok: true, anchor: 'verified' });
    } finally {
      await t.remove();
    }
  });

  it('lets through at most what was already under way at the loss: its anchor write fails, and the next change is refused until the keychain is back', async () => {
    const t = tempCustodian();
    try {
      const c = t.custodian;
      const router = createAppRouter(c, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
      c.integrations.add('restic-nightly', 'alice@corp');
      await c.audit.settled();
      await keyring.stop();
      // Let in a moment after the keychain last answered (already under way): it commits, and its
      // anchor write fails and waits.
      expect(await router.handle('integrations:add', { name: 'borg-weekly' }, APP)).toMatchObject({ ok: true });
      await c.audit.settled();
      expect(c.audit.anchorWriteState()).toBe('failing');
      // Nothing after it, even straight after: no keychain check is needed to refuse it.
      expect(() => c.integrations.add('tar-hourly', 'alice@corp')).toThrow(expect.objectContaining({ code: 'ERR-KEYCHAIN-UNAVAILABLE' }) as Error);
      expect(await router.handle('integrations:add', { name: 'tar-hourly' }, APP)).toEqual(KEYCHAIN_REFUSAL);
      expect(c.integrations.list()).toHaveLength(2);
      await keyring.start();
      expect(await router.handle('integrations:add', { name: 'tar-hourly' }, APP)).toMatchObject({ ok: true });
      await c.audit.settled();
      // The row that waited is anchored with the rest.
      expect(await c.audit.verify()).toMatchObject({ ok: true, anchor: 'verified' });
    } finally {
      await t.remove();
    }
  });

  it('refuses to start an enrollment with ERR-KEYCHAIN-UNAVAILABLE and records no factor; the same call works once it is back', async () => {
    const t = tempCustodian();
    try {
      const c = t.custodian;
      c.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'operator' }, DESKTOP);
      await c.audit.settled();
      await keyring.stop();
      await expect(c.mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP)).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });
      expect(c.db.prepare('SELECT COUNT(*) AS n FROM factors').get()).toEqual({ n: 0 });
      expect([...c.audit.export()].map((e) => e.event)).not.toContain('mfa_setup_initiated');
      await keyring.start();
      await expect(c.mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP)).resolves.toMatchObject({ factor: { state: 'pending' } });
    } finally {
      await t.remove();
    }
  });

  it('refuses a shell command while it is away (another process on the data directory), exit 1 and nothing added; the same command works once it is back', async () => {
    const shell = tempCustodian({ clock: 'following' });
    const env = { CUSTODIAN_DATA_DIR: shell.dir, CUSTODIAN_KEYCHAIN_SERVICE: shell.config.keychain.service, DBUS_SESSION_BUS_ADDRESS: keyring.address };
    await shell.close();
    try {
      expect(runCli(['integrations', 'add', 'restic'], env).status).toBe(0);
      await keyring.stop();
      const refused = runCli(['integrations', 'add', 'borg'], env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toBe('custodian: The system keychain is unavailable. Unlock or start it, then try again.\n');
      await keyring.start();
      expect(runCli(['integrations', 'list', '--json'], env).stdout).not.toContain('borg');
      expect(runCli(['integrations', 'add', 'borg'], env).status).toBe(0);
      expect(runCli(['audit', 'verify'], env).status).toBe(0);
    } finally {
      await shell.remove();
    }
  });
});
