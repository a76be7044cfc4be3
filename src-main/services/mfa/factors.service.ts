import QRCode from 'qrcode';
import { MFA_MANDATORY_ROLES, type Enrollment, type EnrollParams, type Factor, type Profile } from '../../../src-shared/domain/mfa';
import { MANAGE } from '../../../src-shared/domain/policy';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import { inRecovery, toFactor, type EnrolledWith, type FactorRecord, type FactorsRepository } from '../../platform/db/repositories/factors.repository';
import { randomId } from '../../platform/random';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import type { AttemptGuard } from './attempt-guard.service';
import { formatBackupCode } from './backup-codes';
import type { BackupCodesService } from './backup-codes.service';
import type { ManagementGate } from './management-gate';
import type { StepBinding } from './methods/factor-method';
import type { FactorMethodRegistry } from './methods/registry';
import { HOUR_MS, mfaRow, type MfaContext } from './mfa-context';
import type { ProfileService } from './profile.service';
import type { SecretVault } from './secret-vault';

/** Refuses to disable a factor that a policy needs (PolicyService.assertCanDisable). */
export interface DisableHook {
  assertCanDisable(factorId: string): void;
}

/** How long a pending enrollment waits for its first code (DESIGN.md "Enrollment"). */
export const PENDING_ENROLLMENT_MS = 10 * 60 * 1000;

export interface FactorsServiceDeps {
  factors: FactorsRepository;
  profiles: ProfileService;
  methods: FactorMethodRegistry;
  vault: SecretVault;
  guard: AttemptGuard;
  backup: BackupCodesService;
  gate: ManagementGate;
  policies: DisableHook;
  audit: AuditLog;
  groupCommit: GroupCommit;
  clock: Clock;
  config: Config;
  random: Random;
  /** This process changed the profile, a factor or the backup codes. */
  changed: () => void;
}

/**
 * The factors' lifecycle: enrollment (start, resume, remove, reveal, confirm), rename and
 * disable, with the recovery rules of issue 9, item 4. Whatever the type, its own work (the
 * secret, the code check, the key URI) is its method's.
 */
export class FactorsService {
  readonly #factors: FactorsRepository;
  readonly #profiles: ProfileService;
  readonly #methods: FactorMethodRegistry;
  readonly #vault: SecretVault;
  readonly #guard: AttemptGuard;
  readonly #backup: BackupCodesService;
  readonly #gate: ManagementGate;
  readonly #policies: DisableHook;
  readonly #audit: AuditLog;
  readonly #group: GroupCommit;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #random: Random;
  readonly #changed: () => void;

  constructor(deps: FactorsServiceDeps) {
    this.#factors = deps.factors;
    this.#profiles = deps.profiles;
    this.#methods = deps.methods;
    this.#vault = deps.vault;
    this.#guard = deps.guard;
    this.#backup = deps.backup;
    this.#gate = deps.gate;
    this.#policies = deps.policies;
    this.#audit = deps.audit;
    this.#group = deps.groupCommit;
    this.#clock = deps.clock;
    this.#config = deps.config;
    this.#random = deps.random;
    this.#changed = deps.changed;
  }

  /** The factors the Factors screen shows: lapsed enrollments are already gone from it. */
  list(profile: Profile): Factor[] {
    const now = this.#clock.now();
    return this.#factors
      .visible(profile.id)
      .filter((f) => f.state !== 'pending' || (f.pendingExpiresAt ?? 0) > now)
      .map((f) => toFactor(f, now));
  }

