import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_ALPHABET,
  backupCodeHint,
  backupCodeMac,
  findBackupCode,
  formatBackupCode,
  generateBackupCodes,
  normalizeBackupCode,
} from '../../src-main/services/mfa/backup-codes';
import { afterFailure, retryAfterSeconds } from '../../src-main/services/mfa/attempt-guard';

describe('backup codes', () => {
  it('are ten distinct codes of eight unambiguous characters', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{8}$/);
    for (const ambiguous of '01ILO') expect(BACKUP_ALPHABET).not.toContain(ambiguous);
  });

  it('are typed any way: case, spaces and the dash do not matter', () => {
    expect(formatBackupCode('ABCDEFGH')).toBe('ABCD-EFGH');
    expect(normalizeBackupCode(' abcd-efgh ')).toBe('ABCDEFGH');
    expect(normalizeBackupCode('ABCD EFGH')).toBe('ABCDEFGH');
    expect(normalizeBackupCode('ABCDEFG')).toBeNull();
    expect(normalizeBackupCode('ABCDEFG0')).toBeNull();
  });

  it('are found by HMAC under the key, and only under that key', () => {
    const key = randomBytes(32);
    const codes = generateBackupCodes();
    const macs = codes.map((c) => backupCodeMac(key, c));
    expect(findBackupCode(key, codes[3]!, macs)).toBe(3);
    expect(findBackupCode(randomBytes(32), codes[3]!, macs)).toBe(-1);
    expect(findBackupCode(key, 'ZZZZZZZZ', macs)).toBe(-1);
    expect(macs[0]).not.toContain(codes[0]);
    expect(backupCodeHint('ABCDEFGH')).toBe('A…H');
  });
});

describe('the attempt guard', () => {
  const policy = { maxAttempts: 5, windowMs: 300_000 };

  it('blocks after five failures, then doubles the block with each further failure', () => {
    let state;
    let now = 0;
    for (let i = 1; i <= 4; i += 1) {
      const r = afterFailure(state, now, policy);
      expect(r.blockedNow).toBe(false);
      state = r.state;
    }
    let r = afterFailure(state, now, policy);
    expect(r.blockedNow).toBe(true);
    expect(retryAfterSeconds(r.state, now)).toBe(30);
    now += 30_000;
    expect(retryAfterSeconds(r.state, now)).toBe(0);
    r = afterFailure(r.state, now, policy);
    expect(retryAfterSeconds(r.state, now)).toBe(60);
    now += 60_000;
    r = afterFailure(r.state, now, policy);
    expect(retryAfterSeconds(r.state, now)).toBe(120);
  });

  it('forgets the failures after a quiet window, and the backoff after another', () => {
    const blocked = [1, 2, 3, 4, 5].reduce((s: ReturnType<typeof afterFailure> | undefined) => afterFailure(s?.state, 0, policy), undefined)!;
    expect(blocked.state.lockouts).toBe(1);
    const later = afterFailure(blocked.state, 300_000, policy);
    expect(later.state.failures).toBe(1);
    expect(later.state.lockouts).toBe(1);
    const muchLater = afterFailure(later.state, 1_000_000, policy);
    expect(muchLater.state).toMatchObject({ failures: 1, lockouts: 0 });
  });
});
