import { randomBytes } from 'node:crypto';
import { base32 } from './base32';

/** An opaque id with a type prefix: 80 random bits as 16 lower-case Base32 characters. */
export function randomId(prefix: string): string {
  return `${prefix}_${base32(randomBytes(10), true)}`;
}