  /**
   * Starts adding a factor. Once MFA is on it takes a grant from a critical chain for
   * `factors:enroll` (issue 10): a chain where a backup code stood in for a step makes the new
   * factor a recovery factor (issue 9, item 4). The first factor, during setup, needs none.
   */
  async startEnrollment(label: string, requested: EnrollParams, ctx: MfaContext): Promise<Enrollment> {
    const profile = this.#profiles.requireProfile();
    this.#group.assertHealthy();
    // A method MFA_METHODS leaves out is refused before anything else (issue 12).
    this.#methods.assertEnabled(requested.type);
    // Unlocking takes one code, which a push cannot give: a desk whose only factor is a push
    // factor could be opened with backup codes alone (issue 12).
    if (requested.type === 'push' && !profile.mfaEnabled) throw new AppError('ERR-MFA-CODE-FACTOR-REQUIRED');
    if (profile.mfaEnabled) this.#gate.precheck(MANAGE.enroll);
    const id = randomId('f', this.#random);
    // What is recorded may be less than what was asked for: an SMS number is kept in the
    // keychain with the secret, and recorded (and audited) masked.
    const { secret, params } = this.#methods.enroll(requested);
    // Keychain first: if it cannot hold the secret, nothing is recorded (fail closed).
    await this.#vault.storeFactorSecret(profile.id, id, secret);
    const now = this.#clock.now();
    // The audit row names the type's parameters as recorded (an SMS number masked), as before.
    const typeParams: Record<string, unknown> = { ...params };
    delete typeParams.type;
    try {
      this.#audit.transact(() => {
        const enrolledWith = this.#enrollmentRight(profile);
        this.#factors.insertPending({
          id,
          profileId: profile.id,
          label,
          params,
          createdAt: new Date(now).toISOString(),
          pendingExpiresAt: now + PENDING_ENROLLMENT_MS,
          enrolledWith,
        });
        this.#audit.append(mfaRow(profile, ctx, 'mfa_setup_initiated', id, { factorId: id, label, ...typeParams, enrolledWith, source: ctx.source }));
      });
    } catch (error) {
      await this.#vault.discardFactorSecret(profile.id, id);
      throw error;
    }
    this.#vault.remember(id, secret);
    this.#changed();
    try {
      return await this.#enrollment(profile, this.#require(profile.id, id), secret, ctx);
    } catch (error) {
      // The first SMS code could not be sent (ERR-SMS-*, or the send limit): the caller never
      // learns the factor's id, so the enrollment is taken back rather than left pending with
      // the number in the keychain. Best effort: the sweep removes it when its 10 minutes end.
      await this.removePendingEnrollment(id, ctx).catch(() => undefined);
      throw error;
    }
  }

  /**
   * "Resume" on a pending factor (issue 9, item 7): its QR code again, within its 10 minutes.
   * Showing the secret again is adding the factor again, so it takes the same grant as starting
   * did, and the factor owes its rights to that grant.
   */
  async resumeEnrollment(factorId: string, ctx: MfaContext): Promise<Enrollment> {
    const profile = this.#profiles.requireProfile();
    this.#group.assertHealthy();
    const factor = await this.#requirePending(profile.id, factorId);
    // Started before the method was turned off: it cannot be finished now.
    this.#methods.assertEnabled(factor.type);
    if (profile.mfaEnabled) this.#gate.precheck(MANAGE.enroll);
    const secret = await this.#vault.factorSecret(profile.id, factor.id);
    this.#audit.transact(() => {
      const enrolledWith = profile.mfaEnabled ? this.#enrollmentRight(profile) : factor.enrolledWith;
      if (enrolledWith !== factor.enrolledWith && !this.#factors.setEnrolledWith(factor.id, enrolledWith)) throw new AppError('ERR-NOT-FOUND');
      this.#audit.append(mfaRow(profile, ctx, 'mfa_setup_resumed', factor.id, { factorId: factor.id, label: factor.label, enrolledWith, source: ctx.source }));
    });
    this.#changed();
    return this.#enrollment(profile, this.#require(profile.id, factor.id), secret, ctx);
  }

  /**
   * "Remove" on a pending factor (issue 9, item 7): its secret leaves the keychain first, then
   * the row goes; if the keychain cannot delete it, nothing changes. Takes no code: a pending
   * factor can verify nothing, and removing it gives nobody anything.
   */
  async removePendingEnrollment(factorId: string, ctx: MfaContext): Promise<{ factorId: string }> {
    const profile = this.#profiles.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'pending') throw new AppError('ERR-NOT-FOUND');
    await this.#vault.deleteFactorSecret(profile.id, factor.id);
    const row = mfaRow(profile, ctx, 'mfa_setup_removed', factor.id, { factorId: factor.id, label: factor.label, source: ctx.source });
    this.#audit.recordChange(row, () => {
      if (!this.#factors.deletePending(factor.id)) throw new AppError('ERR-NOT-FOUND');
      this.#methods.forget(factor);
    });
    this.#changed();
    return { factorId: factor.id };
  }

  /**
   * "Send again" on a pending SMS factor (issue 12): a new confirming code to the number the
   * enroller already gave, within the enrollment's 10 minutes. It takes no grant: it changes no
   * right and reaches no new number, and the method's send limit (3 per 10 minutes per factor,
   * counted with the first send) bounds what it costs. A send Twilio refuses leaves the
   * enrollment as it was (the caller knows its id and may try again). Audited after the send,
   * as a chain's challenge is; a refused send is not.
   */
  async resendCode(factorId: string, ctx: MfaContext): Promise<{ sent: { digits: number; resendAfter: string } }> {
    const profile = this.#profiles.requireProfile();
    this.#group.assertHealthy();
    const factor = await this.#requirePending(profile.id, factorId);
    // A TOTP enrollment has nothing to send: its app holds the secret.
    if (factor.type !== 'sms') throw new AppError('ERR-VALIDATION', { field: 'factorId' });
    this.#methods.assertEnabled(factor.type);
    // Confirm would refuse it (nobody proved a code for it): a code for it would be wasted.
    if (profile.mfaEnabled && factor.enrolledWith === 'setup') throw new AppError('ERR-MFA-REQUIRED');
    const challenge = await this.#methods.challenge(factor, enrollmentBinding(profile, ctx));
    if (challenge.kind !== 'sent') throw new AppError('ERR-INTERNAL');
    this.#audit.record(
      mfaRow(profile, ctx, 'mfa_setup_code_resent', factor.id, {
        factorId: factor.id,
        label: factor.label,
        phoneMasked: factor.phoneMasked,
        source: ctx.source,
      }),
    );
    return { sent: { digits: challenge.digits, resendAfter: challenge.resendAfter } };
  }

  /** "Can't scan?": the secret for manual entry, once per enrollment and only while pending. */
  async revealSecret(factorId: string, ctx: MfaContext): Promise<string> {
    const profile = this.#profiles.requireProfile();
    const factor = await this.#requirePending(profile.id, factorId);
    const secret = await this.#vault.factorSecret(profile.id, factor.id);
    this.#audit.recordChange(mfaRow(profile, ctx, 'mfa_secret_revealed', factor.id, { factorId: factor.id, source: ctx.source }), () => {
      if (!this.#factors.markSecretShown(factor.id)) throw new AppError('ERR-MFA-SECRET-ALREADY-SHOWN');
    });
    return secret;
  }

  /** The first confirmed factor turns MFA on and returns the backup codes, shown this once. */
  async confirmEnrollment(factorId: string, code: string, ctx: MfaContext): Promise<{ factor: Factor; backupCodes: string[] | null }> {
    const profile = this.#profiles.requireProfile();
    const factor = await this.#requirePending(profile.id, factorId);
    // Started while MFA was off (during setup) and MFA is on now: nobody proved a code for it.
    // Resuming it with a code records one (issue 9, item 4).
    if (profile.mfaEnabled && factor.enrolledWith === 'setup') throw new AppError('ERR-MFA-REQUIRED');
    this.#methods.assertEnabled(factor.type);
    // A push not answered yet, or denied, counts no attempt (issue 12).
    const early = this.#methods.uncounted(factor, null);
    if (early === 'pending') throw new AppError('ERR-MFA-PUSH-PENDING');
    if (early === 'denied') throw new AppError('ERR-MFA-PUSH-DENIED');
    const slot = this.#guard.take(profile.id);
    const check = await this.#methods.confirm(factor, code.trim());
    const now = this.#clock.now();
    if (!check.ok) {
      const reason = check.reason === 'replayed' || check.reason === 'malformed' ? check.reason : 'invalid';
      this.#guard.recordFailure(slot, profile, ctx, { factorId: factor.id, purpose: 'enroll', reason });
      throw new AppError(check.reason === 'expired' ? 'ERR-MFA-EXPIRED' : 'ERR-MFA-INVALID');
    }

    const turnsMfaOn = !profile.mfaEnabled;
    const codes = turnsMfaOn ? this.#backup.generate() : null;
    const backupKey = codes ? await this.#vault.requireBackupKey(profile.id) : null;
    const recoveryUntil = factor.enrolledWith === 'recovery' ? now + this.#config.mfa.recoveryDelayHours * HOUR_MS : null;
    this.#group.flush();
    this.#audit.transact(() => {
      // An SMS code or a push answer is used up here, with the rows (issue 13); used first by
      // another call or process, it proves nothing.
      if (check.use && !check.use()) throw new AppError('ERR-MFA-INVALID');
      if (!this.#factors.activate(factor.id, new Date(now).toISOString(), check.step ?? -1, recoveryUntil ?? now)) throw new AppError('ERR-NOT-FOUND');
      this.#guard.clear(slot);
      this.#audit.append(
        mfaRow(profile, ctx, turnsMfaOn ? 'mfa_enabled' : 'mfa_factor_added', factor.id, {
          factorId: factor.id,
          label: factor.label,
          enrolledWith: factor.enrolledWith,
          recoveryUntil,
          source: ctx.source,
        }),
      );
      if (codes && backupKey) {
        this.#profiles.setMfaEnabled(profile.id, true);
        this.#backup.store(profile.id, backupKey, codes, now);
        this.#audit.append(mfaRow(profile, ctx, 'backup_codes_regenerated', profile.id, { count: codes.length, reason: 'mfa_enabled' }));
      }
    });
    this.#changed();
    return { factor: toFactor(this.#require(profile.id, factor.id), now), backupCodes: codes ? codes.map(formatBackupCode) : null };
  }

  rename(factorId: string, label: string, ctx: MfaContext): Factor {
    const profile = this.#profiles.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state === 'disabled') throw new AppError('ERR-NOT-FOUND');
    this.#audit.recordChange(mfaRow(profile, ctx, 'mfa_factor_renamed', factor.id, { factorId: factor.id, label }), () => {
      this.#factors.rename(factor.id, label);
    });
    this.#changed();
    return toFactor(this.#require(profile.id, factor.id), this.#clock.now());
  }

  /**
   * Takes a grant from a critical chain for disabling this very factor (issue 10); such a chain
   * draws only factors with full rights and admits a backup code only beside an authenticator's
   * step (issue 9, item 4). Disabling a recovery factor still in its delay is a recovery stopped
   * (`mfa_recovery_cancelled`). Refused with ERR-MFA-POLICY-UNSATISFIABLE when a policy could no
   * longer be met, except for stopping a recovery (the owner must always be able to) and for
   * turning MFA off. An admin can never turn MFA off, so an admin's last factor stays.
   * The grant is spent, then the factor is marked disabled, then its secret leaves the keychain.
   * In that order a kill (or a keychain that refuses the delete) between the two leaves a disabled
   * factor whose secret lingers, which verifies nothing and which the startup cleanup removes
   * (`reconcileSecrets`); the other order left an active factor without its secret (issue 13).
   */
  async disable(factorId: string, ctx: MfaContext): Promise<Factor> {
    const profile = this.#profiles.requireProfile();
    const { factor, last, stopsRecovery } = this.#disablePlan(profile, factorId);
    const purpose = MANAGE.disable(factor.id);
    this.#gate.precheck(purpose);
    this.#audit.transact(() => this.#gate.take(purpose));

    const row = mfaRow(profile, ctx, stopsRecovery ? 'mfa_recovery_cancelled' : 'mfa_disabled', factor.id, {
      factorId: factor.id,
      label: factor.label,
      mfaOff: last,
      source: ctx.source,
    });
    this.#audit.recordChange(row, () => {
      if (!this.#factors.disable(factor.id, new Date(this.#clock.now()).toISOString())) throw new AppError('ERR-NOT-FOUND');
      // A disabled SMS factor's last code, a disabled push factor's waiting push: gone with it.
      this.#methods.forget(factor);
      if (last) {
        this.#profiles.setMfaEnabled(profile.id, false);
        this.#backup.retireAll(profile.id);
      }
    });
    this.#vault.forgetFactor(factor.id);
    await this.#vault.discardFactorSecret(profile.id, factor.id);
    if (last) await this.#vault.deleteBackupKey(profile.id);
    this.#changed();
    return toFactor(this.#require(profile.id, factor.id), this.#clock.now());
  }

  /** The refusals of `disable` that need no grant, so a shell can hear them before its chain. */
  assertCanDisable(factorId: string): void {
    this.#disablePlan(this.#profiles.requireProfile(), factorId);
  }

  #disablePlan(profile: Profile, factorId: string): { factor: FactorRecord; last: boolean; stopsRecovery: boolean } {
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active') throw new AppError('ERR-NOT-FOUND');
    const others = this.#factors.active(profile.id).filter((f) => f.id !== factor.id);
    const last = others.length === 0;
    // Push factors alone would leave the lock screen no code to take (see startEnrollment).
    if (!last && others.every((f) => f.type === 'push')) throw new AppError('ERR-MFA-CODE-FACTOR-REQUIRED');
    if (last && MFA_MANDATORY_ROLES.includes(profile.role)) throw new AppError('ERR-MFA-ADMIN-REQUIRED');
    const stopsRecovery = inRecovery(factor, this.#clock.now());
    if (!stopsRecovery && !last) this.#policies.assertCanDisable(factor.id);
    return { factor, last, stopsRecovery };
  }

  /**
   * The startup cleanup (issue 13, item 2): what a kill between a keychain call and its commit
   * left half-made. A secret whose factor has no row (killed between storing it and recording
   * the enrollment) or a disabled row (killed before its delete) leaves the keychain, audited
   * (`mfa_secret_swept`). A pending factor whose secret is gone (killed between deleting it and
   * deleting the row) is dropped, audited as an expiry. An active factor whose secret is gone is
   * reported (`custodian doctor`) and refused with ERR-MFA-SECRET-MISSING when a step draws it.
   *
   * Another live process may be between the two halves of the same moves: an enrollment stores
   * its secret before its row, so a secret removed here is put back if its row turns up by the
   * time the delete is done; a row that seemed secretless is looked up once more before it goes.
   * A keychain out of reach throws (ERR-KEYCHAIN-UNAVAILABLE): nothing is changed on a guess.
   */
  async reconcileSecrets(): Promise<{ swept: number; dropped: number; missing: string[] }> {
    const entries = await this.#vault.factorEntries();
    if (!entries) return { swept: 0, dropped: 0, missing: [] };
    const rows = new Map(this.#factors.all().map((f) => [f.id, f]));
    const held = new Set<string>();
    let swept = 0;
    for (const { profileId, factorId, secret } of entries) {
      const row = rows.get(factorId);
      if (row && row.profileId === profileId && row.state !== 'disabled') {
        held.add(factorId);
        continue;
      }
      await this.#vault.deleteFactorSecret(profileId, factorId);
      const now = this.#factors.get(profileId, factorId);
      if (now && now.state !== 'disabled') {
        await this.#vault.storeFactorSecret(profileId, factorId, secret);
        held.add(factorId);
        continue;
      }
      this.#audit.record({ event: 'mfa_secret_swept', actor: 'system', subject: factorId, data: { factorId, record: now ? 'disabled' : 'none' } });
      swept += 1;
    }
    let dropped = 0;
    const missing: string[] = [];
    for (const factor of this.#factors.all()) {
      if (factor.state === 'disabled' || held.has(factor.id)) continue;
      if (await this.#vault.holdsFactorSecret(factor.profileId, factor.id)) continue;
      if (factor.state === 'active') {
        missing.push(factor.id);
        continue;
      }
      const gone = this.#audit.recordChange({ event: 'mfa_setup_expired', actor: 'system', subject: factor.id, data: { factorId: factor.id, cause: 'secret-missing' } }, () => {
        const deleted = this.#factors.deletePending(factor.id);
        if (deleted) this.#methods.forget(factor);
        return deleted;
      });
      if (gone) dropped += 1;
    }
    if (swept + dropped > 0) this.#changed();
    return { swept, dropped, missing };
  }

  /** Active factors whose secret the keychain no longer holds (`custodian doctor`). */
  async missingSecrets(): Promise<string[]> {
    const missing: string[] = [];
    for (const factor of this.#factors.all()) {
      if (factor.state === 'active' && !(await this.#vault.holdsFactorSecret(factor.profileId, factor.id))) missing.push(factor.id);
    }
    return missing;
  }

  /** Lapsed enrollments lose their secret, then their row. Returns how many were swept. */
  async expirePending(): Promise<number> {
    let swept = 0;
    for (const factor of this.#factors.expiredPending(this.#clock.now())) {
      try {
        await this.#expire(factor);
        swept += 1;
      } catch {
        // The keychain may be locked right now; the row stays, and the next sweep retries.
      }
    }
    if (swept > 0) this.#changed();
    return swept;
  }

  /**
   * Inside the enrollment's transaction: what gives the right to add a factor. Nothing while MFA
   * is off (setup); once it is on, a grant for `factors:enroll`. A chain where a backup code
   * stood in makes a recovery factor: otherwise one leaked backup code could mint a factor with
   * full rights.
   */
  #enrollmentRight(profile: Profile): EnrolledWith {
    if (!profile.mfaEnabled) return 'setup';
    return this.#gate.take(MANAGE.enroll).backupUsed ? 'recovery' : 'authenticator';
  }

  /** The enrollment as the shell gets it; the window gets it without `uri` (EnrollmentView). */
  async #enrollment(profile: Profile, factor: FactorRecord, secret: string, ctx: MfaContext): Promise<Enrollment> {
    const { uri, secretMasked } = this.#methods.provisioning(factor, secret, profile.principal);
    const qrDataUrl = uri === '' ? '' : await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 264 });
    // The confirm step's challenge: TOTP's sends nothing; SMS sends the first code now (issue 12),
    // so starting or resuming an SMS enrollment is a send, counted by its rate limit.
    // A push factor raises its first push now: the approver picks its number in the window.
    const challenge = await this.#methods.challenge(factor, enrollmentBinding(profile, ctx));
    const sent = challenge.kind === 'sent' ? { digits: challenge.digits, resendAfter: challenge.resendAfter } : undefined;
    const push = challenge.kind === 'push' ? { number: challenge.number, expiresAt: challenge.expiresAt } : undefined;
    return { factor: toFactor(factor, this.#clock.now()), uri, qrDataUrl, secretMasked, ...(sent ? { sent } : {}), ...(push ? { push } : {}) };
  }

  async #expire(factor: FactorRecord): Promise<void> {
    await this.#vault.deleteFactorSecret(factor.profileId, factor.id);
    // No row when another process swept it first (`false` skips the audit row).
    this.#audit.recordChange({ event: 'mfa_setup_expired', actor: 'system', subject: factor.id, data: { factorId: factor.id } }, () => {
      const deleted = this.#factors.deletePending(factor.id);
      if (deleted) this.#methods.forget(factor);
      return deleted;
    });
  }

  /** A lapsed enrollment is swept on the spot, so its secret is gone before the caller hears. */
  async #requirePending(profileId: string, factorId: string): Promise<FactorRecord> {
    const factor = this.#factors.get(profileId, factorId);
    // Confirming twice (a second window, a shell) is not a missing factor: say what it is.
    if (factor?.state === 'active') throw new AppError('ERR-MFA-FACTOR-ALREADY-ACTIVE');
    if (!factor || factor.state !== 'pending') throw new AppError('ERR-NOT-FOUND');
    if ((factor.pendingExpiresAt ?? 0) <= this.#clock.now()) {
      await this.#expire(factor).catch(() => undefined);
      this.#changed();
      throw new AppError('ERR-MFA-EXPIRED');
    }
    return factor;
  }

  #require(profileId: string, factorId: string): FactorRecord {
    const factor = this.#factors.get(profileId, factorId);
    if (!factor) throw new AppError('ERR-NOT-FOUND');
    return factor;
  }
}

/** What an enrollment's confirming challenge is for: no chain attempt, shown as confirming a new factor. */
function enrollmentBinding(profile: Profile, ctx: MfaContext): StepBinding {
  return { attemptId: null, purpose: MANAGE.enroll, sensitivity: null, source: ctx.source, startedBy: profile.principal };
}
