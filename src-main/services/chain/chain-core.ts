import type { ChainFactor, ChainMode, Policy } from '../../../src-shared/domain/policy';
import { assertNever } from '../../../src-shared/assert-never';
import { AppError } from '../../../src-shared/errors';
import type { Random as RandomPort } from '../../random';

/**
 * The factor chain as a pure state machine (issue 10 "Attempts"; DESIGN.md "Factor chain"), built
 * like `checkTotp` and `afterFailure`: state, clock and the Random port in, the next state and
 * what happened out. The service verifies codes, persists the state with a guarded UPDATE and
 * writes the audit rows; nothing here touches a database, a clock or a code.
 */

/**
 * The part of the Random port (STYLE.md rule 6, src-main/random.ts) a chain draws with: the
 * composition root passes the CSPRNG, tests a script.
 */
export type Random = Pick<RandomPort, 'int'>;

export const CHAIN_STATUSES = ['open', 'completed', 'expired'] as const;
export type ChainStatus = (typeof CHAIN_STATUSES)[number];

export interface ChainState {
  mode: ChainMode;
  /** The chain, fixed when the attempt starts and redrawn (random mode) after a failure. */
  steps: ChainFactor[];
  /** What a redraw draws from: the eligible factors when the attempt started. */
  pool: ChainFactor[];
  /** Index of the current step in `steps`. */
  position: number;
  /** Whether a backup code may stand in for a step at all (the purpose's rule, `backupAllowed`). */
  backupAllowed: boolean;
  /** A backup code stood in for a step in this attempt: it may do so once (DESIGN.md). */
  backupUsed: boolean;
  status: ChainStatus;
  /** Epoch ms; a step at or after it gets ERR-MFA-EXPIRED. */
  expiresAt: number;
}

/** What is submitted for the current step: a factor's code, or a backup code standing in. */
export type StepSubmission = { kind: 'factor'; factorId: string } | { kind: 'backup' };

/**
 * The verdict on the code itself, from the factor method (or the backup codes). A push (issue 12)
 * may also be `expired` (ignored until its timeout) or `denied` by the approver.
 */
export type StepOutcome = 'ok' | 'invalid' | 'replayed' | 'expired' | 'denied';

export type FailureReason = 'invalid' | 'replayed' | 'expired' | 'denied' | 'backup-spent' | 'backup-not-allowed';

export type Transition =
  | { kind: 'advanced'; state: ChainState; passed: ChainFactor | 'backup'; position: number }
  | { kind: 'completed'; state: ChainState; passed: ChainFactor | 'backup' }
  | { kind: 'failed'; state: ChainState; reason: FailureReason; at: number; redrawn: boolean }
  | { kind: 'breached'; state: ChainState; expected: string; submitted: string; redrawn: boolean }
  | { kind: 'expired'; state: ChainState }
  | { kind: 'closed'; state: ChainState };

/**
 * Fixes the chain when an attempt starts. Fixed mode takes the first `requiredSteps` eligible
 * factors in order; random mode draws that many distinct ones. Refused with
 * ERR-MFA-POLICY-UNSATISFIABLE when there are fewer eligible factors than steps.
 */
export function startChain(
  policy: Pick<Policy, 'mode' | 'requiredSteps' | 'challengeTimeoutSeconds'>,
  eligible: readonly ChainFactor[],
  random: Random,
  nowMs: number,
  backupAllowed = true,
): ChainState {
  const steps = drawSteps(policy.mode, policy.requiredSteps, eligible, random);
  return {
    mode: policy.mode,
    steps,
    pool: [...eligible],
    position: 0,
    backupAllowed,
    backupUsed: false,
    status: 'open',
    expiresAt: nowMs + policy.challengeTimeoutSeconds * 1000,
  };
}

/**
 * Whether a submission may be checked at all, before any code is looked at. `null` means yes;
 * otherwise the transition to record without checking the code: the attempt is over (expired or
 * closed), the submission names another factor than the current step's (a breach: the code is
 * not even tried, and the chain resets), or a backup code where the chain admits none, or a
 * second one in one attempt.
 */
