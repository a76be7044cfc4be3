import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';

// Runs inside scripts/with-keyring.sh: a private D-Bus session with a real, unlocked gnome-keyring.
const service = `custodian-test-${randomBytes(4).toString('hex')}`;

describe('the keytar secret store on a real Secret Service', () => {
  it('stores, reads and deletes a secret', async () => {
    const store = new KeytarSecretStore({ service, timeoutMs: 5000 });
    await store.set('profile-1:factor-1', 'JBSWY3DPEHPK3PXP');
    expect(await store.get('profile-1:factor-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(await store.delete('profile-1:factor-1')).toBe(true);
    expect(await store.get('profile-1:factor-1')).toBeNull();
    await expect(store.probe()).resolves.toBeUndefined();
  });

  it('fails closed with ERR-KEYCHAIN-UNAVAILABLE, saying nothing else, when the backend rejects', async () => {
    const broken = new KeytarSecretStore({
      service,
      timeoutMs: 5000,
      keytar: {
        getPassword: () => Promise.reject(new Error('org.freedesktop.DBus.Error: secret at /run/user/0/bus')),
        setPassword: () => Promise.reject(new Error('locked')),
        deletePassword: () => Promise.reject(new Error('locked')),
      },
    });
    const error = await broken.get('a').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE', message: 'ERR-KEYCHAIN-UNAVAILABLE' });
    expect(JSON.stringify(error)).not.toContain('/run/user');
    await expect(broken.set('a', 'secret')).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });
    await expect(broken.probe()).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });
  });

  it('calls a keychain that never answers unavailable instead of hanging', async () => {
    const stuck = new KeytarSecretStore({
      service,
      timeoutMs: 150,
      keytar: {
        getPassword: () => new Promise(() => undefined),
        setPassword: () => new Promise(() => undefined),
        deletePassword: () => new Promise(() => undefined),
      },
    });
    await expect(stuck.get('a')).rejects.toMatchObject({ code: 'ERR-KEYCHAIN-UNAVAILABLE' });
  });
});
