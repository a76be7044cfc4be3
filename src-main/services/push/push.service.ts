import { assertNever } from '../../../src-shared/assert-never';
import type { PushAnswer, PushPrompt } from '../../../src-shared/domain/push';
import type { RestoreRequestView } from '../../../src-shared/domain/restore-request';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { FactorsRepository } from '../../platform/db/repositories/factors.repository';
import type { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import type { PushChallengeRecord, PushChallengesRepository } from '../../platform/db/repositories/push-challenges.repository';
import type { AuditLog } from '../audit/audit.service';
import type { FactorOf } from '../mfa/methods/factor-method';
import type { PushMethod } from '../mfa/methods/push.method';

/** How long an ended push's row is kept (the audit log keeps its story for good). */
export const ENDED_PUSH_KEEP_MS = 24 * 60 * 60 * 1000;

/** Who answers, and from where: recorded in the audit rows. */
export interface PushAnswerContext {
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

export interface PushServiceDeps {
  pushes: PushChallengesRepository;
  profiles: ProfilesRepository;
  factors: FactorsRepository;
  method: PushMethod;
  audit: AuditLog;
  clock: Clock;
  /** The request an approval's chain (`approve:<id>`) is for, as its card shows it; null if unknown. */
  request: (purpose: string) => RestoreRequestView | null;
  /**
   * Counts a failed attempt against the profile's limit: a push ignored until its timeout counts
   * (issue 12), once, by whichever process records it as ignored.
   */
  countFailure: () => void;
}

/** Told the pushes now waiting, and which of them are new since the last call. */
export type PushListener = (change: { prompts: PushPrompt[]; raised: PushPrompt[] }) => void;

/**
 * The answering side of push (issue 12): the window lists the pushes waiting for the approver,
 * wherever on the data directory they were raised, and the approver picks a number or denies.
 * Each answer is one guarded UPDATE (a push is answered once, by one window) with its audit row
 * in the same transaction. The step that raised the push reads the answer (`PushMethod.verify`),
 * so the chain moves where it was started. A denial is reported as a security event.
 */
export class PushService {
  readonly #deps: PushServiceDeps;
  readonly #listeners = new Set<PushListener>();
  /** The pending pushes listeners last heard of, to tell them of a change only once. */
  #told: string[] = [];

  constructor(deps: PushServiceDeps) {
    this.#deps = deps;
  }

  /** The current profile's pushes waiting for an answer, oldest first. */
  pending(): PushPrompt[] {
    const profile = this.#deps.profiles.current();
    if (!profile) return [];
    return this.#deps.pushes.pending(profile.id, this.#deps.clock.now()).map((push) => this.#prompt(push));
  }

  /**
   * The approver picked `number`, one of the push's three. The right one approves it; another is
   * `mismatched`, which fails the step and counts as a failed attempt where the step was started.
   * ERR-NOT-FOUND for a push that is not the profile's or no longer waits; ERR-MFA-EXPIRED once
   * its time is up; ERR-VALIDATION for a number the prompt did not offer.
   */
  async answer(id: string, number: number, ctx: PushAnswerContext): Promise<PushAnswer> {
    const { push, factor } = this.#waiting(id);
    if (!push.choices.includes(number)) throw new AppError('ERR-VALIDATION', { field: 'number' });
    const right = await this.#deps.method.matches(push, factor, number);
    const outcome = right ? 'approved' : 'mismatched';
    this.#decide(push, outcome, ctx);
    return { outcome };
  }

  /** "Deny and report": the step fails, uncounted, and a security event is recorded. */
  deny(id: string, ctx: PushAnswerContext): PushAnswer {
    const { push } = this.#waiting(id);
    this.#decide(push, 'denied', ctx);
    return { outcome: 'denied' };
  }

  /**
   * On the shared tick: pushes ignored past their time become `expired` (audited once, by
   * whichever process gets there first), ended ones are dropped after a day, and listeners hear
   * if the waiting set changed, here or in another process.
   */
  sweep(): void {
    const { pushes, audit, clock } = this.#deps;
    const now = clock.now();
    for (const push of pushes.overdue(now)) {
      const ignored = audit.transact(() => {
        if (!pushes.expire(push.id, now)) return false;
        audit.append({ event: 'mfa_push_expired', actor: 'system', subject: push.id, data: this.#row(push) });
        return true;
      });
      // The step that raised it may never ask again (its attempt ran out too): count it here. A
      // step that reads it first records it as ignored itself, with its own attempt slot.
      if (ignored && push.attemptId !== null) this.#deps.countFailure();
    }
    pushes.purge(now - ENDED_PUSH_KEEP_MS);
    this.changed();
  }

  /** Tells listeners if the waiting set changed (a push raised or answered here or elsewhere). */
  changed(): void {
    const prompts = this.pending();
    const ids = prompts.map((p) => p.id);
    if (ids.length === this.#told.length && ids.every((id, i) => id === this.#told[i])) return;
    const raised = prompts.filter((p) => !this.#told.includes(p.id));
    this.#told = ids;
    for (const listener of this.#listeners) listener({ prompts, raised });
  }

  onChanged(listener: PushListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #waiting(id: string): { push: PushChallengeRecord; factor: FactorOf<'push'> } {
    const profile = this.#deps.profiles.current();
    const push = this.#deps.pushes.get(id);
    // Another profile's push, or none: the same answer, so nothing is learnt about other rows.
    if (!profile || !push || push.profileId !== profile.id) throw new AppError('ERR-NOT-FOUND');
    if (push.status !== 'pending') throw new AppError('ERR-NOT-FOUND');
    if (push.expiresAt <= this.#deps.clock.now()) throw new AppError('ERR-MFA-EXPIRED');
    const factor = this.#deps.factors.get(profile.id, push.factorId);
    if (!factor || factor.type !== 'push' || factor.state === 'disabled') throw new AppError('ERR-NOT-FOUND');
    return { push, factor };
  }

  #decide(push: PushChallengeRecord, outcome: PushAnswer['outcome'], ctx: PushAnswerContext): void {
    const { pushes, audit, clock, profiles } = this.#deps;
    const actor = profiles.current()?.principal ?? 'unknown';
    const now = clock.now();
    const moved = audit.transact(() => {
      // Pending and live, or nothing: a second window's answer, or one after the timeout, loses.
      if (!pushes.move(push.id, 'pending', outcome, now)) return false;
      const data = { ...this.#row(push), answeredFrom: ctx.source };
      switch (outcome) {
        case 'approved':
          audit.append({ event: 'mfa_push_approved', actor, subject: push.id, sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null, data });
          break;
        case 'mismatched':
          audit.append({ event: 'mfa_push_mismatched', actor, subject: push.id, sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null, data });
          break;
        case 'denied':
          // A security event (seed 004): the approver says they did not start this.
          audit.append({ event: 'mfa_push_denied', actor, subject: push.id, sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null, data: { ...data, reported: true } });
          break;
        default:
          return assertNever(outcome);
      }
      return true;
    });
    if (!moved) {
      const current = pushes.get(push.id);
      throw new AppError(current?.status === 'pending' && current.expiresAt <= clock.now() ? 'ERR-MFA-EXPIRED' : 'ERR-NOT-FOUND');
    }
    this.changed();
  }

  /** What the audit rows say of a push: never its number, nor which of the three was right. */
  #row(push: PushChallengeRecord): Record<string, string | null> {
    return {
      pushId: push.id,
      factorId: push.factorId,
      attemptId: push.attemptId,
      purpose: push.purpose,
      sensitivity: push.sensitivity,
      source: push.source,
      startedBy: push.startedBy,
    };
  }

  #prompt(push: PushChallengeRecord): PushPrompt {
    const factor = this.#deps.factors.get(push.profileId, push.factorId);
    return {
      id: push.id,
      factorId: push.factorId,
      factorLabel: factor?.label ?? '',
      purpose: push.purpose,
      sensitivity: push.sensitivity,
      source: push.source,
      startedBy: push.startedBy,
      choices: push.choices,
      createdAt: new Date(push.createdAt).toISOString(),
      expiresAt: new Date(push.expiresAt).toISOString(),
      request: this.#deps.request(push.purpose),
    };
  }
}
