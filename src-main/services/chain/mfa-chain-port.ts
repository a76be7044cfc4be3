import { stepUpRules, type ChainFactor, type FactorChallenge } from '../../../src-shared/domain/policy';
import { PUSH_NUMBER_DIGITS, SMS_CODE_DIGITS, type Profile } from '../../../src-shared/domain/mfa';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { BackupCodesRepository } from '../../platform/db/repositories/backup-codes.repository';
import { inRecovery, type FactorRecord, type FactorsRepository } from '../../platform/db/repositories/factors.repository';
import type { MfaAttemptsRepository } from '../../platform/db/repositories/mfa-attempts.repository';
import type { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import { assertNever } from '../../../src-shared/assert-never';
import { takeAttempt } from '../mfa/attempt-guard';
import { findBackupCode, normalizeBackupCode } from '../mfa/backup-codes';
import type { FactorMethodRegistry } from '../mfa/methods/registry';
import type { SecretVault } from '../mfa/secret-vault';
import type { AuditLog } from '../audit/audit.service';
import type { ActiveFactors } from '../policy/policy.service';
import type { ChainMfaPort, CodeVerdict, PassedCode, StepContext, UncountedVerdict } from './chain-ports';

export interface MfaChainPortDeps {
  profiles: ProfilesRepository;
  factors: FactorsRepository;
  backup: BackupCodesRepository;
  attempts: MfaAttemptsRepository;
  /**
   * The factor methods (the seam), the same registry MfaService checks codes with: the chain
   * never touches a secret or a code format itself.
   */
  methods: FactorMethodRegistry;
  /** The backup-code key, through the same vault MfaService keeps (dropped on lock). */
  vault: SecretVault;
  /** For the one row the port writes itself: a recovery factor refused (issue 9, item 4). */
  audit: AuditLog;
  clock: Clock;
  config: Config;
}

/**
 * The chain's MFA port over the real pieces (issue 10): the factors table with its replay floor,
 * the factor methods (`FactorMethodRegistry`, the seam), the backup codes' HMACs and the
 * persisted attempt guard shared with every other check (one budget per profile, issue 9 item 3).
 * It lives beside the chain rather than inside MfaService so the chain depends on the port only;
 * a new factor method plugs in through the registry without the chain noticing (issue 12).
 *
 * Secrets come through the vault the composition root shares with MfaService. Its memory copy is
 * what `forgetSecrets` drops on lock; the chain's channels are closed while the desk is locked
 * (`lockGate`), and a keychain read still in flight when the lock comes does not refill it
 * (`SecretVault`'s generation), so the chain keeps no secret past a lock either.
 */
export class MfaChainPort implements ChainMfaPort, ActiveFactors {
  readonly #profiles: ProfilesRepository;
  readonly #factors: FactorsRepository;
  readonly #backup: BackupCodesRepository;
  readonly #attempts: MfaAttemptsRepository;
  readonly #methods: FactorMethodRegistry;
  readonly #vault: SecretVault;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #config: Config;

  constructor(deps: MfaChainPortDeps) {
    this.#profiles = deps.profiles;
    this.#factors = deps.factors;
    this.#backup = deps.backup;
    this.#attempts = deps.attempts;
    this.#methods = deps.methods;
    this.#vault = deps.vault;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#config = deps.config;
  }

  /** The profile's active factors as a chain sees them; none without a profile. */
  list(): ChainFactor[] {
    return this.#active(() => true);
  }

  withFullRights(): ChainFactor[] {
    const now = this.#clock.now();
    return this.#active((f) => !inRecovery(f, now));
  }

  #active(keep: (factor: FactorRecord) => boolean): ChainFactor[] {
    const profile = this.#profiles.current();
    if (!profile) return [];
    return this.#factors
      .active(profile.id)
      // A factor whose method MFA_METHODS turned off is not drawn (issue 12): a policy that
      // needed it is then unsatisfiable, where it is saved and where a chain starts.
      .filter((f) => this.#methods.isEnabled(f.type) && keep(f))
      .map(chainFactor);
  }

  actor(): string {
    return this.#profile().principal;
  }

  takeAttemptSlot(ctx: StepContext): void {
    void ctx;
    const key = attemptKey(this.#profile().id);
    const now = this.#clock.now();
    const policy = { maxAttempts: this.#config.mfa.rateLimit.maxAttempts, windowMs: this.#config.mfa.rateLimit.windowSeconds * 1000 };
    const slot = this.#attempts.take(key, (previous) => takeAttempt(previous, now, policy));
    if (!slot.ok) throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds: slot.retryAfterSeconds });
  }

  releaseAttempts(ctx: StepContext): void {
    void ctx;
    this.#attempts.clear(attemptKey(this.#profile().id));
  }

  /** The failures counted now for the profile (what the next slot will add to). */
  failures(): number {
    const profile = this.#profiles.current();
    return profile ? (this.#attempts.get(attemptKey(profile.id))?.failures ?? 0) : 0;
  }

  async verifyFactorCode(factorId: string, code: string, ctx: StepContext): Promise<Exclude<CodeVerdict, 'ok'> | PassedCode> {
    const profile = this.#profile();
    const drawn = this.#factors.get(profile.id, factorId);
    // Disabled since the chain was drawn (another window, a shell): its secret is gone, and its
    // code is simply wrong, not a keychain failure.
    if (!drawn || drawn.state !== 'active') return 'invalid';
    // Drawn by a process whose MFA_METHODS still had the method on: this one does not check it.
    this.#methods.assertEnabled(drawn.type);
    // Such a chain never draws it (`PolicyService.chainFor`); this holds for a chain drawn before
    // the factor's rights changed, and for an unknown purpose. Unknown means full rights: fail
    // secure. Refused before the code is looked at: an SMS code or a push answer would be used up.
    this.#refuseRecovery(profile, drawn, ctx);
    // The method's verdict (the seam): it reads its secret (the keychain may take a while) and
    // changes nothing; an SMS code or a push answer is used up by `use` below.
    const verdict = await this.#methods.verify(drawn, code.trim(), ctx.attemptId ?? null);
    // Read again after the await: another call may have disabled the factor or moved its replay
    // floor meanwhile. A verdict judged against the older floor is safe: `markUsed` below is the
    // guarded UPDATE that refuses any step at or under the floor as it is then.
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active') return 'invalid';
    if (!verdict.ok) return verdict.reason === 'malformed' ? 'invalid' : verdict.reason;
    const now = this.#clock.now();
    // A method without time steps (SMS, push) makes its codes one-time itself: the floor just moves.
    const step = verdict.step ?? factor.lastUsedStep + 1;
    // The replay floor only moves forward: used once per factor and time step, across attempts
    // and processes (RFC 6238 §5.2). It moves in the step's own transaction, with its audit row
    // (issue 13): a step refused at commit leaves the code good for a retry. The attempt count
    // stays: only a completed chain clears it.
    return { use: () => (verdict.use?.() ?? true) && this.#factors.markUsed(factor.id, step, new Date(now).toISOString()) };
  }

  uncounted(factorId: string, ctx: StepContext): UncountedVerdict {
    const profile = this.#profile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active' || !this.#methods.isEnabled(factor.type)) return null;
    return this.#methods.uncounted(factor, ctx.attemptId ?? null);
  }

  /** ERR-MFA-RECOVERY-PENDING, audited, for a recovery factor in its delay where the purpose needs full rights. */
  #refuseRecovery(profile: Profile, factor: FactorRecord, ctx: StepContext): void {
    const now = this.#clock.now();
    if (!stepUpRules(ctx.purpose ?? '').fullRights || !inRecovery(factor, now)) return;
    // The attempt slot stays taken and the chain as it was.
    const until = factor.recoveryUntil ?? now;
    this.#audit.record({
      event: 'mfa_recovery_refused',
      actor: profile.principal,
      subject: factor.id,
      sourceIp: ctx.sourceIp ?? null,
      userAgent: ctx.userAgent ?? null,
      data: { factorId: factor.id, label: factor.label, purpose: ctx.purpose ?? null, until: new Date(until).toISOString(), source: ctx.source },
    });
    throw new AppError('ERR-MFA-RECOVERY-PENDING', { until });
  }

  async challengeFactor(factorId: string, ctx: StepContext): Promise<FactorChallenge> {
    const profile = this.#profile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active') throw new AppError('ERR-NOT-FOUND');
    this.#methods.assertEnabled(factor.type);
    // No text sent or push raised for a factor the step would refuse anyway.
    this.#refuseRecovery(profile, factor, ctx);
    return this.#methods.challenge(factor, {
      attemptId: ctx.attemptId ?? null,
      purpose: ctx.purpose ?? '',
      sensitivity: ctx.sensitivity ?? null,
      source: ctx.source,
      startedBy: profile.principal,
    });
  }

  withdrawChallenge(factorId: string, attemptId: string): void {
    const factor = this.#factors.get(this.#profile().id, factorId);
    if (factor) this.#methods.withdraw(factor, attemptId);
  }

  async verifyBackupCode(code: string, ctx: StepContext): Promise<PassedCode | null> {
    void ctx;
    const profile = this.#profile();
    const normalized = normalizeBackupCode(code);
    if (!normalized || !profile.mfaEnabled) return null;
    const key = await this.#vault.backupKey(profile.id, false);
    if (!key) return null;
    const now = this.#clock.now();
    const usable = this.#backup.usable(profile.id, now);
    const match = usable[findBackupCode(key, normalized, usable.map((c) => c.mac))];
    if (match === undefined) return null;
    // A guarded UPDATE, run in the step's transaction: of two processes holding the same code,
    // one wins, and a step refused at commit leaves the code unused (issue 13).
    return { use: () => this.#backup.use(match.id, new Date(now).toISOString()) };
  }

  #profile(): Profile {
    const profile = this.#profiles.current();
    if (!profile) throw new AppError('ERR-PROFILE-REQUIRED');
    return profile;
  }
}

/** Where the backup codes' HMAC key lives in the keychain; the account the vault reads. */
export { backupKeyAccount } from '../mfa/secret-vault';

/** A factor as a chain sees it, from its record: its type, and the digits a code must have. */
export function chainFactor(factor: FactorRecord): ChainFactor {
  switch (factor.type) {
    case 'totp':
      return { id: factor.id, type: factor.type, label: factor.label, digits: factor.digits };
    case 'sms':
      return { id: factor.id, type: factor.type, label: factor.label, digits: SMS_CODE_DIGITS };
    case 'push':
      return { id: factor.id, type: factor.type, label: factor.label, digits: PUSH_NUMBER_DIGITS };
    default:
      return assertNever(factor);
  }
}

/** One attempt budget per profile for every source, as MfaService keys it (issue 9, item 3). */
function attemptKey(profileId: string): string {
  return profileId;
}
