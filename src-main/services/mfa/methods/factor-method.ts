import type { EnrollParamsOf, FactorParamsOf, FactorType } from '../../../../src-shared/domain/mfa';
import type { FactorChallenge } from '../../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../../src-shared/domain/restore-request';
import type { FactorRecord } from '../../../platform/db/repositories/factors.repository';

/** A factor of one type, as stored. */
export type FactorOf<T extends FactorType> = Extract<FactorRecord, { type: T }>;

/**
 * What a code proved. `step` is the time step it matched, for methods that have them (TOTP); the
 * caller records it as the factor's replay floor. Null for methods whose codes are one-time by
 * themselves (SMS, push). Those give `use`, the guarded UPDATE that uses the code or the answer
 * up: the caller runs it inside the transaction that records the pass, so a pass refused at
 * commit (a full disk, a keychain gone) uses nothing up (issue 13). False: another call or
 * process used it first, a replay. A caller that records a pass must run it.
 */
export type FactorVerdict =
  | { ok: true; step: number | null; use?: () => boolean }
  | {
      ok: false;
      /**
       * `expired`: a push ignored until its timeout; `denied`: a push the approver denied (issue
       * 12). Codes typed by hand are only ever malformed, invalid or replayed.
       */
      reason: 'malformed' | 'invalid' | 'replayed' | 'expired' | 'denied';
    };

/**
 * What a step is for, and where it was started (issue 12): a push shows it to the approver and is
 * bound to it, so its answer serves this step and no other. Codes typed by hand ignore it.
 */
export interface StepBinding {
  /** The chain attempt the step belongs to; null for the code that confirms an enrollment. */
  attemptId: string | null;
  /** The step-up purpose (`approve:<id>`, `factors:enroll`...). */
  purpose: string;
  /** The chain's sensitivity; null for an enrollment. */
  sensitivity: Sensitivity | null;
  /** `desktop` or `cli`. */
  source: string;
  /** Who started the step, as the audit rows name them. */
  startedBy: string;
}

/**
 * An answer that decides a step without a code being tried (issue 12): a push still `pending`
 * (nothing is counted or changed), or `denied` by the approver (the step fails, but the
 * failed-attempt limit does not count it, as in Okta Verify). Null: try the code as usual.
 */
export type UncountedOutcome = 'pending' | 'denied' | null;

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
  /** Asks for a code. TOTP sends nothing (the phone has the secret); SMS sends one; push raises its prompt. */
  challenge(factor: FactorOf<T>, binding: StepBinding): Promise<FactorChallenge>;
  /**
   * An active factor's code, against its replay floor, for the step of `attemptId` (null: no
   * chain, as the unlock's single code). Changes nothing on a pass: one-time codes (SMS, push)
   * are used up by the verdict's `use`, in the caller's transaction.
   */
  verify(factor: FactorOf<T>, code: string, attemptId: string | null): Promise<FactorVerdict>;
  /**
   * Synchronous, before an attempt slot is taken: whether the step is decided without trying a
   * code (a push pending or denied). Never awaits, so nothing can move between it and the slot.
   */
  uncounted(factor: FactorOf<T>, attemptId: string | null): UncountedOutcome;
  /**
   * The factor is being disabled or its enrollment dropped: forget what the method keeps in the
   * database for it (an SMS code, a waiting push). Runs inside the transaction that ends the
   * factor; its keychain secret is deleted by the caller.
   */
  forget(factor: FactorOf<T>): void;
  /**
   * A backup code was submitted in place of this factor's step of chain attempt `attemptId`: the
   * step is decided without the factor's answer. Withdraw what the step's challenge left waiting
   * (a push), so the approver is not prompted for a step already decided and an ignored push is
   * not counted later. Runs inside the transaction that records the step.
   */
  withdraw(factor: FactorOf<T>, attemptId: string): void;
}

/** One method per factor type; the compiler asks for the new one when the union grows. */
export type FactorMethods = { readonly [T in FactorType]: FactorMethod<T> };
