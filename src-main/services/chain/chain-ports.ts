/**
 * What the chain needs from MFA, as a small interface of its own (issue 10): the factor seam
 * (`FactorMethod`) and the attempt guard implement it, and the composition root passes the
 * adapter in. Nothing here sees a secret: codes go in, verdicts come out.
 */

/** Where a step comes from; recorded in the audit rows. */
export interface StepContext {
  /** `desktop` (the window), `cli`. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
  /** What the chain is for; the chain service fills it in for the port (recovery rules). */
  purpose?: string;
  /** The attempt and its sensitivity; the chain service fills them in (a push is bound to them). */
  attemptId?: string;
  sensitivity?: Sensitivity;
}

import type { FactorChallenge } from '../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';

/**
 * A factor method's verdict on one code. `expired`: a push ignored until its timeout; `denied`: a
 * push the approver denied (issue 12).
 */
export type CodeVerdict = 'ok' | 'invalid' | 'replayed' | 'expired' | 'denied';

/**
 * A code that checked out and is not used up yet (issue 13): `use` is the guarded UPDATE that
 * uses it up (a TOTP factor's replay floor, a backup code), run by the chain inside the very
 * transaction that records the step. A step refused at commit (a full disk) uses nothing up, and
 * no code is ever used up without its audit row. `use` answers false when another call or
 * process used it first: a replay.
 */
export interface PassedCode {
  use: () => boolean;
}

/** A step decided without trying a code, and without counting an attempt (issue 12): see `FactorMethod.uncounted`. */
export type UncountedVerdict = 'pending' | 'denied' | null;

export interface ChainMfaPort {
  /** The approver's principal for the audit rows; ERR-PROFILE-REQUIRED when there is none. */
  actor(): string;
  /**
   * Takes one attempt slot, counting the step as failed until `releaseAttempts` (issue 9,
   * item 3), or throws ERR-MFA-RATE-LIMITED. Synchronous and atomic across processes, so it runs
   * before any await of the check.
   */
  takeAttemptSlot(ctx: StepContext): void;
  /**
   * Inside the completing transaction: the chain passed, the count is cleared. A passed step
   * alone does not clear it, or knowing one factor would give unlimited guesses at the next.
   */
  releaseAttempts(ctx: StepContext): void;
  /**
   * Checks a code for one factor. A code that checks out comes back as a `PassedCode`, whose
   * `use` moves the replay floor: its time step is then never accepted again for that factor, in
   * any attempt (RFC 6238 §5.2). Must not clear the attempt count. May throw an AppError (a
   * recovery factor refused), which leaves the chain as it was.
   */
  verifyFactorCode(factorId: string, code: string, ctx: StepContext): Promise<Exclude<CodeVerdict, 'ok'> | PassedCode>;
  /**
   * Asks the factor's method for what its step needs (issue 12): TOTP sends nothing and answers
   * the digits; SMS sends a code, push raises a prompt. ERR-NOT-FOUND for a factor that is no
   * longer active. Changes nothing in the chain and takes no attempt slot: no code is tried.
   */
  challengeFactor(factorId: string, ctx: StepContext): Promise<FactorChallenge>;
  /**
   * Synchronous, before the attempt slot: a push step still waiting for its answer (`pending`:
   * nothing is counted or changed) or denied by the approver (`denied`: the step fails, uncounted).
   */
  uncounted(factorId: string, ctx: StepContext): UncountedVerdict;
  /**
   * Inside the transaction that records a step a backup code was submitted for: the factor's step
   * of `attemptId` is decided without its answer, and what its challenge left waiting (a push) is
   * withdrawn. Nothing for a factor gone since the chain was drawn.
   */
  withdrawChallenge(factorId: string, attemptId: string): void;
  /** Checks a backup code: a `PassedCode` whose `use` uses it up, or null. Must not clear the attempt count. */
  verifyBackupCode(code: string, ctx: StepContext): Promise<PassedCode | null>;
}
