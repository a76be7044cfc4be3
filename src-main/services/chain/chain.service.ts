import { createHash, randomBytes } from 'node:crypto';
import {
  BACKUP_STEP,
  backupAllowed,
  stepFactorSchema,
  stepUpPurposeSchema,
  type ChainAttemptView,
  type ChainFactor,
  type FactorChallenge,
} from '../../../src-shared/domain/policy';
import { SENSITIVITIES, sensitivitySchema, type Sensitivity } from '../../../src-shared/domain/restore-request';
import { codeInputSchema } from '../../../src-shared/domain/mfa';
import { AppError, type ErrorCode } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { ChainAttemptRecord, ChainAttemptsRepository } from '../../platform/db/repositories/chain-attempts.repository';
import type { StepUpGrantsRepository } from '../../platform/db/repositories/step-up-grants.repository';
import { randomId } from '../../platform/random';
import type { AuditInput, AuditLog } from '../audit/audit.service';
import type { PolicyService, StepUpGrants } from '../policy/policy.service';
import { assertNever } from '../../../src-shared/assert-never';
import { admit, currentStep, startChain, step, type FailureReason, type Random, type StepOutcome, type StepSubmission, type Transition } from './chain-core';
import type { ChainMfaPort, PassedCode, StepContext } from './chain-ports';

/** How long a completed chain's grant may wait to be used (DESIGN.md: "valid for a short time"). */
export const STEP_UP_GRANT_TTL_MS = 2 * 60 * 1000;

export interface ChainServiceDeps {
  attempts: ChainAttemptsRepository;
  grants: StepUpGrantsRepository;
  policies: PolicyService;
  mfa: ChainMfaPort;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}

/** How long an ended attempt's row is kept (the audit log keeps its story for good). */
export const ENDED_ATTEMPT_KEEP_MS = 24 * 60 * 60 * 1000;

/** A grant as it was used up: what earned it. */
export interface GrantUse {
  attemptId: string;
  sensitivity: Sensitivity;
  /** A backup code stood in for one of the chain's steps. */
  backupUsed: boolean;
}

/** What `verifyStep` answers when the step passed: the attempt as it now stands. */
export type StepResult = ChainAttemptView;

/**
 * The factor chain orchestrator (issue 10 "Attempts"; DESIGN.md "Factor chain"). The state
 * machine is `chain-core`; this service loads an attempt, has the MFA port check the code,
 * and commits the next state with a version-guarded UPDATE and its audit rows in one
 * transaction. A completed chain earns a single-use grant bound to the attempt's purpose.
 */
