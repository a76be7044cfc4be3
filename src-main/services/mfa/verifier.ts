import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { FactorRecord, FactorsRepository } from '../../platform/db/repositories/factors.repository';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import type { AttemptGuard, FailureReason } from './attempt-guard.service';
import type { BackupCodesService } from './backup-codes.service';
import type { FactorMethodRegistry } from './methods/registry';
import { mfaRow, type MfaContext } from './mfa-context';
import type { ProfileService } from './profile.service';
import type { SecretVault } from './secret-vault';

export type Verified = { method: 'totp'; factorId: string } | { method: 'backup' };

export interface VerifyOptions {
  allowBackup: boolean;
  /** Why the code was asked for; recorded in the audit row. */
  purpose: string;
}

/**
 * Checks codes: each active factor's through its method (the seam), then a backup code where
 * allowed, all within one attempt slot taken before the first await.
 */
export class Verifier {
  readonly #profiles: ProfileService;
  readonly #factors: FactorsRepository;
  readonly #methods: FactorMethodRegistry;
  readonly #vault: SecretVault;
  readonly #guard: AttemptGuard;
  readonly #backup: BackupCodesService;
  readonly #audit: AuditLog;
  readonly #group: GroupCommit;
  readonly #clock: Clock;
  readonly #changed: () => void;

  constructor(deps: {
    profiles: ProfileService;
    factors: FactorsRepository;
    methods: FactorMethodRegistry;
    vault: SecretVault;
    guard: AttemptGuard;
    backup: BackupCodesService;
    audit: AuditLog;
    groupCommit: GroupCommit;
    clock: Clock;
    changed: () => void;
  }) {
    this.#profiles = deps.profiles;
    this.#factors = deps.factors;
    this.#methods = deps.methods;
    this.#vault = deps.vault;
    this.#guard = deps.guard;
    this.#backup = deps.backup;
    this.#audit = deps.audit;
    this.#group = deps.groupCommit;
    this.#clock = deps.clock;
    this.#changed = deps.changed;
  }

  /**
   * Verifies a code: a code from an active factor, or (where allowed) a backup code. Refused
   * while the profile is rate-limited. The attempt slot is taken before the first await (the
   * keychain), so concurrent calls cannot all pass the block check before any of them has
   * failed; a failure is audited, a success clears the count, moves the factor's replay floor
   * forward or uses the backup code up.
   */
  async verify(code: string, ctx: MfaContext, options: VerifyOptions): Promise<Verified> {
    this.#group.assertHealthy();
    const profile = this.#profiles.requireProfile();
    const candidates = this.#profiles.current().active;
    if (candidates.length === 0 && !options.allowBackup) throw new AppError('ERR-MFA-NOT-ENABLED');
    const slot = this.#guard.take(profile.id);

    const typed = code.trim();
    let reason: FailureReason = 'malformed';
    for (const candidate of candidates) {
      let factor: FactorRecord | undefined = candidate;
      if (this.#vault.cached(candidate.id) === undefined) {
        await this.#vault.factorSecret(profile.id, candidate.id);
        // Read again after waiting on the keychain: another call may have used a code meanwhile.
        factor = this.#factors.get(profile.id, candidate.id);
        if (!factor || factor.state !== 'active') continue;
      }
      const now = this.#clock.now();
      const check = await this.#methods.verify(factor, typed, null);
      if (check.ok) {
        this.#group.flush();
        this.#profiles.invalidate();
        const used = factor;
        // A method without time steps (SMS, push) makes its codes one-time itself: the floor just moves.
        const step = check.step ?? used.lastUsedStep + 1;
        const row = mfaRow(profile, ctx, 'mfa_challenge_succeeded', used.id, { factorId: used.id, method: used.type, purpose: options.purpose, source: ctx.source });
        const accepted = this.#audit.recordChange(row, () => {
          // An SMS code or a push answer is used up here, with the row (issue 13).
          if (check.use && !check.use()) return false;
          // The floor only moves forward; if another process used this step first, it is a replay.
          if (!this.#factors.markUsed(used.id, step, new Date(now).toISOString())) return false;
          this.#guard.clear(slot);
          return true;
        });
        if (accepted) return { method: 'totp', factorId: used.id };
        reason = 'replayed';
        break;
      }
      if (check.reason === 'replayed' || (check.reason === 'invalid' && reason === 'malformed')) reason = check.reason;
    }

    if (options.allowBackup && reason !== 'replayed') {
      const used = await this.#backup.use(profile, typed, slot, ctx, options.purpose);
      if (used) {
        this.#changed();
        return { method: 'backup' };
      }
    }
    this.#guard.recordFailure(slot, profile, ctx, { factorId: null, purpose: options.purpose, reason });
    throw new AppError(reason === 'replayed' ? 'ERR-MFA-REPLAYED' : 'ERR-MFA-INVALID');
  }
}
