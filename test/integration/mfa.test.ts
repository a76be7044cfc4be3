import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import type { SecretStore } from '../../src-main/platform/keychain/secret-store';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { secretAccount } from '../../src-main/services/mfa/mfa.service';
import { oathtool } from '../fixtures/otp';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { failsWith } from '../fixtures/fails-with';

const DESKTOP: MfaContext = { source: 'desktop' };
const CLI: MfaContext = { source: 'cli' };
let t: TempCustodian;

beforeEach(() => {
  t = tempCustodian();
});
afterEach(async () => {
  await t.remove();
});

/** Profile, one confirmed factor: MFA on. Returns the factor's secret and the backup codes. */
async function enrolled(role: 'operator' | 'admin' = 'admin') {
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role }, DESKTOP);
  const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
  const secret = await mfa.revealSecret(enrollment.factor.id, DESKTOP);
  const confirmed = await mfa.confirmEnrollment(enrollment.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
  return { enrollment, secret, factorId: enrollment.factor.id, backupCodes: confirmed.backupCodes ?? [] };
}

function code(secret: string): string {
  return oathtool(secret, t.clock.now());
}

describe('enrollment', () => {
  it('puts a 160-bit secret in the keychain and answers with a key URI, a QR code and a masked secret', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    const e = await mfa.startEnrollment({ label: 'Phone', digits: 8, period: 60, algorithm: 'SHA256' }, undefined, DESKTOP);
    const profile = mfa.requireProfile();
    const stored = await t.custodian.secrets.get(secretAccount(profile.id, e.factor.id));
    expect(stored).toMatch(/^[A-Z2-7]{32}$/);
    expect(e.factor).toMatchObject({ state: 'pending', digits: 8, period: 60, algorithm: 'SHA256', label: 'Phone' });
    // The factor's label is in the account name, so two factors look different in the phone app.
    expect(e.uri).toBe(`otpauth://totp/Custodian:alice%40corp%20(Phone)?secret=${stored}&issuer=Custodian&algorithm=SHA256&digits=8&period=60`);
    expect(e.secretMasked).not.toContain(stored!.slice(4, 28));

    // The QR image says exactly the URI (zbarimg, an independent decoder).
    const png = join(t.dir, 'qr.png');
    writeFileSync(png, Buffer.from(e.qrDataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect(execFileSync('zbarimg', ['--raw', '-q', png], { encoding: 'utf8' }).trim()).toBe(e.uri);
  });

  it('stays pending until a correct code, then turns MFA on with ten backup codes', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
    const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
    await failsWith(mfa.confirmEnrollment(e.factor.id, '000000', DESKTOP), 'ERR-MFA-INVALID');
    expect(mfa.listFactors().factors[0]?.state).toBe('pending');
    expect(mfa.requireProfile().mfaEnabled).toBe(false);

    const done = await mfa.confirmEnrollment(e.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
    expect(done.factor.state).toBe('active');
    expect(done.backupCodes).toHaveLength(10);
    expect(mfa.requireProfile().mfaEnabled).toBe(true);
    expect(mfa.listFactors().backupCodes).toMatchObject({ remaining: 10, total: 10, low: false });

    // A second factor adds to MFA and brings no new codes; starting it takes a current code.
    t.clock.advanceSeconds(30);
    const second = await mfa.startEnrollment({ label: 'Token', digits: 6, period: 30, algorithm: 'SHA1' }, oathtool(secret, t.clock.now()), DESKTOP);
    const secret2 = await mfa.revealSecret(second.factor.id, DESKTOP);
    expect((await mfa.confirmEnrollment(second.factor.id, oathtool(secret2, t.clock.now()), DESKTOP)).backupCodes).toBeNull();
  });

  it('shows the secret for manual entry once', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
    await mfa.revealSecret(e.factor.id, DESKTOP);
    await failsWith(mfa.revealSecret(e.factor.id, DESKTOP), 'ERR-MFA-SECRET-ALREADY-SHOWN');
  });

  it('lets a pending enrollment lapse after ten minutes and deletes its secret', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
    const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
    const account = secretAccount(mfa.requireProfile().id, e.factor.id);
    t.clock.advanceSeconds(9 * 60);
    expect(await mfa.expirePendingEnrollments()).toBe(0);
    t.clock.advanceSeconds(61);
    expect(mfa.listFactors().factors).toEqual([]);
    await failsWith(mfa.confirmEnrollment(e.factor.id, oathtool(secret, t.clock.now()), DESKTOP), 'ERR-MFA-EXPIRED');
    expect(await mfa.expirePendingEnrollments()).toBe(0);
    expect(await t.custodian.secrets.get(account)).toBeNull();
    expect(t.custodian.audit.list(5).entries.map((a) => a.event)).toContain('mfa_setup_expired');
  });

  it('fails closed when the keychain cannot take the secret: no factor is recorded', async () => {
    const unavailable = (): Promise<never> => Promise.reject(new AppError('ERR-KEYCHAIN-UNAVAILABLE'));
    const locked: SecretStore = { get: unavailable, set: unavailable, delete: unavailable, probe: unavailable };
    const other = tempCustodian({ secrets: locked });
    other.custodian.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    await failsWith(other.custodian.mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP), 'ERR-KEYCHAIN-UNAVAILABLE');
    expect(other.custodian.mfa.listFactors().factors).toEqual([]);
    await other.remove();
  });
});

