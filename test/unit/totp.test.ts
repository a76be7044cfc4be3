import { describe, expect, it } from 'vitest';
import { checkTotp, maskSecret, newTotpSecret, totpCode, totpUri, type TotpParams } from '../../src-main/services/mfa/totp';
import { base32, oathtool } from '../fixtures/otp';

// RFC 6238 Appendix B: the seeds are ASCII digits, 20, 32 and 64 bytes long for each hash.
const SEEDS = {
  SHA1: base32(Buffer.from('12345678901234567890')),
  SHA256: base32(Buffer.from('12345678901234567890123456789012')),
  SHA512: base32(Buffer.from('1234567890123456789012345678901234567890123456789012345678901234')),
} as const;
const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

const params = (algorithm: keyof typeof SEEDS): TotpParams => ({ secret: SEEDS[algorithm], digits: 8, period: 30, algorithm });

describe('TOTP against RFC 6238 Appendix B', () => {
  it.each(VECTORS)('at T=%i accepts the SHA-1, SHA-256 and SHA-512 codes', (t, sha1, sha256, sha512) => {
    const now = t * 1000;
    expect(checkTotp(params('SHA1'), sha1, now, 0, -1)).toEqual({ ok: true, step: Math.floor(t / 30) });
    expect(checkTotp(params('SHA256'), sha256, now, 0, -1)).toMatchObject({ ok: true });
    expect(checkTotp(params('SHA512'), sha512, now, 0, -1)).toMatchObject({ ok: true });
    expect(totpCode(params('SHA256'), now)).toBe(sha256);
    // The same code under another hash is just a wrong code.
    expect(checkTotp(params('SHA1'), sha512, now, 0, -1)).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('TOTP verification', () => {
  const p: TotpParams = { secret: newTotpSecret(), digits: 6, period: 30, algorithm: 'SHA1' };
  const now = Date.UTC(2026, 10, 24, 9, 0, 15);
  const step = Math.floor(now / 30_000);

  it('makes 160-bit secrets from the CSPRNG, each different', () => {
    expect(p.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(newTotpSecret());
  });

  it('agrees with oathtool for every digits, period and hash the enrollment offers', () => {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      for (const digits of [6, 8] as const) {
        for (const period of [30, 60] as const) {
          const q = { ...p, algorithm, digits, period };
          const code = oathtool(q.secret, now, { digits, period, algorithm });
          expect(checkTotp(q, code, now, 1, -1), `${algorithm}/${digits}/${period}`).toMatchObject({ ok: true });
        }
      }
    }
  });

  it('accepts one step either side with a window of 1, and not two', () => {
    expect(checkTotp(p, oathtool(p.secret, now - 30_000), now, 1, -1)).toEqual({ ok: true, step: step - 1 });
    expect(checkTotp(p, oathtool(p.secret, now + 30_000), now, 1, -1)).toEqual({ ok: true, step: step + 1 });
    expect(checkTotp(p, oathtool(p.secret, now - 60_000), now, 1, -1)).toEqual({ ok: false, reason: 'invalid' });
    expect(checkTotp(p, oathtool(p.secret, now - 30_000), now, 0, -1)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a code of the wrong length or with non-digits before any crypto', () => {
    for (const bad of ['12345', '1234567', '12345a', ' 123456', '１２３４５６', '']) {
      expect(checkTotp(p, bad, now, 1, -1)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a code from the last accepted step or before it (RFC 6238 §5.2)', () => {
    const code = oathtool(p.secret, now);
    expect(checkTotp(p, code, now, 1, step)).toEqual({ ok: false, reason: 'replayed' });
    expect(checkTotp(p, oathtool(p.secret, now - 30_000), now, 1, step)).toEqual({ ok: false, reason: 'replayed' });
    expect(checkTotp(p, oathtool(p.secret, now + 30_000), now, 1, step)).toEqual({ ok: true, step: step + 1 });
  });

  it('writes the key URI that authenticator apps import, naming the factor so two look different', () => {
    const uri = new URL(totpUri({ ...p, digits: 8, period: 60, algorithm: 'SHA256' }, 'alice@corp', 'Phone'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Custodian:alice@corp (Phone)');
    // A colon in the factor's label would read as a second issuer prefix.
    expect(decodeURIComponent(new URL(totpUri(p, 'alice@corp', 'Work: laptop')).pathname)).toBe('/Custodian:alice@corp (Work- laptop)');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: p.secret, issuer: 'Custodian', algorithm: 'SHA256', digits: '8', period: '60' });
  });

  it('masks a secret to its first and last four characters', () => {
    const masked = maskSecret(p.secret);
    expect(masked.startsWith(p.secret.slice(0, 4))).toBe(true);
    expect(masked.endsWith(p.secret.slice(-4))).toBe(true);
    expect(masked).not.toContain(p.secret.slice(4, 28));
  });
});

describe('the key URI at the defaults', () => {
  it('still spells out algorithm, digits and period', () => {
    const uri = new URL(totpUri({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', digits: 6, period: 30, algorithm: 'SHA1' }, 'bob@corp', 'Token'));
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', issuer: 'Custodian', algorithm: 'SHA1', digits: '6', period: '30' });
  });
});

describe('Base32 (RFC 4648 §10 test vectors)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes %j as %s', (text, encoded) => {
    expect(base32(Buffer.from(text))).toBe(encoded);
  });
});
