import type { Profile } from '../../../src-shared/domain/mfa';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { MfaAttemptsRepository } from '../../platform/db/repositories/mfa-attempts.repository';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import { retryAfterSeconds, takeAttempt, type AttemptState } from './attempt-guard';
import { where, type MfaContext } from './mfa-context';

/** A slot taken to check one code; see AttemptGuard.take. */
export interface Slot {
  key: string;
  at: number;
  state: AttemptState;
  blockedNow: boolean;
}

export type FailureReason = 'malformed' | 'invalid' | 'replayed';

/**
 * The attempt budget (issue 9, item 3): one per profile, whatever the source (the window, the
 * shell), so an attacker with both gets no more tries than with one. Every check first takes a
 * slot; a success clears the count, which releases it; a failure's audit rows follow in a group.
 */
export class AttemptGuard {
  readonly #attempts: MfaAttemptsRepository;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #audit: AuditLog;
  readonly #group: GroupCommit;

  constructor(deps: { attempts: MfaAttemptsRepository; clock: Clock; config: Config; audit: AuditLog; groupCommit: GroupCommit }) {
    this.#attempts = deps.attempts;
    this.#clock = deps.clock;
    this.#config = deps.config;
    this.#audit = deps.audit;
    this.#group = deps.groupCommit;
  }

  /**
   * Takes one attempt slot for the profile, or refuses with ERR-MFA-RATE-LIMITED. Synchronous and
   * atomic across processes (an IMMEDIATE transaction), so it runs before any await of the check.
   * A refusal writes nothing: a flood of refused attempts costs no disk.
   */
  take(profileId: string): Slot {
    const key = attemptKey(profileId);
    const now = this.#clock.now();
    const policy = { maxAttempts: this.#config.mfa.rateLimit.maxAttempts, windowMs: this.#config.mfa.rateLimit.windowSeconds * 1000 };
    const slot = this.#attempts.take(key, (previous) => takeAttempt(previous, now, policy));
    if (!slot.ok) throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds: slot.retryAfterSeconds });
    return { key, at: now, state: slot.state, blockedNow: slot.blockedNow };
  }

  /** The slot's attempt failed: its count is already stored; the audit rows follow in a group. */
  recordFailure(slot: Slot, profile: Profile, ctx: MfaContext, what: { factorId: string | null; purpose: string; reason: FailureReason }): void {
    const { state, blockedNow } = slot;
    const at = where(ctx);
    const ts = slot.at;
    this.#group.enqueue(() => {
      this.#audit.append({
        event: 'mfa_challenge_failed',
        actor: profile.principal,
        subject: what.factorId ?? profile.id,
        ...at,
        data: { factorId: what.factorId, purpose: what.purpose, reason: what.reason, source: ctx.source, failures: state.failures },
      });
      if (blockedNow) {
        this.#audit.append({
          event: 'mfa_rate_limited',
          actor: profile.principal,
          subject: profile.id,
          ...at,
          data: { retryAfterSeconds: retryAfterSeconds(state, ts), lockouts: state.lockouts, source: ctx.source },
        });
      }
    });
  }

  /** Inside a transaction: a success wipes the count, releasing the slots taken. */
  clear(slot: Pick<Slot, 'key'>): void {
    this.#attempts.clear(slot.key);
  }
}

/**
 * One attempt budget per profile, shared by every source (issue 9, item 3): with one per source,
 * an attacker who could type in the window and in a shell got the sum of both.
 */
function attemptKey(profileId: string): string {
  return profileId;
}
