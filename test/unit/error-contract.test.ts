import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS, messageKey } from '../../src-shared/errors';
import { catalogs, createI18n, errorMessage, LANGUAGES } from '../../src-shared/i18n';

function leafKeys(node: object, prefix = ''): string[] {
  return Object.entries(node).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? leafKeys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

describe('the error contract', () => {
  it('holds every code DESIGN.md names, each with an HTTP status', () => {
    const named = [
      'ERR-MFA-REQUIRED', 'ERR-MFA-INVALID', 'ERR-MFA-CHAIN-BREACHED', 'ERR-MFA-RATE-LIMITED',
      'ERR-RESTORE-POLICY-DENIED', 'ERR-RESTORE-EXPIRED', 'ERR-RESTORE-TOKEN-EXPIRED',
      'ERR-RESTORE-TOKEN-INVALID', 'ERR-KEYCHAIN-UNAVAILABLE', 'ERR-VALIDATION', 'ERR-MFA-EXPIRED',
      'ERR-MFA-REPLAYED', 'ERR-MFA-POLICY-UNSATISFIABLE', 'ERR-RESTORE-SELF-APPROVAL',
      'ERR-RESTORE-INCIDENT-MODE', 'ERR-RESTORE-MATCH-MISMATCH', 'ERR-AUTH-INVALID-KEY',
      'ERR-RATE-LIMITED', 'ERR-PAYLOAD-TOO-LARGE', 'ERR-ORIGIN-FORBIDDEN', 'ERR-NOT-FOUND', 'ERR-INTERNAL',
    ];
    expect(ERROR_CODES).toEqual(expect.arrayContaining(named));
    expect(ERRORS['ERR-AUTH-INVALID-KEY'].status).toBe(401);
    expect(ERRORS['ERR-RATE-LIMITED'].status).toBe(429);
    expect(ERRORS['ERR-PAYLOAD-TOO-LARGE'].status).toBe(413);
    expect(ERRORS['ERR-ORIGIN-FORBIDDEN'].status).toBe(403);
    expect(ERRORS['ERR-NOT-FOUND'].status).toBe(404);
    expect(ERRORS['ERR-INTERNAL'].status).toBe(500);
  });

  it.each(LANGUAGES)('has a %s message for every code', (language) => {
    const t = createI18n(language).t;
    for (const code of ERROR_CODES) {
      const text = t(messageKey(code));
      expect(text, `${language} lacks ${code}`).not.toBe(messageKey(code));
      expect(text.length).toBeGreaterThan(3);
    }
  });

  it('keeps the en and tr catalogs key for key', () => {
    expect(leafKeys(catalogs.tr).sort()).toEqual(leafKeys(catalogs.en).sort());
  });

  it('says only "invalid" for a replayed code, in both languages', () => {
    for (const language of LANGUAGES) {
      const t = createI18n(language).t;
      expect(t(messageKey('ERR-MFA-REPLAYED'))).toBe(t(messageKey('ERR-MFA-INVALID')));
    }
  });

  it('interpolates safe details into the message', () => {
    expect(errorMessage(createI18n('tr').t, 'ERR-MFA-RATE-LIMITED', { retryAfterSeconds: 42 })).toContain('42 sn');
    expect(errorMessage(createI18n('en').t, 'ERR-VALIDATION', { field: 'language' })).toContain('language');
  });
});
