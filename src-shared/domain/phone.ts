import { parsePhoneNumberWithError, type PhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';

/**
 * Phone numbers for SMS (issue 12): parsed and validated with libphonenumber-js (the port of
 * Google's libphonenumber), never a regex, and kept in E.164 (`+905321234567`). The `max`
 * metadata checks each country's real number ranges, not just the length, so `+1 555 555 5555`
 * is refused where Twilio would refuse it too.
 */

/** Generous for a number typed with spaces and dashes; anything longer is not a phone number. */
export const PHONE_INPUT_MAX = 40;

/**
 * Invisible characters that come along when a number is pasted from a web page, a chat or a
 * right-to-left document: zero-width space, non-joiner, joiner, word joiner, BOM, and the bidi
 * *marks* (LRM, RLM, ALM). They carry no digit and cannot reorder digits, so they are dropped.
 */
// An alternation, not a class: a class holding the joiner (U+200D) reads as a joined sequence.
const DROPPED = /\u200b|\u200c|\u200d|\u2060|\ufeff|\u200e|\u200f|\u061c/gu;
/**
 * Bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI) can show
 * digits in another order than they are stored (the "Trojan Source" trick, CVE-2021-42574): what
 * the approver reads would not be the number that gets the codes. Refused, not cleaned.
 */
const REORDERING = /[\u202a-\u202e\u2066-\u2069]/u;
/** What a typed number may hold: digits of any script, spaces, `+`, dashes, dots, parentheses. */
const TYPED = /^[\p{Nd}\s+\-().]*$/u;

export type PhoneProblem = 'empty' | 'too-long' | 'hidden-characters' | 'characters' | 'not-international' | 'extension' | 'invalid';

export type PhoneParse =
  | { ok: true; e164: string; countryCallingCode: string; country: string | null; masked: string }
  | { ok: false; problem: PhoneProblem };

/** Parses what a person typed into one E.164 number, or says what is wrong with it. */
export function parsePhone(raw: string): PhoneParse {
  if (raw.length > PHONE_INPUT_MAX * 2) return { ok: false, problem: 'too-long' };
  if (REORDERING.test(raw)) return { ok: false, problem: 'hidden-characters' };
  const text = raw.replace(DROPPED, '').trim();
  if (text === '') return { ok: false, problem: 'empty' };
  if (text.length > PHONE_INPUT_MAX) return { ok: false, problem: 'too-long' };
  if (!TYPED.test(text)) return { ok: false, problem: 'characters' };
  // E.164 is international: without a leading `+` the number would depend on a guessed country.
  if (!text.startsWith('+')) return { ok: false, problem: 'not-international' };
  let parsed: PhoneNumber;
  try {
    parsed = parsePhoneNumberWithError(text);
  } catch {
    return { ok: false, problem: 'invalid' };
  }
  if (parsed.ext) return { ok: false, problem: 'extension' };
  if (!parsed.isValid()) return { ok: false, problem: 'invalid' };
  return {
    ok: true,
    e164: parsed.number,
    countryCallingCode: parsed.countryCallingCode,
    country: parsed.country ?? null,
    masked: maskParsed(parsed),
  };
}

export function isE164(value: string): boolean {
  const parsed = parsePhone(value);
  return parsed.ok && parsed.e164 === value;
}

const BULLET = '•';

function maskParsed(parsed: PhoneNumber): string {
  // The country's own grouping (`+90 532 123 45 67`), every national digit but the last two hidden.
  const international = parsed.formatInternational();
  const prefix = `+${parsed.countryCallingCode}`;
  const national = international.slice(prefix.length);
  const digits = national.replace(/\D/g, '').length;
  let seen = 0;
  const masked = national.replace(/\d/g, (digit) => {
    seen += 1;
    return seen > digits - 2 ? digit : BULLET;
  });
  return `${prefix}${masked}`;
}

/**
 * The number as the window and the audit log show it: the country code and the last two digits
 * (`+90 ••• ••• •• 67`). Anything that does not parse shows as bullets only.
 */
export function maskPhone(value: string): string {
  const parsed = parsePhone(value);
  return parsed.ok ? parsed.masked : `${BULLET.repeat(3)}`;
}

/**
 * A phone number from the window or the shell: the form a person types in, E.164 out. The issue's
 * message names the problem (`phone.problems.<problem>` in the catalogs), never the number.
 */
export const phoneInputSchema = z
  .string()
  .max(PHONE_INPUT_MAX * 2)
  .transform((raw, ctx) => {
    const parsed = parsePhone(raw);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    return parsed.e164;
  });

/** A number already in E.164, as stored. */
export const e164Schema = z.string().refine(isE164, { message: 'invalid' });
