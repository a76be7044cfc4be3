import type { EnrollParamsOf, FactorParamsOf, FactorType } from '../../../../src-shared/domain/mfa';
import type { FactorChallenge } from '../../../../src-shared/domain/policy';
import type { FactorRecord } from '../../../platform/db/repositories/factors.repository';

/** A factor of one type, as stored. */
export type FactorOf<T extends FactorType> = Extract<FactorRecord, { type: T }>;

/**
 * What a code proved. `step` is the time step it matched, for methods that have them (TOTP); the
 * caller records it as the factor's replay floor. Null for methods whose codes are one-time by
 * themselves (SMS, push, when they come).
 */
export type FactorVerdict = { ok: true; step: number | null } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

/** What a step-up asks the user for, with this factor: no secret, ever (the union lives in src-shared). */
export type { FactorChallenge };

/** How the user sets up a new factor: for TOTP the key URI (shown as a QR code) and the secret masked. */
export interface FactorProvisioning {
  uri: string;
  secretMasked: string;
}

/**
 * One factor type (issue 10): TOTP now; SMS and push plug in later, each as one more
 * implementation in the registry, without touching the services that use them. A method owns its
 * secret material (through the vault) and nothing else: it records nothing, audits nothing and
 * counts no attempts; the services around it do, the same way for every type.
 */
export interface FactorMethod<T extends FactorType> {
  readonly type: T;
  /**
   * A new factor's secret, to keep in the keychain before anything is recorded, and the
   * parameters to record: what is asked for (an SMS number) may be more than the database may hold.
   */
  enroll(params: EnrollParamsOf<T>): { secret: string; params: FactorParamsOf<T> };
  /** What the user needs to set the factor up (shown at enrollment and on resume). */
  provisioning(factor: FactorOf<T>, secret: string, principal: string): FactorProvisioning;
  /** A pending factor's first code: it must match now, and nothing has been used yet. */
  confirm(factor: FactorOf<T>, code: string): Promise<FactorVerdict>;
  /** Asks for a code. TOTP sends nothing (the phone has the secret); SMS will send one. */
  challenge(factor: FactorOf<T>): Promise<FactorChallenge>;
  /** An active factor's code, against its replay floor. Changes nothing. */
  verify(factor: FactorOf<T>, code: string): Promise<FactorVerdict>;
}

/** One method per factor type; the compiler asks for the new one when the union grows. */
export type FactorMethods = { readonly [T in FactorType]: FactorMethod<T> };
