import { describe, expect, it } from 'vitest';
import { isE164, maskPhone, parsePhone, phoneInputSchema } from '../../src-shared/domain/phone';

describe('phone numbers (issue 12)', () => {
  it.each([
    ['Turkey, mobile, as people write it', '+90 532 123 45 67', '+905321234567', 'TR', '+90 ••• ••• •• 67'],
    ['the United States, with punctuation', '+1 (213) 373-4253', '+12133734253', 'US', '+1 ••• ••• ••53'],
    ['the United Kingdom, London', '+44 20 7183 8750', '+442071838750', 'GB', '+44 •• •••• ••50'],
    ['Germany, mobile', '+49 1512 3456789', '+4915123456789', 'DE', '+49 •••• •••••89'],
    ['Japan, Tokyo', '+81-3-1234-5678', '+81312345678', 'JP', '+81 • •••• ••78'],
    ['Brazil, São Paulo mobile', '+55 11 98765-4321', '+5511987654321', 'BR', '+55 •• ••••• ••21'],
    ['India, mobile', '+91 98765 43210', '+919876543210', 'IN', '+91 ••••• •••10'],
    ['Turkey, typed in Arabic-Indic digits', '+٩٠ ٥٣٢ ١٢٣ ٤٥ ٦٧', '+905321234567', 'TR', '+90 ••• ••• •• 67'],
  ])('accepts %s as E.164 and masks it to the country code and last two digits', (_name, typed, e164, country, masked) => {
    const parsed = parsePhone(typed);
    expect(parsed).toMatchObject({ ok: true, e164, country, masked });
    expect(phoneInputSchema.parse(typed)).toBe(e164);
    expect(isE164(e164)).toBe(true);
    expect(maskPhone(e164)).toBe(masked);
    // The mask keeps exactly the calling code and two digits.
    expect(masked.replace(/\D/g, '')).toBe(`${parsed.ok ? parsed.countryCallingCode : ''}${e164.slice(-2)}`);
  });

  it.each([
    ['empty', '', 'empty'],
    ['only spaces', '   ', 'empty'],
    ['national form without a country code', '0532 123 45 67', 'not-international'],
    ['a number in a range no carrier uses (555 fiction)', '+1 555 555 5555', 'invalid'],
    ['too many digits', '+90 532 123 45 67 89 01', 'invalid'],
    ['an unassigned country code', '+999 123 456', 'invalid'],
    ['letters mixed in', '+90 532 ABC 45 67', 'characters'],
    ['an extension, which cannot receive SMS', '+1 213 373 4253 ext 5', 'characters'],
    ['an email address', 'alice@corp.example', 'characters'],
    ['a number hidden in a long text', `+90 ${'1'.repeat(60)}`, 'too-long'],
  ])('refuses %s', (_name, typed, problem) => {
    expect(parsePhone(typed)).toEqual({ ok: false, problem });
    const result = phoneInputSchema.safeParse(typed);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues[0]?.message).toBe(problem);
  });

  it('drops the invisible characters a paste brings along (zero-width, BOM, bidi marks)', () => {
    for (const junk of ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u200e', '\u200f', '\u061c']) {
      expect(parsePhone(`${junk}+90 532${junk} 123 45 67${junk}`), JSON.stringify(junk)).toMatchObject({ ok: true, e164: '+905321234567' });
    }
  });

  it('refuses bidi overrides and isolates, which can show the digits in another order than they are stored', () => {
    // Shown as "+90 532 123 76 54" by a bidi-aware renderer, stored as "...45 67" (Trojan Source).
    const reordered = '+90 532 123 \u202e76 54\u202c';
    for (const text of [reordered, '\u2066+905321234567\u2069', '\u202d+905321234567', '+90\u202b5321234567']) {
      expect(parsePhone(text), JSON.stringify(text)).toEqual({ ok: false, problem: 'hidden-characters' });
    }
  });

  it('says only bullets for something that is not a number', () => {
    expect(maskPhone('not a number')).toBe('•••');
    expect(isE164('+90 532 123 45 67')).toBe(false);
  });
});
