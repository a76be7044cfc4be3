import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The gateway handshake's pure core (issue 9, DESIGN.md "Gateway"). Any local user can bind the
 * loopback port before Custodian does, so a client makes the server prove itself before it sends
 * anything secret, in the manner of SCRAM's server signature (RFC 5802 §3):
 *
 * - An integration key is `cst_<keyId>_<secret>`; the server keeps only its verifier,
 *   SHA-256(key), and finds it by the public id. The client sends the id and a fresh nonce; the
 *   server answers with its own nonce and HMAC-SHA-256(verifier, context). Only a process that
 *   can read this database's verifier, or that holds the key itself, can compute it.
 * - "Another Custodian on this data directory" proves itself the same way under the database's
 *   own instance secret (migration 004), which only a process that can read the database holds.
 *
 * The context names the purpose, both nonces and the loopback address and port, so a proof made
 * for one purpose, one exchange or one port is worth nothing for another (no replay, no
 * reflection, no relay from a Custodian serving elsewhere).
 */

// `cst_<id>_<secret>`: the id lets the lookup find one row; the secret is 256 random bits
// (issue #5), base64url so it survives shells and headers unquoted.
const KEY_PATTERN = /^cst_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedKey {
  id: string;
  key: string;
}

export function parseIntegrationKey(key: string | undefined): ParsedKey | null {
  if (key === undefined) return null;
  const match = KEY_PATTERN.exec(key);
  return match ? { id: match[1] as string, key } : null;
}

/** What the server stores for a key: SHA-256 of the whole key, never the key. */
export function keyVerifier(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export interface ProofContext {
  clientNonce: string;
  serverNonce: string;
  port: number;
}

function context(purpose: string, parts: readonly string[], c: ProofContext): string {
  return [`custodian-gateway/v1 ${purpose}`, ...parts, c.clientNonce, c.serverNonce, `127.0.0.1:${c.port}`].join('\n');
}

/** The server's answer to a key challenge: it holds this key's verifier. */
export function serverKeyProof(verifier: Buffer, keyId: string, c: ProofContext): Buffer {
  return createHmac('sha256', verifier).update(context('server-key-proof', [keyId], c)).digest();
}

/** The server's answer to an instance challenge: it can read this data directory's database. */
export function instanceProof(secret: Buffer, c: ProofContext): Buffer {
  return createHmac('sha256', secret).update(context('instance-proof', [], c)).digest();
}

/** Compares a presented base64url proof with the expected one in constant time. */
export function proofMatches(expected: Buffer, presented: string): boolean {
  const given = Buffer.from(presented, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
