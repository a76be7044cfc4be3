import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { generateSync, generateURI, verifySync } from 'otplib';
import type { TotpAlgorithm } from '../../../src-shared/domain/mfa';
import { base32 } from '../../platform/base32';
import { cryptoRandom, type Random } from '../../random';

// node:crypto rather than otplib's pure-JS default: the same HMAC, several times faster.
const crypto = new NodeCryptoPlugin();

export interface TotpParams {
  /** Base32, as the key URI carries it. */
  secret: string;
  digits: 6 | 8;
  period: 30 | 60;
  algorithm: TotpAlgorithm;
}

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

const OTPLIB_ALGORITHM = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;

/** A 160-bit secret (RFC 4226 §4 recommends 160 bits), Base32-encoded, from the CSPRNG by default. */
export function newTotpSecret(random: Random = cryptoRandom): string {
  return base32(random.bytes(20));
}

/**
 * Checks a code against the window around `nowMs`.
 *
 * A code of the wrong length or with anything but digits is refused before any HMAC is computed.
 * The whole window is compared in constant time by otplib. A code from a time step at or before
 * the last accepted one is refused as a replay (RFC 6238 §5.2): within its own step, and for any
 * earlier step, so an old code cannot be slipped in behind a newer one.
 */
export function checkTotp(params: TotpParams, code: string, nowMs: number, windowSteps: number, lastUsedStep: number): TotpCheck {
  if (code.length !== params.digits || !/^[0-9]+$/.test(code)) return { ok: false, reason: 'malformed' };
  let result: ReturnType<typeof verifySync>;
  try {
    result = verifySync({
      secret: params.secret,
      token: code,
      crypto,
      algorithm: OTPLIB_ALGORITHM[params.algorithm],
      digits: params.digits,
      period: params.period,
      epoch: Math.floor(nowMs / 1000),
      epochTolerance: windowSteps * params.period,
    });
  } catch {
    // otplib throws on a secret it will not use (too short, not Base32): that is no match.
    return { ok: false, reason: 'invalid' };
  }
  if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'invalid' };
  if (result.timeStep <= lastUsedStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step: result.timeStep };
}

/** The code for a moment; tests and the enrollment screen's "can't scan?" check use it. */
export function totpCode(params: TotpParams, nowMs: number): string {
  return generateSync({
    secret: params.secret,
    crypto,
    algorithm: OTPLIB_ALGORITHM[params.algorithm],
    digits: params.digits,
    period: params.period,
    epoch: Math.floor(nowMs / 1000),
  });
}

/**
 * The otpauth://totp/ key URI that Google Authenticator, Aegis and Ente Auth import: issuer
 * `Custodian`, label `Custodian:<principal> (<factor label>)`, with algorithm, digits and period
 * spelled out. The factor's label tells two factors apart in the phone app (issue 9, item 7); a
 * colon in it would read as a second issuer prefix (Key Uri Format), so it becomes a dash.
 */
export function totpUri(params: TotpParams, principal: string, factorLabel: string): string {
  const uri = generateURI({
    issuer: 'Custodian',
    label: `${principal} (${factorLabel.replaceAll(':', '-')})`,
    secret: params.secret,
    algorithm: OTPLIB_ALGORITHM[params.algorithm],
    digits: params.digits,
    period: params.period,
  });
  // otplib leaves out parameters at their defaults; we spell every one out, so an app that
  // assumes other defaults still computes the same codes.
  const explicit = { algorithm: params.algorithm, digits: String(params.digits), period: String(params.period) };
  const missing = Object.entries(explicit).filter(([name]) => !new RegExp(`[?&]${name}=`).test(uri));
  return missing.reduce((acc, [name, value]) => `${acc}&${name}=${value}`, uri);
}

/** Enough to recognise a secret, too little to use one: `JBSW•••••••••••PXP`. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '•'.repeat(secret.length);
  return `${secret.slice(0, 4)}${'•'.repeat(secret.length - 8)}${secret.slice(-4)}`;
}
