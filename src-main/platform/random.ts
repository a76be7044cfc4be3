import { randomBytes } from 'node:crypto';
import { cryptoRandom, type Random } from '../random';
import { base32 } from './base32';

/** An opaque id with a type prefix: 80 random bits as 16 lower-case Base32 characters. */
export function randomId(prefix: string, random: Random = cryptoRandom): string {
  return `${prefix}_${base32(random.bytes(10), true)}`;
}

// Ids only, never keys or secrets: those take their own randomBytes and are not kept around.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `bytes` CSPRNG bytes as base64url, drawn from a pool refilled 4 KiB at a time. Each byte is
 * handed out once. For ids minted on a hot path (one per restore request): a call into OpenSSL
 * per id cost more than the rest of the id's work together.
 */
export function pooledRandomBase64url(bytes: number): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const text = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return text;
}

/** A fresh 256-bit nonce for the gateway handshake, as base64url (43 characters). */
export function randomNonce(): string {
  return randomBytes(32).toString('base64url');
}
