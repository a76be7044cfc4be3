import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FactorsRepository } from '../../src-main/platform/db/repositories/factors.repository';
import { TestRandom } from '../../src-main/random';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import type { FactorMethod } from '../../src-main/services/mfa/methods/factor-method';
import { TotpMethod } from '../../src-main/services/mfa/methods/totp.method';
import { SecretVault } from '../../src-main/services/mfa/secret-vault';
import { validRequest } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

const DESKTOP: MfaContext = { source: 'desktop' };
let t: TempCustodian;
afterEach(async () => {
  await t.remove();
});

describe('the TOTP factor method (issue 10)', () => {
  let method: TotpMethod;
  let repo: FactorsRepository;
  let secret: string;
  let factorId: string;
  let profileId: string;

  beforeEach(async () => {
    t = tempCustodian();
    const { mfa } = t.custodian;
    profileId = mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP).id;
    const e = await mfa.startEnrollment({ label: 'Phone', digits: 8, period: 60, algorithm: 'SHA256' }, DESKTOP);
    factorId = e.factor.id;
    secret = await mfa.revealSecret(factorId, DESKTOP);
    await mfa.confirmEnrollment(factorId, oathtool(secret, t.clock.now(), { digits: 8, period: 60, algorithm: 'SHA256' }), DESKTOP);
    t.clock.advanceSeconds(60);
    // Its own vault, over the same keychain: the secret comes from the keychain, not the service's cache.
    method = new TotpMethod({ vault: new SecretVault(t.custodian.secrets, new TestRandom(1)), clock: t.clock, config: t.config, random: new TestRandom(1) });
    repo = new FactorsRepository(t.custodian.db);
  });

  const totp = () => {
    const factor = repo.get(profileId, factorId);
    if (factor?.type !== 'totp') throw new Error('no TOTP factor');
    return factor;
  };
  const now = (offset = 0) => oathtool(secret, t.clock.now() + offset, { digits: 8, period: 60, algorithm: 'SHA256' });

  it('verifies a code against the factor, answering with the time step it matched, and changes nothing', async () => {
    const before = totp();
    const step = Math.floor(t.clock.now() / 60_000);
    expect(await method.verify(before, now())).toEqual({ ok: true, step });
    // The method records nothing: the replay floor, the audit log and the attempt count stay.
    const rows = t.custodian.db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get();
    expect(totp()).toEqual(before);
    expect(await method.verify(before, now())).toEqual({ ok: true, step });
    expect(t.custodian.db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get()).toBe(rows);
    expect(t.custodian.db.prepare('SELECT COUNT(*) FROM mfa_attempts').pluck().get()).toBe(0);
  });

  it('refuses a used step as a replay, a wrong code as invalid and a short one as malformed', async () => {
    const used = totp();
    // The confirming code's step is the floor: the code of a minute ago is a replay.
    expect(await method.verify(used, now(-60_000))).toEqual({ ok: false, reason: 'replayed' });
    const wrong = now().startsWith('0') ? `1${now().slice(1)}` : `0${now().slice(1)}`;
    expect(await method.verify(used, wrong)).toEqual({ ok: false, reason: 'invalid' });
    expect(await method.verify(used, '123456')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('asks for a code of the factor’s digits, and provisions a key URI with its parameters', async () => {
    expect(await method.challenge(totp())).toEqual({ kind: 'code', digits: 8 });
    const { uri, secretMasked } = method.provisioning(totp(), secret, 'alice@corp');
    expect(uri).toContain('algorithm=SHA256&digits=8&period=60');
    expect(secretMasked).not.toContain(secret.slice(4, 28));
  });

  it('makes a new secret from the Random port: the same seed, the same secret', () => {
    const seeded = (seed: number): FactorMethod<'totp'> => new TotpMethod({ vault: new SecretVault(t.custodian.secrets, new TestRandom(seed)), clock: t.clock, config: t.config, random: new TestRandom(seed) });
    const params = { type: 'totp', digits: 6, period: 30, algorithm: 'SHA1' } as const;
    expect(seeded(5).enroll(params).secret).toBe(seeded(5).enroll(params).secret);
    expect(seeded(5).enroll(params).secret).not.toBe(seeded(6).enroll(params).secret);
  });
});

describe('the composition root passes the Random port to the MFA parts (issue 10)', () => {
  it('gives the same ids and backup codes for the same seed', async () => {
    const run = async (seed: number) => {
      t = tempCustodian({ random: new TestRandom(seed) });
      const { mfa } = t.custodian;
      const profile = mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
      const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
      const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
      const confirmed = await mfa.confirmEnrollment(e.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
      await t.remove();
      return { profileId: profile.id, factorId: e.factor.id, secret, codes: confirmed.backupCodes };
    };
    const first = await run(11);
    const again = await run(11);
    expect(again).toEqual(first);
    expect(first.profileId).toMatch(/^p_[a-z2-7]{16}$/);
    expect(first.codes).toHaveLength(10);
    const other = await run(12);
    expect(other.secret).not.toBe(first.secret);
    expect(other.codes).not.toEqual(first.codes);
    t = tempCustodian();
  });
});

describe('the restore desk draws its match codes from the Random port (issue 10)', () => {
  it('gives the same match codes for the same seed, each from 10 to 99', async () => {
    const run = async (seed: number) => {
      t = tempCustodian({ random: new TestRandom(seed) });
      const { key } = t.custodian.integrations.add('restic-nightly', 'alice@corp');
      const integration = t.custodian.integrations.authenticate(key);
      const codes: number[] = [];
      for (let i = 0; i < 6; i += 1) codes.push((await t.custodian.requests.create(integration, { ...validRequest, backupId: `snap-${i}` })).matchCode);
      await t.remove();
      return codes;
    };
    const first = await run(21);
    expect(await run(21)).toEqual(first);
    expect(await run(22)).not.toEqual(first);
    for (const code of first) expect(code >= 10 && code <= 99, String(code)).toBe(true);
    t = tempCustodian();
  });
});