describe('verification', () => {
  it('accepts a code once: a replay within its step and a code from an earlier step are refused', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    const first = code(secret);
    await expect(mfa.verify(first, DESKTOP, { allowBackup: false, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
    const error = await failsWith(mfa.verify(first, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-REPLAYED');
    expect(error.details).toBeUndefined();
    t.clock.advanceSeconds(30);
    const older = oathtool(secret, t.clock.now() - 30_000);
    await failsWith(mfa.verify(older, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-REPLAYED');
    await expect(mfa.verify(code(secret), DESKTOP, { allowBackup: false, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
  });

  it('keeps the replay floor across a restart', async () => {
    const { secret } = await enrolled();
    const used = code(secret);
    await t.custodian.mfa.verify(used, DESKTOP, { allowBackup: false, purpose: 'test' });
    t.reopen();
    await failsWith(t.custodian.mfa.verify(used, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-REPLAYED');
  });

  it('rate-limits after five failures per profile, whatever the source, with a growing backoff that survives a restart', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    for (let i = 0; i < 5; i += 1) await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    const limited = await failsWith(mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED');
    expect(limited.details).toEqual({ retryAfterSeconds: 30 });
    // One budget for the window and the shell (issue 9, item 3): the shell is refused too.
    expect((await failsWith(mfa.verify(code(secret), CLI, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED')).details).toEqual({ retryAfterSeconds: 30 });

    await t.close();
    t.reopen();
    t.clock.advanceSeconds(10);
    expect((await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED')).details).toEqual({ retryAfterSeconds: 20 });
    t.clock.advanceSeconds(20);
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    expect((await failsWith(t.custodian.mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED')).details).toEqual({ retryAfterSeconds: 60 });
    t.clock.advanceSeconds(60);
    t.clock.advanceSeconds(30);
    await expect(t.custodian.mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
  });

  it('audits every outcome with the factor and the source, and never the code', async () => {
    const { secret, factorId, backupCodes } = await enrolled();
    const { mfa } = t.custodian;
    const good = code(secret);
    await mfa.verify(good, { source: 'desktop', sourceIp: '192.168.4.20' }, { allowBackup: false, purpose: 'unlock' });
    for (let i = 0; i < 5; i += 1) await failsWith(mfa.verify('123456', DESKTOP, { allowBackup: true, purpose: 'unlock' }), 'ERR-MFA-INVALID');
    await t.custodian.audit.settled();
    mfa.flush();
    const events = [...t.custodian.audit.export()];
    const names = events.map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(['profile_created', 'mfa_setup_initiated', 'mfa_secret_revealed', 'mfa_enabled', 'backup_codes_regenerated', 'mfa_challenge_succeeded', 'mfa_challenge_failed', 'mfa_rate_limited']));
    const success = events.find((e) => e.event === 'mfa_challenge_succeeded');
    expect(success).toMatchObject({ subject: factorId, source: '192.168.4.x', data: { factorId, purpose: 'unlock', source: 'desktop' } });
    const text = JSON.stringify(events);
    for (const secretThing of [secret, good, '123456', ...backupCodes, ...backupCodes.map((c) => c.replace('-', ''))]) {
      expect(text).not.toContain(secretThing);
    }
  });

  it('keeps no secret and no code in the database file', async () => {
    const { secret, backupCodes } = await enrolled();
    await t.close();
    const bytes = ['', '-wal'].map((s) => (existsSync(t.dbFile + s) ? readFileSync(t.dbFile + s).toString('latin1') : '')).join('');
    expect(bytes.length).toBeGreaterThan(1000);
    for (const thing of [secret, ...backupCodes.map((c) => c.replace('-', ''))]) expect(bytes).not.toContain(thing);
  });
});

describe('backup codes', () => {
  it('each work once, count down, and warn at three left', async () => {
    const { backupCodes } = await enrolled();
    const { mfa } = t.custodian;
    await expect(mfa.verify(backupCodes[0]!.toLowerCase(), DESKTOP, { allowBackup: true, purpose: 'unlock' })).resolves.toEqual({ method: 'backup' });
    await failsWith(mfa.verify(backupCodes[0]!, DESKTOP, { allowBackup: true, purpose: 'unlock' }), 'ERR-MFA-INVALID');
    for (const c of backupCodes.slice(1, 7)) await mfa.verify(c, DESKTOP, { allowBackup: true, purpose: 'unlock' });
    expect(mfa.listFactors().backupCodes).toMatchObject({ remaining: 3, low: true });
    // Not where only an authenticator code will do.
    await failsWith(mfa.verify(backupCodes[8]!, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
  });

  it('are all replaced on regeneration, which takes an authenticator code', async () => {
    const { secret, backupCodes } = await enrolled();
    const { mfa } = t.custodian;
    await failsWith(mfa.regenerateBackupCodes(backupCodes[0]!, DESKTOP), 'ERR-MFA-INVALID');
    const fresh = await mfa.regenerateBackupCodes(code(secret), DESKTOP);
    expect(fresh.codes).toHaveLength(10);
    expect(fresh.status).toMatchObject({ remaining: 10, low: false });
    await failsWith(mfa.verify(backupCodes[1]!, DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    await expect(mfa.verify(fresh.codes[1]!, DESKTOP, { allowBackup: true, purpose: 'test' })).resolves.toEqual({ method: 'backup' });
  });

  it('expire after 90 days', async () => {
    const { backupCodes } = await enrolled();
    t.clock.advanceSeconds(90 * 24 * 3600);
    await failsWith(t.custodian.mfa.verify(backupCodes[0]!, DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    expect(t.custodian.mfa.listFactors().backupCodes.remaining).toBe(0);
  });
});

describe('disabling a factor', () => {
  it('never leaves an admin without MFA', async () => {
    const { secret, factorId } = await enrolled('admin');
    await failsWith(t.custodian.mfa.disableFactor(factorId, code(secret), DESKTOP), 'ERR-MFA-ADMIN-REQUIRED');
    expect(t.custodian.mfa.listFactors().factors[0]?.state).toBe('active');
  });

  it('takes a current authenticator code, not a backup code, deletes the secret, and turns MFA off with the last one', async () => {
    const { secret, factorId, backupCodes } = await enrolled('operator');
    const { mfa } = t.custodian;
    const account = secretAccount(mfa.requireProfile().id, factorId);
    await failsWith(mfa.disableFactor(factorId, '000000', DESKTOP), 'ERR-MFA-INVALID');
    // Issue 9: a backup code alone can no longer take a factor away.
    await failsWith(mfa.disableFactor(factorId, backupCodes[0]!, DESKTOP), 'ERR-MFA-INVALID');
    expect(mfa.listFactors().backupCodes.remaining).toBe(10);
    const disabled = await mfa.disableFactor(factorId, code(secret), DESKTOP);
    expect(disabled.state).toBe('disabled');
    expect(await t.custodian.secrets.get(account)).toBeNull();
    expect(mfa.requireProfile().mfaEnabled).toBe(false);
    expect(mfa.listFactors()).toEqual({ factors: [], backupCodes: { remaining: 0, total: 0, expiresAt: null, low: false } });
  });
});

describe('the profile', () => {
  it('is created once, and its role changes only with a valid authenticator code', async () => {
    const { secret, backupCodes } = await enrolled('operator');
    const { mfa } = t.custodian;
    await failsWith(() => mfa.initProfile({ displayName: 'Mallory', principal: 'mallory@corp', role: 'security-admin' }, DESKTOP), 'ERR-PROFILE-EXISTS');
    await failsWith(mfa.setRole('security-admin', '000000', DESKTOP), 'ERR-MFA-INVALID');
    await failsWith(mfa.setRole('security-admin', backupCodes[0]!, DESKTOP), 'ERR-MFA-INVALID');
    expect(mfa.requireProfile().role).toBe('operator');
    expect((await mfa.setRole('security-admin', code(secret), DESKTOP)).role).toBe('security-admin');
  });
});

describe('the lock', () => {
  it('starts locked with MFA on, refuses every IPC call but its own, and unlocks with a code', async () => {
    const { secret } = await enrolled();
    t.reopen();
    const { lock } = t.custodian;
    expect(lock.status()).toMatchObject({ locked: true, hasProfile: true, mfaEnabled: true, idleLockMinutes: 5 });
    await failsWith(lock.unlock('000000', DESKTOP), 'ERR-MFA-INVALID');
    expect(lock.isLocked()).toBe(true);
    expect(await lock.unlock(code(secret), DESKTOP)).toMatchObject({ locked: false });
  });

  it('locks itself after five idle minutes, and activity holds it open', async () => {
    const { secret } = await enrolled();
    t.reopen();
    const { lock } = t.custodian;
    await lock.unlock(code(secret), DESKTOP);
    t.clock.advanceSeconds(4 * 60);
    lock.touch();
    t.clock.advanceSeconds(4 * 60);
    lock.tick();
    expect(lock.isLocked()).toBe(false);
    t.clock.advanceSeconds(60);
    lock.tick();
    expect(lock.isLocked()).toBe(true);
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'app_locked', data: { reason: 'idle' } });
  });

  it('opens with a backup code too', async () => {
    const { backupCodes } = await enrolled();
    t.reopen();
    await expect(t.custodian.lock.unlock(backupCodes[2]!, DESKTOP)).resolves.toMatchObject({ locked: false });
  });

  it('has nothing to lock while MFA is off', () => {
    expect(t.custodian.lock.lock('manual')).toMatchObject({ locked: false, hasProfile: false, mfaEnabled: false });
  });
});


describe('two processes on one data directory', () => {
  it('refuse a code the other one already accepted, even with a stale copy of the factors', async () => {
    const { secret } = await enrolled();
    const db = (await import('../../src-main/platform/db/database')).openDatabase({ file: t.dbFile, synchronous: 'FULL' });
    const { createCustodian } = await import('../../src-main/composition');
    const other = createCustodian({ config: t.config, clock: t.clock, db, secrets: t.custodian.secrets });
    // Both have read the factor (and its replay floor) before either uses the code.
    t.custodian.mfa.profile();
    other.mfa.profile();
    const shared = code(secret);
    await expect(other.mfa.verify(shared, CLI, { allowBackup: false, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
    await failsWith(t.custodian.mfa.verify(shared, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-REPLAYED');
    await other.dispose();
  });
});

describe('the rate limit under concurrency (issue 9, item 3)', () => {
  const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };

  /** A code certainly wrong in the ±1 window around now. */
  function wrongCode(secret: string): string {
    const window = [-30_000, 0, 30_000].map((d) => oathtool(secret, t.clock.now() + d));
    return ['000000', '111111', '222222'].find((c) => !window.includes(c))!;
  }

  it('lets at most five of 300 concurrent unlocks check a code, and refuses the right one at position 250', async () => {
    // Every keychain read is counted: a check of a locked desk reads the factor's secret first.
    await t.remove();
    const reads: string[] = [];
    const service = `custodian-test-race-${process.pid}-${Date.now()}`;
    const real = new KeytarSecretStore({ service, timeoutMs: 5000 });
    const counting: SecretStore = {
      get: (account) => {
        reads.push(account);
        return real.get(account);
      },
      set: (account, secret) => real.set(account, secret),
      delete: (account) => real.delete(account),
      probe: () => real.probe(),
    };
    t = tempCustodian({ secrets: counting });
    const { secret, factorId } = await enrolled();
    t.reopen();
    const { createAppRouter } = await import('../../src-main/ipc/app-router');
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    expect(t.custodian.lock.isLocked()).toBe(true);
    const headBefore = t.custodian.audit.head()?.id ?? 0;
    reads.length = 0;

    const right = code(secret);
    const wrong = wrongCode(secret);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => app.handle('lock:unlock', { code: i === 249 ? right : wrong }, APP)),
    );
    const codes = results.map((r) => (r.ok ? 'ok' : r.error.code));
    expect(codes.filter((c) => c === 'ERR-MFA-INVALID')).toHaveLength(5);
    expect(codes.filter((c) => c === 'ERR-MFA-RATE-LIMITED')).toHaveLength(295);
    expect(codes[249]).toBe('ERR-MFA-RATE-LIMITED');
    expect(t.custodian.lock.isLocked()).toBe(true);
    // Five real checks: five reads of the factor's secret, five failures audited, one block.
    expect(reads.filter((account) => account.endsWith(factorId)).length).toBeLessThanOrEqual(5);
    t.custodian.mfa.flush();
    const events = [...t.custodian.audit.export()].filter((e) => e.id > headBefore).map((e) => e.event);
    expect(events.filter((e) => e === 'mfa_challenge_failed')).toHaveLength(5);
    expect(events.filter((e) => e === 'mfa_rate_limited')).toHaveLength(1);
  });

  it('counts the shell and the window against one budget', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    for (let i = 0; i < 3; i += 1) await failsWith(mfa.verify(wrongCode(secret), CLI, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    for (let i = 0; i < 2; i += 1) await failsWith(mfa.verify(wrongCode(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    await failsWith(mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED');
  });

  it('releases the slots with a success, as before', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    for (let i = 0; i < 4; i += 1) await failsWith(mfa.verify(wrongCode(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    await expect(mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
    t.clock.advanceSeconds(30);
    for (let i = 0; i < 4; i += 1) await failsWith(mfa.verify(wrongCode(secret), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    await expect(mfa.verify(code(secret), DESKTOP, { allowBackup: true, purpose: 'test' })).resolves.toMatchObject({ method: 'totp' });
  });
});

describe('recovery with a backup code (issue 9, item 4)', () => {
  /** The owner (an admin with the phone and the codes), then Mallory with one leaked backup code. */
  async function takeoverAttempt() {
    const owner = await enrolled('admin');
    const { mfa } = t.custodian;
    const started = await mfa.startEnrollment({ label: 'Mallory', digits: 6, period: 30, algorithm: 'SHA1' }, owner.backupCodes[0]!, CLI);
    expect(started.factor).toMatchObject({ state: 'pending', recovery: true, recoveryUntil: null });
    const malloryFactor = started.factor.id;
    const mallory = await mfa.revealSecret(malloryFactor, CLI);
    const confirmed = await mfa.confirmEnrollment(malloryFactor, oathtool(mallory, t.clock.now()), CLI);
    const until = t.clock.now() + 24 * 3600_000;
    expect(confirmed.factor).toMatchObject({ state: 'active', recovery: true, recoveryUntil: new Date(until).toISOString() });
    t.clock.advanceSeconds(30);
    return { owner, mallory, malloryFactor, until };
  }

  it('lets a leaked backup code add a factor that cannot regenerate codes, disable the owner’s or change the role', async () => {
    const { owner, mallory, until } = await takeoverAttempt();
    const { mfa } = t.custodian;
    const refused = await failsWith(mfa.regenerateBackupCodes(code(mallory), CLI), 'ERR-MFA-RECOVERY-PENDING');
    expect(refused.details).toEqual({ until });
    await failsWith(mfa.disableFactor(owner.factorId, code(mallory), CLI), 'ERR-MFA-RECOVERY-PENDING');
    await failsWith(mfa.setRole('operator', code(mallory), CLI), 'ERR-MFA-RECOVERY-PENDING');
    await failsWith(mfa.disableFactor(owner.factorId, owner.backupCodes[1]!, CLI), 'ERR-MFA-INVALID');
    // A refused code is not used up: it still unlocks, which a recovery factor may do.
    await expect(mfa.verify(code(mallory), CLI, { allowBackup: false, purpose: 'unlock' })).resolves.toMatchObject({ method: 'totp' });
    // The owner's factor and codes are untouched; the refusals are audited.
    expect(mfa.listFactors().factors.find((f) => f.id === owner.factorId)?.state).toBe('active');
    expect(mfa.listFactors().backupCodes.remaining).toBe(9);
    expect(mfa.requireProfile().role).toBe('admin');
    const refusals = t.custodian.audit.list(20).entries.filter((e) => e.event === 'mfa_recovery_refused').map((e) => e.data.purpose);
    expect(refusals.sort()).toEqual(['change-role', 'disable-factor', 'regenerate-backup-codes']);
    // Nor can it mint a factor with full rights: one enrolled with its code is a recovery factor too.
    t.clock.advanceSeconds(30);
    const chained = await mfa.startEnrollment({ label: 'Mallory 2', digits: 6, period: 30, algorithm: 'SHA1' }, code(mallory), CLI);
    expect(chained.factor.recovery).toBe(true);
  });

  it('gives the recovery factor full rights once the delay has passed', async () => {
    const { owner, mallory } = await takeoverAttempt();
    const { mfa } = t.custodian;
    t.clock.advanceSeconds(24 * 3600 - 60);
    await failsWith(mfa.regenerateBackupCodes(code(mallory), CLI), 'ERR-MFA-RECOVERY-PENDING');
    t.clock.advanceSeconds(60);
    expect(mfa.listFactors().factors.find((f) => f.label === 'Mallory')).toMatchObject({ recovery: false, recoveryUntil: null });
    await expect(mfa.regenerateBackupCodes(code(mallory), CLI)).resolves.toMatchObject({ status: { remaining: 10 } });
    t.clock.advanceSeconds(30);
    await expect(mfa.disableFactor(owner.factorId, code(mallory), CLI)).resolves.toMatchObject({ state: 'disabled' });
  });

  it('lets the owner stop it during the delay with another factor: it is disabled, its secret deleted, audited', async () => {
    const { owner, malloryFactor } = await takeoverAttempt();
    const { mfa } = t.custodian;
    const account = secretAccount(mfa.requireProfile().id, malloryFactor);
    await expect(mfa.disableFactor(malloryFactor, code(owner.secret), DESKTOP)).resolves.toMatchObject({ state: 'disabled' });
    expect(await t.custodian.secrets.get(account)).toBeNull();
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'mfa_recovery_cancelled', subject: malloryFactor, data: { label: 'Mallory', source: 'desktop' } });
  });

  it('takes a code to add a factor once MFA is on, and a factor set up before MFA was on needs one to be confirmed', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    const first = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
    const early = await mfa.startEnrollment({ label: 'Early', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP);
    const secret = await mfa.revealSecret(first.factor.id, DESKTOP);
    const earlySecret = await mfa.revealSecret(early.factor.id, DESKTOP);
    await mfa.confirmEnrollment(first.factor.id, code(secret), DESKTOP);
    t.clock.advanceSeconds(30);
    await failsWith(mfa.startEnrollment({ label: 'Mallory', digits: 6, period: 30, algorithm: 'SHA1' }, undefined, DESKTOP), 'ERR-MFA-REQUIRED');
    await failsWith(mfa.confirmEnrollment(early.factor.id, code(earlySecret), DESKTOP), 'ERR-MFA-REQUIRED');
    await mfa.resumeEnrollment(early.factor.id, code(secret), DESKTOP);
    await expect(mfa.confirmEnrollment(early.factor.id, code(earlySecret), DESKTOP)).resolves.toMatchObject({ factor: { state: 'active', recovery: false } });
  });
});

describe('notices of factor changes (issue 9, item 4)', () => {
  it('raises a desktop notice for every factor change, with no code or secret in it', async () => {
    await t.remove();
    const notices: { title: string; body: string }[] = [];
    t = tempCustodian({ notifier: { notify: (n) => notices.push(n) } });
    const { secret, factorId, backupCodes } = await enrolled('operator');
    const { mfa } = t.custodian;
    const second = await mfa.startEnrollment({ label: 'Tablet', digits: 6, period: 30, algorithm: 'SHA1' }, backupCodes[0]!, CLI);
    const tablet = await mfa.revealSecret(second.factor.id, CLI);
    await mfa.confirmEnrollment(second.factor.id, code(tablet), CLI);
    t.clock.advanceSeconds(30);
    await mfa.regenerateBackupCodes(code(secret), DESKTOP);
    t.clock.advanceSeconds(30);
    await mfa.setRole('admin', code(secret), DESKTOP);
    t.clock.advanceSeconds(30);
    await mfa.disableFactor(second.factor.id, code(secret), DESKTOP);
    t.clock.advanceSeconds(30);
    const third = await mfa.startEnrollment({ label: 'Token', digits: 6, period: 30, algorithm: 'SHA1' }, code(secret), DESKTOP);
    t.clock.advanceSeconds(30);
    const token = await mfa.revealSecret(third.factor.id, DESKTOP);
    await mfa.confirmEnrollment(third.factor.id, code(token), DESKTOP);
    await mfa.disableFactor(third.factor.id, code(secret), DESKTOP);
    void factorId;
    expect(notices.map((n) => n.title)).toEqual([
      'An authenticator is being added', // Phone, during setup
      'Authenticator added',
      'An authenticator is being added', // Tablet, with a backup code, from a shell
      'Authenticator added',
      'Backup codes replaced',
      'Role changed',
      'Recovery stopped',
      'An authenticator is being added',
      'Authenticator added',
      'Authenticator disabled',
    ]);
    expect(notices[3]!.body).toMatch(/^Tablet was added with a backup code, from a shell\. Until .+ it cannot manage your factors\./);
    expect(notices[5]!.body).toBe('Operator → Administrator, in the Custodian window.');
    const text = JSON.stringify(notices);
    for (const secretThing of [secret, tablet, token, ...backupCodes]) expect(text).not.toContain(secretThing);
  });

  it('raises the notice in this process for a change another process made (the shell)', async () => {
    await t.remove();
    const notices: { title: string; body: string }[] = [];
    let changed = 0;
    t = tempCustodian({ notifier: { notify: (n) => notices.push(n) } });
    const { secret } = await enrolled('admin');
    t.custodian.mfa.onChanged(() => (changed += 1));
    notices.length = 0;
    const db = (await import('../../src-main/platform/db/database')).openDatabase({ file: t.dbFile, synchronous: 'FULL' });
    const { createCustodian } = await import('../../src-main/composition');
    const shell = createCustodian({ config: t.config, clock: t.clock, db, secrets: t.custodian.secrets });
    await shell.mfa.startEnrollment({ label: 'Laptop', digits: 6, period: 30, algorithm: 'SHA1' }, code(secret), CLI);
    await shell.dispose();
    expect(notices).toEqual([]);
    t.custodian.tick();
    expect(notices).toEqual([{ title: 'An authenticator is being added', body: 'Laptop, from a shell. If this was not you, check the Factors screen.' }]);
    expect(changed).toBeGreaterThan(0);
    // Once only.
    t.custodian.tick();
    expect(notices).toHaveLength(1);
  });
});
