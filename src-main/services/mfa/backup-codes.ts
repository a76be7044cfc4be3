import { createHmac, timingSafeEqual } from 'node:crypto';
import { cryptoRandom, type Random } from '../../random';

/**
 * Crockford-style: no 0/O, 1/I/L, so a code read off paper is typed right the first time. 31
 * symbols, 8 of them: about 39.6 bits a code, with five tries per five minutes.
 */
export const BACKUP_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const BACKUP_CODE_LENGTH = 8;
export const BACKUP_CODE_COUNT = 10;
export const BACKUP_CODE_TTL_DAYS = 90;
/** At or below this many left, the Factors screen warns. */
export const BACKUP_CODES_LOW = 3;

export function generateBackupCodes(random: Random = cryptoRandom, count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let code = '';
    for (let i = 0; i < BACKUP_CODE_LENGTH; i += 1) code += BACKUP_ALPHABET[random.int(BACKUP_ALPHABET.length)];
    codes.add(code);
  }
  return [...codes];
}

/** Shown as `ABCD-EFGH`; typed any way: case, spaces and dashes do not matter. */
export function formatBackupCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** The canonical form, or null when it cannot be a backup code at all. */
export function normalizeBackupCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== BACKUP_CODE_LENGTH) return null;
  for (const ch of code) if (!BACKUP_ALPHABET.includes(ch)) return null;
  return code;
}

/** HMAC-SHA-256 under a key from the keychain: a stolen database alone cannot test guesses. */
export function backupCodeMac(key: Buffer, code: string): string {
  return createHmac('sha256', key).update(code).digest('hex');
}

/** First and last character: enough to tell which printed code was used. */
export function backupCodeHint(code: string): string {
  return `${code[0]}…${code[code.length - 1]}`;
}

/**
 * The index of the stored MAC that matches, comparing against every candidate in constant time
 * so the time taken does not say which code (or whether any) matched.
 */
export function findBackupCode(key: Buffer, code: string, candidates: readonly string[]): number {
  const mac = Buffer.from(backupCodeMac(key, code), 'hex');
  let found = -1;
  candidates.forEach((candidate, index) => {
    const stored = Buffer.from(candidate, 'hex');
    if (stored.length === mac.length && timingSafeEqual(stored, mac) && found === -1) found = index;
  });
  return found;
}
