import { describe, expect, it } from 'vitest';
import { cryptoRandom, TestRandom } from '../../src-main/random';
import { generateBackupCodes } from '../../src-main/services/mfa/backup-codes';
import { newTotpSecret } from '../../src-main/services/mfa/totp';

describe('the Random port (issue 10)', () => {
  it('repeats itself for one seed and differs for another', () => {
    const a = new TestRandom('seed');
    const b = new TestRandom('seed');
    expect(a.bytes(50).equals(b.bytes(50))).toBe(true);
    expect([a.int(31), a.int(1000), a.int(2)]).toEqual([b.int(31), b.int(1000), b.int(2)]);
    expect(new TestRandom('seed').bytes(32).equals(new TestRandom('other').bytes(32))).toBe(false);
  });

  it('hands each byte out once: consecutive draws differ', () => {
    const r = new TestRandom(1);
    expect(r.bytes(16).equals(r.bytes(16))).toBe(false);
    expect(r.bytes(0)).toHaveLength(0);
    expect(r.bytes(100)).toHaveLength(100);
  });

  it('draws integers in [0, max) and reaches every value', () => {
    const r = new TestRandom(2);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i += 1) {
      const value = r.int(31);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(31);
      seen.add(value);
    }
    expect(seen.size).toBe(31);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(1.5)).toThrow(RangeError);
  });

  it('makes TOTP secrets and backup codes repeatable in tests, and the CSPRNG does not', () => {
    expect(newTotpSecret(new TestRandom(3))).toBe(newTotpSecret(new TestRandom(3)));
    expect(newTotpSecret(new TestRandom(3))).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateBackupCodes(new TestRandom(4))).toEqual(generateBackupCodes(new TestRandom(4)));
    expect(newTotpSecret(cryptoRandom)).not.toBe(newTotpSecret(cryptoRandom));
    expect(cryptoRandom.bytes(32)).toHaveLength(32);
  });
});
