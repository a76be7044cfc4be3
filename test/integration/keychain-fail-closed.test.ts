import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { oathtool } from '../fixtures/otp';
import { privateKeyring, type PrivateKeyring } from '../fixtures/private-keyring';
import { tempCustodian } from '../fixtures/temp-custodian';

// Issue 13, item 3: the keychain goes away mid-run. What needs it is refused with a typed error
// and changes nothing; what it anchors catches up once it is back; no restart. This file has a
// keychain of its own that it stops and starts (see keychain-recovery.test.ts).
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

describe('a keychain that goes away mid-run', () => {
  it('refuses a step that needs the keychain as data, lets audited changes land while the anchor waits, and catches up once it is back', async () => {
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
      // An audited change that needs no keychain still lands in SQLite; its anchor write fails
      // and waits (the desk says so: anchorWriteState) rather than being dropped.
      c.integrations.add('restic-nightly', 'alice@corp');
      await c.audit.settled();
      expect(c.audit.anchorWriteState()).toBe('failing');
      expect(await c.audit.verify()).toMatchObject({ ok: false, reason: 'anchor-unavailable' });
      expect(c.db.prepare('SELECT COUNT(*) AS n FROM factors').get()).toEqual(factorsBefore);

      await keyring.start();
      // No restart: the next unlock reads the keychain again, and the shared tick's retry (run
      // here by hand, as `verify` also does) brings the anchor up to the head.
      expect(await call('lock:unlock', { code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true });
      await c.audit.retryAnchor();
      expect(c.audit.anchorWriteState()).toBe('ok');
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
});