export function admit(state: ChainState, submission: StepSubmission, nowMs: number, random: Random): Transition | null {
  switch (state.status) {
    case 'open':
      break;
    case 'completed':
    case 'expired':
      return { kind: 'closed', state };
    default:
      return assertNever(state.status);
  }
  if (nowMs >= state.expiresAt) return { kind: 'expired', state: { ...state, status: 'expired' } };
  const current = currentStep(state);
  switch (submission.kind) {
    case 'factor':
      if (submission.factorId !== current.id) {
        const reset = resetState(state, random);
        return { kind: 'breached', state: reset.state, expected: current.id, submitted: submission.factorId, redrawn: reset.redrawn };
      }
      return null;
    case 'backup':
      if (!state.backupAllowed) return fail(state, 'backup-not-allowed', random);
      if (state.backupUsed) return fail(state, 'backup-spent', random);
      return null;
    default:
      return assertNever(submission);
  }
}

/**
 * The next state once the code was checked. Runs `admit` first, so it is safe on its own: an
 * expired, closed or breached attempt ignores the outcome. Any failure resets to step 1 and, in
 * random mode, draws a fresh chain.
 */
export function step(state: ChainState, submission: StepSubmission, outcome: StepOutcome, nowMs: number, random: Random): Transition {
  const refused = admit(state, submission, nowMs, random);
  if (refused) return refused;
  switch (outcome) {
    case 'ok':
      break;
    case 'invalid':
    case 'replayed':
    case 'expired':
    case 'denied':
      return fail(state, outcome, random);
    default:
      return assertNever(outcome);
  }
  const passed = submission.kind === 'backup' ? 'backup' : currentStep(state);
  const next: ChainState = { ...state, position: state.position + 1, backupUsed: state.backupUsed || submission.kind === 'backup' };
  if (next.position >= next.steps.length) return { kind: 'completed', state: { ...next, status: 'completed' }, passed };
  return { kind: 'advanced', state: next, passed, position: next.position };
}

export function currentStep(state: ChainState): ChainFactor {
  const current = state.steps[state.position];
  // An open attempt always has a current step; a row that says otherwise was tampered with.
  if (!current) throw new AppError('ERR-INTERNAL');
  return current;
}

/**
 * `count` distinct factors: the first ones in order (fixed), or a partial Fisher-Yates shuffle
 * driven by the Random port (random), so every eligible factor is equally likely at every step.
 */
export function drawSteps(mode: ChainMode, count: number, eligible: readonly ChainFactor[], random: Random): ChainFactor[] {
  const distinct = eligible.filter((f, i) => eligible.findIndex((g) => g.id === f.id) === i);
  if (count < 1 || distinct.length < count) throw new AppError('ERR-MFA-POLICY-UNSATISFIABLE', { required: count, eligible: distinct.length });
  switch (mode) {
    case 'fixed':
      return distinct.slice(0, count);
    case 'random': {
      const bag = [...distinct];
      for (let i = 0; i < count; i += 1) {
        const span = bag.length - i;
        const pick = random.int(span);
        // A port that answers out of range would bias or repeat the draw: fail closed.
        if (!Number.isInteger(pick) || pick < 0 || pick >= span) throw new AppError('ERR-INTERNAL');
        const chosen = bag[i + pick] as ChainFactor;
        bag[i + pick] = bag[i] as ChainFactor;
        bag[i] = chosen;
      }
      return bag.slice(0, count);
    }
    default:
      return assertNever(mode);
  }
}

function fail(state: ChainState, reason: FailureReason, random: Random): Transition {
  const reset = resetState(state, random);
  return { kind: 'failed', state: reset.state, reason, at: state.position, redrawn: reset.redrawn };
}

/** Back to step 1; random mode draws a fresh chain of the same length from the same pool. */
function resetState(state: ChainState, random: Random): { state: ChainState; redrawn: boolean } {
  switch (state.mode) {
    case 'fixed':
      return { state: { ...state, position: 0 }, redrawn: false };
    case 'random':
      return { state: { ...state, position: 0, steps: drawSteps('random', state.steps.length, state.pool, random) }, redrawn: true };
    default:
      return assertNever(state.mode);
  }
}