export class ChainService implements StepUpGrants {
  readonly #attempts: ChainAttemptsRepository;
  readonly #grants: StepUpGrantsRepository;
  readonly #policies: PolicyService;
  readonly #mfa: ChainMfaPort;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(deps: ChainServiceDeps) {
    this.#attempts = deps.attempts;
    this.#grants = deps.grants;
    this.#policies = deps.policies;
    this.#mfa = deps.mfa;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /**
   * Starts an attempt: the chain is fixed now (drawn, in random mode) from the policy for
   * `sensitivity`, as the purpose's rules shape it (`PolicyService.chainFor`). Refused with
   * ERR-MFA-POLICY-UNSATISFIABLE when fewer eligible factors are active than the policy needs.
   */
  start(purpose: string, sensitivity: Sensitivity, ctx: StepContext): ChainAttemptView {
    if (!stepUpPurposeSchema.safeParse(purpose).success) throw new AppError('ERR-VALIDATION', { field: 'purpose' });
    if (!sensitivitySchema.safeParse(sensitivity).success) throw new AppError('ERR-VALIDATION', { field: 'sensitivity' });
    const actor = this.#mfa.actor();
    const { policy, eligible } = this.#policies.chainFor(purpose, sensitivity);
    const now = this.#clock.now();
    const state = startChain(policy, eligible, this.#random, now, backupAllowed(purpose, policy.requiredSteps));
    const record: ChainAttemptRecord = { id: randomId('ch'), purpose, sensitivity, createdAt: now, version: 0, state };
    this.#audit.transact(() => {
      this.#attempts.insert(record);
      this.#audit.append({
        event: 'mfa_chain_started',
        actor,
        subject: record.id,
        ...where(ctx),
        data: {
          attemptId: record.id,
          purpose,
          sensitivity,
          mode: state.mode,
          steps: state.steps.map((s) => s.id).join(','),
          expiresAt: new Date(state.expiresAt).toISOString(),
          source: ctx.source,
        },
      });
    });
    return view(record);
  }

  /** The attempt as it stands (after a reset or a redraw, the window reads the new chain here). */
  attempt(attemptId: string): ChainAttemptView {
    const record = this.#attempts.get(attemptId);
    if (!record) throw new AppError('ERR-NOT-FOUND');
    return view(record);
  }

  /**
   * One step: `factorId` is the current step's factor, or BACKUP_STEP for a backup code standing
   * in for it (once per attempt). A step for another factor is a breach: the code is not tried,
   * the chain resets, ERR-MFA-CHAIN-BREACHED. A wrong code resets to step 1 (a fresh draw in
   * random mode), ERR-MFA-INVALID or ERR-MFA-REPLAYED. After `expiresAt`, ERR-MFA-EXPIRED. Each
   * step takes an attempt slot first; only a completed chain gives the slots back.
   */
  async verifyStep(attemptId: string, factorId: string, code: string, ctx: StepContext): Promise<StepResult> {
    if (!stepFactorSchema.safeParse(factorId).success) throw new AppError('ERR-VALIDATION', { field: 'factorId' });
    if (!codeInputSchema.safeParse(code).success) throw new AppError('ERR-VALIDATION', { field: 'code' });
    const record = this.#attempts.get(attemptId);
    if (!record) throw new AppError('ERR-NOT-FOUND');
    const submission: StepSubmission = factorId === BACKUP_STEP ? { kind: 'backup' } : { kind: 'factor', factorId };
    const actor = this.#mfa.actor();

    // Over already: no slot is taken and the code is not looked at.
    const over = admit(record.state, submission, this.#clock.now(), this.#random);
    if (over && (over.kind === 'expired' || over.kind === 'closed')) return this.#settle(record, over, submission, actor, ctx);
    const bound: StepContext = { ...ctx, purpose: record.purpose, attemptId: record.id, sensitivity: record.sensitivity };

    // A push step (issue 12) may be decided before any code is tried, and then counts nothing:
    // still waiting for the approver (nothing changes), or denied by them (the step fails, but a
    // denial is the approver's own "no", not a guess, as in Okta Verify). Synchronous: nothing
    // can move between this and the slot below.
    if (!over && submission.kind === 'factor') {
      const early = this.#mfa.uncounted(currentStep(record.state).id, bound);
      if (early === 'pending') throw new AppError('ERR-MFA-PUSH-PENDING');
      if (early === 'denied') return this.#settle(record, step(record.state, submission, 'denied', this.#clock.now(), this.#random), submission, actor, ctx);
    }

    // Counted before anything is checked, breaches included (issue 9, item 3).
    this.#mfa.takeAttemptSlot(ctx);
    if (over) return this.#settle(record, over, submission, actor, ctx);

    let outcome: StepOutcome;
    // A code that checked out is used up in the step's own transaction, with its audit row.
    let passed: PassedCode | null = null;
    switch (submission.kind) {
      case 'factor': {
        // The port refuses a recovery factor still in its delay where the purpose needs full rights.
        const checked = await this.#mfa.verifyFactorCode(currentStep(record.state).id, code, bound);
        if (typeof checked === 'string') {
          outcome = checked;
        } else {
          outcome = 'ok';
          passed = checked;
        }
        break;
      }
      case 'backup':
        passed = await this.#mfa.verifyBackupCode(code, ctx);
        outcome = passed ? 'ok' : 'invalid';
        break;
      default:
        return assertNever(submission);
    }
    // Judged at the time the check ended: an attempt that expired while the keychain answered
    // is expired. The state is the one read before the await; the guarded UPDATE refuses it if
    // another window or process moved the attempt meanwhile.
    const transition = step(record.state, submission, outcome, this.#clock.now(), this.#random);
    return this.#settle(record, transition, submission, actor, ctx, passed);
  }

  /**
   * Asks the current step's factor method for its challenge (issue 12): TOTP answers the digits
   * to type and sends nothing; SMS sends its code here, push raises its prompt. Audited
   * (`mfa_chain_challenged`, never a code). Takes no attempt slot and moves nothing: no code is
   * tried. ERR-NOT-FOUND for an unknown or completed attempt, ERR-MFA-EXPIRED once its time is up
   * (recorded as the attempt expiring, as a step would).
   */
  async challenge(attemptId: string, ctx: StepContext): Promise<FactorChallenge> {
    const record = this.#attempts.get(attemptId);
    if (!record) throw new AppError('ERR-NOT-FOUND');
    const actor = this.#mfa.actor();
    const current = record.state.status === 'open' ? currentStep(record.state) : null;
    // Ended, or ended now: the same refusal (and for an expiry, the same audit rows) as a step.
    const over = current ? admit(record.state, { kind: 'factor', factorId: current.id }, this.#clock.now(), this.#random) : null;
    if (!current || (over && (over.kind === 'expired' || over.kind === 'closed'))) {
      const submission: StepSubmission = { kind: 'factor', factorId: current?.id ?? '' };
      this.#settle(record, over ?? { kind: 'closed', state: record.state }, submission, actor, ctx);
      // Not reached: settling an expired or closed attempt throws.
      throw new AppError('ERR-INTERNAL');
    }
    const challenge = await this.#mfa.challengeFactor(current.id, { ...ctx, purpose: record.purpose, attemptId: record.id, sensitivity: record.sensitivity });
    this.#audit.record({
      event: 'mfa_chain_challenged',
      actor,
      subject: record.id,
      ...where(ctx),
      data: {
        attemptId: record.id,
        purpose: record.purpose,
        sensitivity: record.sensitivity,
        source: ctx.source,
        step: record.state.position + 1,
        factorId: current.id,
        type: current.type,
        challenge: challenge.kind,
      },
    });
    return challenge;
  }

  /**
   * Uses up one live grant for `purpose` earned by a chain at `atLeast` or above: true once, then
   * false. Atomic across processes (one guarded UPDATE); may run inside the caller's transaction,
   * so the grant is spent only if the change it pays for commits.
   */
  consumeGrant(purpose: string, atLeast: Sensitivity = 'low'): boolean {
    return this.takeGrant(purpose, atLeast) !== null;
  }

  /**
   * `consumeGrant`, answering what earned the grant: whether a backup code stood in for a step
   * (an enrollment paid that way makes a recovery factor, issue 9 item 4).
   */
  takeGrant(purpose: string, atLeast: Sensitivity = 'low'): GrantUse | null {
    if (!stepUpPurposeSchema.safeParse(purpose).success) return null;
    const floor = SENSITIVITIES.indexOf(atLeast);
    if (floor < 0) return null;
    const accepted = SENSITIVITIES.slice(floor);
    return this.#audit.transact(() => {
      const used = this.#grants.consume(purpose, accepted, this.#clock.now());
      if (!used) return null;
      // The attempt that earned a grant is kept as long as the grant (see `sweep`).
      const attempt = this.#attempts.get(used.attemptId);
      if (!attempt) throw new AppError('ERR-INTERNAL');
      this.#audit.append({
        event: 'mfa_step_up_used',
        actor: this.#mfa.actor(),
        subject: used.attemptId,
        data: { attemptId: used.attemptId, purpose, sensitivity: used.sensitivity },
      });
      return { attemptId: used.attemptId, sensitivity: used.sensitivity, backupUsed: attempt.state.backupUsed };
    });
  }

  /**
   * Whether a live grant for `purpose` at `atLeast` or above is waiting, without using it: lets
   * a service refuse before it touches the keychain. The grant is still taken atomically later.
   */
  hasGrant(purpose: string, atLeast: Sensitivity = 'low'): boolean {
    if (!stepUpPurposeSchema.safeParse(purpose).success) return false;
    const floor = SENSITIVITIES.indexOf(atLeast);
    if (floor < 0) return false;
    return this.#grants.live(purpose, SENSITIVITIES.slice(floor), this.#clock.now());
  }

  /**
   * Drops attempt rows that expired a day ago or more and earned no grant; the shared tick may
   * call it. Returns how many.
   */
  sweep(): number {
    // Grants that lapsed unused go first, at once: they serve nothing, the audit log keeps the
    // chain that earned them, and the seal over unused grants is rewritten on every grant (issue
    // 13, migration 014), so each one kept makes every later grant dearer. Their attempts then
    // age out like any other.
    this.#grants.purgeLapsed(this.#clock.now());
    return this.#attempts.purge(this.#clock.now() - ENDED_ATTEMPT_KEEP_MS);
  }

  /** Like `consumeGrant`, but refuses with ERR-MFA-REQUIRED when there is no grant. */
  requireGrant(purpose: string, atLeast: Sensitivity = 'low'): void {
    if (!this.consumeGrant(purpose, atLeast)) throw new AppError('ERR-MFA-REQUIRED');
  }

  /**
   * Commits a transition with its audit rows, then answers: the attempt's new view when the step
   * passed, the error that says why otherwise (thrown after the commit, so a reset sticks).
   */
  #settle(record: ChainAttemptRecord, transition: Transition, submission: StepSubmission, actor: string, ctx: StepContext, passed: PassedCode | null = null): StepResult {
    const common = { actor, subject: record.id, ...where(ctx) };
    const base = { attemptId: record.id, purpose: record.purpose, sensitivity: record.sensitivity, source: ctx.source };
    const method = submission.kind === 'backup' ? 'backup' : 'factor';
    const stepNo = record.state.position + 1;

    if (transition.kind === 'closed') {
      throw new AppError(transition.state.status === 'expired' ? 'ERR-MFA-EXPIRED' : 'ERR-NOT-FOUND');
    }
    let t: Exclude<Transition, { kind: 'closed' }> = transition;
    const landed = this.#audit.transact(() => {
      // Inside the write lock nothing moves: an attempt another window or process moved first
      // uses no code up.
      const superseded = this.#attempts.get(record.id)?.version !== record.version;
      // The code is used up here, with the rows below, or not at all (issue 13: a step refused on
      // a full disk used to burn its code's time step without a record). Used first by another
      // call or process: the step fails as a replay (a backup code, as a wrong one).
      if (!superseded && passed && (t.kind === 'advanced' || t.kind === 'completed') && !passed.use()) {
        const lost = step(record.state, submission, submission.kind === 'backup' ? 'invalid' : 'replayed', this.#clock.now(), this.#random);
        // An open attempt that a code advanced fails on a lost code; it cannot close.
        if (lost.kind === 'closed') throw new AppError('ERR-INTERNAL');
        t = lost;
      }
      if (superseded || !this.#attempts.advance(record.id, record.version, t.state)) {
        // Another window or process moved the attempt first: this step changes nothing.
        this.#audit.append({ event: 'mfa_chain_step_failed', ...common, data: { ...base, step: stepNo, method, reason: 'superseded' } });
        return false;
      }
      // A backup code decided the step (passed, or failed and reset): a push raised for it waits
      // for nobody now. Withdrawn with the step, so the window stops prompting and the sweep
      // never counts it as ignored (issue 12: a backup code stands in for a push step as for a code).
      if (submission.kind === 'backup' && t.kind !== 'expired' && record.state.status === 'open') {
        this.#mfa.withdrawChallenge(currentStep(record.state).id, record.id);
      }
      switch (t.kind) {
        case 'advanced':
          this.#audit.append({ event: 'mfa_chain_step_passed', ...common, data: { ...base, step: stepNo, method, factorId: passedId(t.passed) } });
          break;
        case 'completed': {
          this.#audit.append({ event: 'mfa_chain_step_passed', ...common, data: { ...base, step: stepNo, method, factorId: passedId(t.passed) } });
          const now = this.#clock.now();
          this.#grants.insert({
            idHash: createHash('sha256').update(randomBytes(32)).digest('hex'),
            purpose: record.purpose,
            sensitivity: record.sensitivity,
            attemptId: record.id,
            createdAt: now,
            expiresAt: now + STEP_UP_GRANT_TTL_MS,
          });
          this.#mfa.releaseAttempts(ctx);
          this.#audit.append({ event: 'mfa_chain_completed', ...common, data: { ...base, steps: t.state.steps.length, backupUsed: t.state.backupUsed } });
          break;
        }
        case 'failed':
          this.#audit.append({ event: 'mfa_chain_step_failed', ...common, data: { ...base, step: stepNo, method, reason: t.reason } });
          this.#audit.append({ event: 'mfa_chain_reset', ...common, data: { ...base, redrawn: t.redrawn, steps: t.state.steps.map((s) => s.id).join(',') } });
          break;
        case 'breached':
          // A security event (DESIGN.md "Factor chain"): someone holds a factor out of turn.
          this.#audit.append({ event: 'mfa_chain_breached', ...common, data: { ...base, step: stepNo, expected: t.expected, submitted: t.submitted } });
          this.#audit.append({ event: 'mfa_chain_reset', ...common, data: { ...base, redrawn: t.redrawn, steps: t.state.steps.map((s) => s.id).join(',') } });
          break;
        case 'expired':
          this.#audit.append({ event: 'mfa_chain_expired', ...common, data: { ...base, step: stepNo } });
          break;
        default:
          return assertNever(t);
      }
      return true;
    });
    if (!landed) throw new AppError('ERR-MFA-INVALID');
    switch (t.kind) {
      case 'advanced':
      case 'completed':
        return view({ ...record, version: record.version + 1, state: t.state });
      case 'failed':
        throw new AppError(failureCode(t.reason));
      case 'breached':
        throw new AppError('ERR-MFA-CHAIN-BREACHED');
      case 'expired':
        throw new AppError('ERR-MFA-EXPIRED');
      default:
        return assertNever(t);
    }
  }
}

