import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { secretAccount } from '../../src-main/services/mfa/mfa.service';
import { oathtool } from '../fixtures/otp';
import { privateKeyring, type PrivateKeyring } from '../fixtures/private-keyring';
import { tempCustodian } from '../fixtures/temp-custodian';

// This file gets a keychain of its own that it stops and starts: Vitest runs each file in a
// process of its own, and libsecret connects to the bus named here on its first call.
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

describe('a keychain that goes away and comes back', () => {
  it('answers again without a restart', async () => {
    const store = new KeytarSecretStore({ service: `custodian-test-${randomBytes(4).toString('hex')}`, timeoutMs: 5000 });
    await store.set('a', 'one');
    expect(await store.get('a')).toBe('one');

    await keyring.stop();
    await expect(store.get('a')).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });
    await expect(store.set('a', 'two')).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });

    await keyring.start();
    expect(await store.get('a')).toBe('one');
    await store.set('a', 'three');
    expect(await store.get('a')).toBe('three');
    await expect(store.probe()).resolves.toBeUndefined();

    // And again: whatever answered last time has gone stale in its turn.
    await keyring.stop();
    await keyring.start();
    expect(await store.get('a')).toBe('three');
    store.dispose();
  });

  it('lets the lock screen unlock once the keychain is back, where it said unavailable before', async () => {
    const t = tempCustodian();
    try {
      const { mfa } = t.custodian;
      const router = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
      const call = (channel: string, payload: unknown = {}) => router.handle(channel, payload, APP);
      const profile = mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, { source: 'desktop' });
      const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, { source: 'desktop' });
      const secret = (await t.custodian.secrets.get(secretAccount(profile.id, enrollment.factor.id)))!;
      await mfa.confirmEnrollment(enrollment.factor.id, oathtool(secret, t.clock.now()), { source: 'desktop' });
      expect(await call('lock:lock')).toMatchObject({ ok: true, data: { locked: true } });

      await keyring.stop();
      t.clock.advanceSeconds(30);
      expect(await call('lock:unlock', { code: oathtool(secret, t.clock.now()) })).toMatchObject({
        ok: false,
        error: { code: 'ERR-KEYCHAIN-UNAVAILABLE' },
      });

      await keyring.start();
      expect(await call('lock:unlock', { code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true, data: { locked: false } });
    } finally {
      await t.remove();
    }
  });
});
