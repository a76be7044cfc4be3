import { phoneInputSchema } from '../../../src-shared/domain/phone';
import type { BackupCodesStatus, Enrollment, Factor, Profile, Role, TotpAlgorithm } from '../../../src-shared/domain/mfa';
import { MANAGE } from '../../../src-shared/domain/policy';
import { AppError } from '../../../src-shared/errors';
import type { Language } from '../../../src-shared/i18n';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { AuditFeedRepository } from '../../platform/db/repositories/audit-feed.repository';
import type { BackupCodesRepository } from '../../platform/db/repositories/backup-codes.repository';
import type { FactorsRepository } from '../../platform/db/repositories/factors.repository';
import type { MfaAttemptsRepository } from '../../platform/db/repositories/mfa-attempts.repository';
import type { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import type { Notifier } from '../../platform/notifier';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import { AttemptGuard } from './attempt-guard.service';
import { BackupCodesService } from './backup-codes.service';
import { ManagementGate, type ManagementGrants } from './management-gate';
import { FactorNotices } from './factor-notices';
import { FactorsService, type DisableHook } from './factors.service';
import type { FactorMethodRegistry } from './methods/registry';
import type { MfaContext } from './mfa-context';
import { ProfileService } from './profile.service';
import type { SecretVault } from './secret-vault';
import { Verifier, type Verified, type VerifyOptions } from './verifier';

export type { MfaContext } from './mfa-context';
export { secretAccount } from './secret-vault';
export { PENDING_ENROLLMENT_MS } from './factors.service';
export type { Verified, VerifyOptions } from './verifier';

export interface EnrollOptions {
  label: string;
  digits: 6 | 8;
  period: 30 | 60;
  algorithm: TotpAlgorithm;
}

/** An SMS factor: the number as the approver typed it (issue 12). */
export interface SmsEnrollOptions {
  label: string;
  type: 'sms';
  phone: string;
}

/** A push factor (issue 12): this desktop's window answers its pushes. */
export interface PushEnrollOptions {
  label: string;
  type: 'push';
}

/** The tables the MFA parts work on; built by the composition root. */
export interface MfaRepositories {
  profiles: ProfilesRepository;
  factors: FactorsRepository;
  backupCodes: BackupCodesRepository;
  attempts: MfaAttemptsRepository;
  auditFeed: AuditFeedRepository;
}

export interface MfaServiceDeps {
  repositories: MfaRepositories;
  audit: AuditLog;
  groupCommit: GroupCommit;
  /**
   * The secrets kept in memory while unlocked, and the factor methods over them: built by the
   * composition root and shared with the chain's port, so both check codes the same way.
   */
  vault: SecretVault;
  methods: FactorMethodRegistry;
  clock: Clock;
  random: Random;
  config: Config;
  /** Desktop notices of factor changes, made here or by another process; none in the CLI. */
  /** The chain's step-up grants, which pay for managing factors (issue 10); late-bound by the root. */
  grants: ManagementGrants;
  /** The policies' veto on disabling a factor they need. */
  policies: DisableHook;
  notifier?: Notifier | null;
  language?: () => Language;
}

/**
 * The approver's profile, factors and backup codes (issue #4; seeds 002 and 003), as one facade
 * over its parts (issue 10): the profile, the factors' lifecycle, verification through each
 * factor type's method, the backup codes, the attempt guard and the secret vault. It keeps the
 * listeners of the Factors screen told: after each change this process makes, and when another
 * process committed one (`externalChange`).
 *
 * Every check first takes an attempt slot for the profile, whatever the source (the window, the
 * shell). Failures' audit rows are committed in groups; successes and every change of state
 * commit at once, with their audit rows.
 */
export class MfaService {
  readonly #group: GroupCommit;
  readonly #vault: SecretVault;
  readonly #profiles: ProfileService;
  readonly #factors: FactorsService;
  readonly #backup: BackupCodesService;
  readonly #verifier: Verifier;
  readonly #gate: ManagementGate;
  readonly #audit: AuditLog;
  readonly #notices: FactorNotices;
  readonly #listeners = new Set<() => void>();
  /** The profile, factors and backup-code state as last told to the listeners; see externalChange. */
  #fingerprint: string | undefined;

  constructor(deps: MfaServiceDeps) {
    const { repositories: repos, audit, groupCommit, clock, config, random } = deps;
    const changed = (): void => this.#changed();
    this.#group = groupCommit;
    this.#audit = audit;
    this.#gate = new ManagementGate(deps.grants);
    this.#vault = deps.vault;
    const methods = deps.methods;
    const guard = new AttemptGuard({ attempts: repos.attempts, clock, config, audit, groupCommit });
    this.#profiles = new ProfileService({ profiles: repos.profiles, factors: repos.factors, audit, clock, random });
    this.#backup = new BackupCodesService({ backupCodes: repos.backupCodes, vault: this.#vault, guard, audit, groupCommit, clock, random });
    this.#verifier = new Verifier({
      profiles: this.#profiles,
      factors: repos.factors,
      methods,
      vault: this.#vault,
      guard,
      backup: this.#backup,
      audit,
      groupCommit,
      clock,
      changed,
    });
    this.#factors = new FactorsService({
      factors: repos.factors,
      profiles: this.#profiles,
      methods,
      vault: this.#vault,
      guard,
      backup: this.#backup,
      gate: this.#gate,
      policies: deps.policies,
      audit,
      groupCommit,
      clock,
      config,
      random,
      changed,
    });
    this.#notices = new FactorNotices({ feed: repos.auditFeed, notifier: deps.notifier ?? null, language: deps.language ?? (() => 'en') });
  }

  // --- Profile ---

  profile(): Profile | null {
    return this.#profiles.profile();
  }

  requireProfile(): Profile {
    return this.#profiles.requireProfile();
  }

  initProfile(input: { displayName: string; principal: string; role: Role }, ctx: MfaContext): Profile {
    this.#profiles.create(input, ctx);
    this.#changed();
    return this.requireProfile();
  }

  /**
   * A role change is a privilege change: it takes a grant from a critical chain for this very
   * role (`profile:role:<role>`), a chain that draws only factors with full rights and admits no
   * backup code (issue 9, item 4; issue 10).
   */
  setRole(role: Role, ctx: MfaContext): Profile {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-REQUIRED');
    if (role === profile.role) return profile;
    const changed = this.#audit.transact(() => {
      this.#gate.take(MANAGE.role(role));
      return this.#profiles.changeRole(profile, role, ctx);
    });
    if (changed) this.#changed();
    return this.requireProfile();
  }

  // --- Factors ---

  listFactors(): { factors: Factor[]; backupCodes: BackupCodesStatus } {
    const profile = this.#profiles.stored();
    if (!profile) return { factors: [], backupCodes: { remaining: 0, total: 0, expiresAt: null, low: false } };
    return { factors: this.#factors.list(profile), backupCodes: this.#backup.status(profile) };
  }

  /**
   * A TOTP factor (its parameters), or an SMS factor (issue 12): its number as typed, which must
   * parse to E.164; the first code is sent before this returns. A push factor: the push that
   * confirms it is raised before this returns.
   */
  startEnrollment(options: EnrollOptions | SmsEnrollOptions | PushEnrollOptions, ctx: MfaContext): Promise<Enrollment> {
    if ('type' in options && options.type === 'push') return this.#factors.startEnrollment(options.label, { type: 'push' }, ctx);
    if ('type' in options) {
      const phone = phoneInputSchema.safeParse(options.phone);
      if (!phone.success) return Promise.reject(new AppError('ERR-VALIDATION', { field: 'phone' }));
      return this.#factors.startEnrollment(options.label, { type: 'sms', phone: phone.data }, ctx);
    }
    const { label, digits, period, algorithm } = options;
    return this.#factors.startEnrollment(label, { type: 'totp', digits, period, algorithm }, ctx);
  }

  resumeEnrollment(factorId: string, ctx: MfaContext): Promise<Enrollment> {
    return this.#factors.resumeEnrollment(factorId, ctx);
  }

  /** A pending SMS factor's confirming code, sent again (no grant; the send limit counts it). */
  resendEnrollmentCode(factorId: string, ctx: MfaContext): Promise<{ sent: { digits: number; resendAfter: string } }> {
    return this.#factors.resendCode(factorId, ctx);
  }

  removePendingEnrollment(factorId: string, ctx: MfaContext): Promise<{ factorId: string }> {
    return this.#factors.removePendingEnrollment(factorId, ctx);
  }

  revealSecret(factorId: string, ctx: MfaContext): Promise<string> {
    return this.#factors.revealSecret(factorId, ctx);
  }

  confirmEnrollment(factorId: string, code: string, ctx: MfaContext): Promise<{ factor: Factor; backupCodes: string[] | null }> {
    return this.#factors.confirmEnrollment(factorId, code, ctx);
  }

  renameFactor(factorId: string, label: string, ctx: MfaContext): Factor {
    return this.#factors.rename(factorId, label, ctx);
  }

  /** Refuses, before any chain, to disable what cannot be: an admin's last factor, one a policy needs. */
  assertCanDisable(factorId: string): void {
    this.#factors.assertCanDisable(factorId);
  }

  disableFactor(factorId: string, ctx: MfaContext): Promise<Factor> {
    return this.#factors.disable(factorId, ctx);
  }

  /**
   * Takes a grant from a critical chain for `backup-codes:regenerate`, a chain that draws only
   * factors with full rights and admits no backup code (one leaked code must not mint ten more).
   */
  async regenerateBackupCodes(ctx: MfaContext): Promise<{ codes: string[]; status: BackupCodesStatus }> {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-NOT-ENABLED');
    this.#gate.precheck(MANAGE.regenerateCodes);
    const codes = await this.#backup.regenerate(profile, ctx, () => this.#gate.take(MANAGE.regenerateCodes));
    this.#changed();
    return { codes, status: this.#backup.status(this.requireProfile()) };
  }

  // --- Verification ---

  verify(code: string, ctx: MfaContext, options: VerifyOptions): Promise<Verified> {
    return this.#verifier.verify(code, ctx, options);
  }

  /** The startup cleanup of half-made enrollments and disables (FactorsService.reconcileSecrets). */
  reconcileSecrets(): Promise<{ swept: number; dropped: number; missing: string[] }> {
    return this.#factors.reconcileSecrets();
  }

  /** Active factors whose secret the keychain no longer holds. */
  missingSecrets(): Promise<string[]> {
    return this.#factors.missingSecrets();
  }

  expirePendingEnrollments(): Promise<number> {
    return this.#factors.expirePending();
  }

  /**
   * Another process committed: read the profile and factors afresh, and tell the listeners (the
   * Factors screen) when what they show changed, e.g. after `custodian factors enroll` in a shell
   * (issue 9). Most commits by other processes are requests arriving, so the listeners hear only
   * about those that touched the profile, the factors or the backup codes.
   */
  externalChange(): void {
    this.#profiles.invalidate();
    // A factor change made by another process (the shell): its notice. The Factors screen hears
    // of it too, and of anything else it shows that changed (backup codes used up in a shell).
    const noticed = this.#notices.drain();
    const seen = this.#fingerprint;
    this.#fingerprint = this.#readFingerprint();
    // Unknown before (nothing read yet): say so once rather than risk a stale screen.
    if (noticed || seen !== this.#fingerprint) this.#emit();
  }

  /** Drops every secret held in memory (on lock). */
  forgetSecrets(): void {
    this.#vault.forget();
  }

  /** Commits the failed attempts still queued (on shutdown). */
  flush(): void {
    this.#group.flush();
  }

  onChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#profiles.invalidate();
    try {
      this.#notices.drain();
    } catch {
      // The change is committed and audited; a notice that cannot be read must not undo it.
    }
    try {
      this.#fingerprint = this.#readFingerprint();
    } catch {
      // Unknown: the next external change will tell the listeners once more, which is harmless.
      this.#fingerprint = undefined;
    }
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }

  /** What the Factors screen shows, as text: equal text, nothing to refresh. */
  #readFingerprint(): string {
    return JSON.stringify([this.#profiles.stored(), this.listFactors()]);
  }
}