/** What a failed step answers: a denied push and an ignored one say so; every other failure is a wrong code. */
function failureCode(reason: FailureReason): ErrorCode {
  switch (reason) {
    case 'replayed':
      return 'ERR-MFA-REPLAYED';
    case 'denied':
      return 'ERR-MFA-PUSH-DENIED';
    case 'expired':
      return 'ERR-MFA-EXPIRED';
    case 'invalid':
    case 'backup-spent':
    case 'backup-not-allowed':
      return 'ERR-MFA-INVALID';
    default:
      return assertNever(reason);
  }
}

function passedId(passed: ChainFactor | 'backup'): string {
  return passed === 'backup' ? BACKUP_STEP : passed.id;
}

function where(ctx: StepContext): Pick<AuditInput, 'sourceIp' | 'userAgent'> {
  return { sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null };
}

function view(record: ChainAttemptRecord): ChainAttemptView {
  const s = record.state;
  return {
    attemptId: record.id,
    purpose: record.purpose,
    sensitivity: record.sensitivity,
    mode: s.mode,
    steps: s.steps.map((f) => ({ id: f.id, type: f.type, label: f.label, digits: f.digits })),
    position: s.position,
    status: s.status,
    backupAllowed: s.backupAllowed,
    backupUsed: s.backupUsed,
    expiresAt: new Date(s.expiresAt).toISOString(),
  };
}
