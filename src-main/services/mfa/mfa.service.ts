import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import {
  MFA_MANDATORY_ROLES,
  type BackupCodesStatus,
  type Enrollment,
  type Factor,
  type Profile,
  type Role,
  type TotpAlgorithm,
} from '../../../src-shared/domain/mfa';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { Database } from '../../platform/db/database';
import { BackupCodesRepository } from '../../platform/db/repositories/backup-codes.repository';
import { FactorsRepository, inRecovery, toFactor, type EnrolledWith, type FactorRecord } from '../../platform/db/repositories/factors.repository';
import { MfaAttemptsRepository } from '../../platform/db/repositories/mfa-attempts.repository';
import { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import type { SecretStore } from '../../platform/keychain/secret-store';
import type { Notifier } from '../../platform/notifier';
import type { Language } from '../../../src-shared/i18n';
import { randomId } from '../../platform/random';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import { retryAfterSeconds, takeAttempt, type AttemptState } from './attempt-guard';
import {
  BACKUP_CODE_TTL_DAYS,
  BACKUP_CODES_LOW,
  backupCodeHint,
  backupCodeMac,
  findBackupCode,
  formatBackupCode,
  generateBackupCodes,
  normalizeBackupCode,
} from './backup-codes';
import { FactorNotices } from './factor-notices';
import { checkTotp, maskSecret, newTotpSecret, totpUri } from './totp';

/** Where an attempt comes from; recorded in the audit rows. */
export interface MfaContext {
  /** `desktop` (the window), `cli`, or an integration's name. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

export type Verified = { method: 'totp'; factorId: string } | { method: 'backup' };

export interface VerifyOptions {
  allowBackup: boolean;
  /**
   * Only a factor with full rights may pass (issue 9, item 4): a recovery factor still in its
   * delay is refused with ERR-MFA-RECOVERY-PENDING, before its code is used up, unless it is
   * `self` (a factor acting on itself).
   */
  fullRights?: { self?: string };
  /** Why the code was asked for; recorded in the audit row. */
  purpose: string;
}

/** How long a pending enrollment waits for its first code (DESIGN.md "Enrollment"). */
export const PENDING_ENROLLMENT_MS = 10 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface EnrollOptions {
  label: string;
  digits: 6 | 8;
  period: 30 | 60;
  algorithm: TotpAlgorithm;
}

export interface MfaServiceDeps {
  db: Database;
  audit: AuditLog;
  groupCommit: GroupCommit;
  secrets: SecretStore;
  clock: Clock;
  config: Config;
  /** Desktop notices of factor changes, made here or by another process; none in the CLI. */
  notifier?: Notifier | null;
  language?: () => Language;
}

/**
 * The approver's profile, TOTP factors and backup codes (issue #4; seeds 002 and 003).
 *
 * Secrets live in the keychain (account `<profileId>:<factorId>`); this service keeps a copy in
 * memory only while the app is unlocked, so verifying does not cost a D-Bus round trip, and
 * forgets it on lock. Every check first takes an attempt slot for the profile, whatever the
 * source (the window, the shell): one budget, so an attacker with both gets no more tries than
 * with one. Failures' audit rows are committed in groups; successes and every change of state
 * commit at once, with their audit rows.
 */
export class MfaService {
  readonly #audit: AuditLog;
  readonly #group: GroupCommit;
  readonly #secrets: SecretStore;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #profiles: ProfilesRepository;
  readonly #factors: FactorsRepository;
  readonly #backup: BackupCodesRepository;
  readonly #attempts: MfaAttemptsRepository;
  readonly #notices: FactorNotices;
  readonly #secretCache = new Map<string, string>();
  readonly #backupKeys = new Map<string, Buffer>();
  readonly #listeners = new Set<() => void>();
  /**
   * The profile and its active factors as last read. Every verification needs them and they
   * rarely change: this process drops the copy on each change it makes, and the composition
   * root's shared tick calls `externalChange` when another process (the CLI, `custodian serve`)
   * committed. Within that quarter second a stale copy can do no harm: a factor disabled
   * elsewhere fails `markUsed`, which also requires it to be active.
   */
  #snapshot: { profile: Profile | null; active: FactorRecord[] } | undefined;
  /** The profile, factors and backup-code state as last told to the listeners; see externalChange. */
  #fingerprint: string | undefined;

  constructor(deps: MfaServiceDeps) {
    this.#audit = deps.audit;
    this.#group = deps.groupCommit;
    this.#secrets = deps.secrets;
    this.#clock = deps.clock;
    this.#config = deps.config;
    this.#profiles = new ProfilesRepository(deps.db);
    this.#factors = new FactorsRepository(deps.db);
    this.#backup = new BackupCodesRepository(deps.db);
    this.#attempts = new MfaAttemptsRepository(deps.db);
    this.#notices = new FactorNotices({ db: deps.db, notifier: deps.notifier ?? null, language: deps.language ?? (() => 'en') });
  }

  // --- Profile ---

  profile(): Profile | null {
    return this.#current().profile;
  }

  requireProfile(): Profile {
    const profile = this.#current().profile;
    if (!profile) throw new AppError('ERR-PROFILE-REQUIRED');
    return profile;
  }

  initProfile(input: { displayName: string; principal: string; role: Role }, ctx: MfaContext): Profile {
    if (this.#profiles.current()) throw new AppError('ERR-PROFILE-EXISTS');
    const id = randomId('p');
    this.#audit.transact(() => {
      this.#profiles.insert({ id, ...input, createdAt: this.#iso() });
      this.#audit.append({
        event: 'profile_created',
        actor: input.principal,
        subject: id,
        ...this.#where(ctx),
        data: { role: input.role, source: ctx.source },
      });
    });
    this.#changed();
    return this.requireProfile();
  }

  /**
   * A role change is a privilege change: it takes a current code from an authenticator with full
   * rights, not a backup code and not a recovery factor still in its delay (issue 9, item 4).
   */
  async setRole(role: Role, code: string, ctx: MfaContext): Promise<Profile> {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-REQUIRED');
    await this.#stepUp(code, ctx, 'change-role');
    if (role !== profile.role) {
      this.#audit.transact(() => {
        this.#profiles.setRole(profile.id, role);
        this.#audit.append({
          event: 'profile_role_changed',
          actor: profile.principal,
          subject: profile.id,
          ...this.#where(ctx),
          data: { from: profile.role, to: role, source: ctx.source },
        });
      });
      this.#changed();
    }
    return this.requireProfile();
  }

  // --- Factors ---

  listFactors(): { factors: Factor[]; backupCodes: BackupCodesStatus } {
    const profile = this.#profiles.current();
    if (!profile) return { factors: [], backupCodes: { remaining: 0, total: 0, expiresAt: null, low: false } };
    const now = this.#clock.now();
    const factors = this.#factors
      .visible(profile.id)
      .filter((f) => f.state !== 'pending' || (f.pendingExpiresAt ?? 0) > now)
      .map((f) => toFactor(f, now));
    return { factors, backupCodes: this.#backupStatus(profile) };
  }

  /**
   * Starts adding a factor. Once MFA is on it takes a current code (issue 9, item 4): a code from
   * an active authenticator, or a backup code, which makes the new factor a recovery factor. The
   * first factor, during setup, needs none.
   */
  async startEnrollment(options: EnrollOptions, code: string | undefined, ctx: MfaContext): Promise<Enrollment> {
    const profile = this.requireProfile();
    this.#group.assertHealthy();
    const enrolledWith = await this.#enrollmentProof(profile, code, ctx, 'enroll');
    const id = randomId('f');
    const secret = newTotpSecret();
    const account = secretAccount(profile.id, id);
    // Keychain first: if it cannot hold the secret, nothing is recorded (fail closed).
    await this.#secrets.set(account, secret);
    const now = this.#clock.now();
    try {
      this.#audit.transact(() => {
        this.#factors.insertPending({
          id,
          profileId: profile.id,
          label: options.label,
          digits: options.digits,
          period: options.period,
          algorithm: options.algorithm,
          createdAt: new Date(now).toISOString(),
          pendingExpiresAt: now + PENDING_ENROLLMENT_MS,
          enrolledWith,
        });
        this.#audit.append({
          event: 'mfa_setup_initiated',
          actor: profile.principal,
          subject: id,
          ...this.#where(ctx),
          data: {
            factorId: id,
            label: options.label,
            digits: options.digits,
            period: options.period,
            algorithm: options.algorithm,
            enrolledWith,
            source: ctx.source,
          },
        });
      });
    } catch (error) {
      await this.#secrets.delete(account).catch(() => false);
      throw error;
    }
    this.#secretCache.set(id, secret);
    this.#changed();
    return this.#enrollment(profile, this.#requireFactor(profile.id, id), secret);
  }

  /**
   * "Resume" on a pending factor (issue 9, item 7): its QR code again, within its 10 minutes.
   * Showing the secret again is adding the factor again, so it takes the same code as starting
   * did, and the factor owes its rights to that code.
   */
  async resumeEnrollment(factorId: string, code: string | undefined, ctx: MfaContext): Promise<Enrollment> {
    const profile = this.requireProfile();
    this.#group.assertHealthy();
    const factor = await this.#requirePending(profile.id, factorId);
    const enrolledWith = profile.mfaEnabled ? await this.#enrollmentProof(profile, code, ctx, 'resume-enroll') : factor.enrolledWith;
    const secret = await this.#secret(profile.id, factor.id);
    this.#audit.transact(() => {
      if (enrolledWith !== factor.enrolledWith && !this.#factors.setEnrolledWith(factor.id, enrolledWith)) throw new AppError('ERR-NOT-FOUND');
      this.#audit.append({
        event: 'mfa_setup_resumed',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, label: factor.label, enrolledWith, source: ctx.source },
      });
    });
    this.#changed();
    return this.#enrollment(profile, this.#requireFactor(profile.id, factor.id), secret);
  }

  /**
   * "Remove" on a pending factor (issue 9, item 7): its secret leaves the keychain first, then
   * the row goes; if the keychain cannot delete it, nothing changes. Takes no code: a pending
   * factor can verify nothing, and removing it gives nobody anything.
   */
  async removePendingEnrollment(factorId: string, ctx: MfaContext): Promise<{ factorId: string }> {
    const profile = this.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'pending') throw new AppError('ERR-NOT-FOUND');
    await this.#secrets.delete(secretAccount(profile.id, factor.id));
    this.#secretCache.delete(factor.id);
    this.#audit.transact(() => {
      if (!this.#factors.deletePending(factor.id)) throw new AppError('ERR-NOT-FOUND');
      this.#audit.append({
        event: 'mfa_setup_removed',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, label: factor.label, source: ctx.source },
      });
    });
    this.#changed();
    return { factorId: factor.id };
  }

  /** "Can't scan?": the secret for manual entry, once per enrollment and only while pending. */
  async revealSecret(factorId: string, ctx: MfaContext): Promise<string> {
    const profile = this.requireProfile();
    const factor = await this.#requirePending(profile.id, factorId);
    const secret = await this.#secret(profile.id, factor.id);
    this.#audit.transact(() => {
      if (!this.#factors.markSecretShown(factor.id)) throw new AppError('ERR-MFA-SECRET-ALREADY-SHOWN');
      this.#audit.append({
        event: 'mfa_secret_revealed',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, source: ctx.source },
      });
    });
    return secret;
  }

  /** The first confirmed factor turns MFA on and returns the backup codes, shown this once. */
  async confirmEnrollment(factorId: string, code: string, ctx: MfaContext): Promise<{ factor: Factor; backupCodes: string[] | null }> {
    const profile = this.requireProfile();
    const factor = await this.#requirePending(profile.id, factorId);
    // Started while MFA was off (during setup) and MFA is on now: nobody proved a code for it.
    // Resuming it with a code records one (issue 9, item 4).
    if (profile.mfaEnabled && factor.enrolledWith === 'setup') throw new AppError('ERR-MFA-REQUIRED');
    const slot = this.#takeSlot(profile.id);
    const key = slot.key;
    const secret = await this.#secret(profile.id, factor.id);
    const now = this.#clock.now();
    const check = checkTotp({ secret, ...factor }, code.trim(), now, this.#config.mfa.windowSteps, -1);
    if (!check.ok) {
      this.#recordFailure(slot, profile, ctx, { factorId: factor.id, purpose: 'enroll', reason: check.reason });
      throw new AppError('ERR-MFA-INVALID');
    }

    const turnsMfaOn = !profile.mfaEnabled;
    const codes = turnsMfaOn ? generateBackupCodes() : null;
    const backupKey = codes ? await this.#requireBackupKey(profile.id) : null;
    const recoveryUntil = factor.enrolledWith === 'recovery' ? now + this.#config.mfa.recoveryDelayHours * HOUR_MS : null;
    this.#group.flush();
    this.#audit.transact(() => {
      if (!this.#factors.activate(factor.id, new Date(now).toISOString(), check.step, recoveryUntil ?? now)) throw new AppError('ERR-NOT-FOUND');
      this.#clearAttempts(key);
      this.#audit.append({
        event: turnsMfaOn ? 'mfa_enabled' : 'mfa_factor_added',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, label: factor.label, enrolledWith: factor.enrolledWith, recoveryUntil, source: ctx.source },
      });
      if (codes && backupKey) {
        this.#profiles.setMfaEnabled(profile.id, true);
        this.#storeBackupCodes(profile.id, backupKey, codes, now);
        this.#audit.append({
          event: 'backup_codes_regenerated',
          actor: profile.principal,
          subject: profile.id,
          ...this.#where(ctx),
          data: { count: codes.length, reason: 'mfa_enabled' },
        });
      }
    });
    this.#changed();
    return { factor: toFactor(this.#requireFactor(profile.id, factor.id), now), backupCodes: codes ? codes.map(formatBackupCode) : null };
  }

  renameFactor(factorId: string, label: string, ctx: MfaContext): Factor {
    const profile = this.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state === 'disabled') throw new AppError('ERR-NOT-FOUND');
    this.#audit.transact(() => {
      this.#factors.rename(factor.id, label);
      this.#audit.append({
        event: 'mfa_factor_renamed',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, label },
      });
    });
    this.#changed();
    return toFactor(this.#requireFactor(profile.id, factor.id), this.#clock.now());
  }

  /**
   * Takes a current code from an authenticator with full rights (issue 9, item 4): not a backup
   * code, and not a recovery factor still in its delay, except on itself. A recovery factor
   * disabled that way by one of the owner's other factors is a recovery stopped
   * (`mfa_recovery_cancelled`). An admin can never turn MFA off, so an admin's last factor stays.
   * The secret leaves the keychain before the factor is marked disabled: if the keychain cannot
   * delete it, nothing changes.
   */
  async disableFactor(factorId: string, code: string, ctx: MfaContext): Promise<Factor> {
    const profile = this.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active') throw new AppError('ERR-NOT-FOUND');
    const last = this.#factors.active(profile.id).length === 1;
    if (last && MFA_MANDATORY_ROLES.includes(profile.role)) throw new AppError('ERR-MFA-ADMIN-REQUIRED');
    const by = await this.#stepUp(code, ctx, 'disable-factor', factor.id);
    const stopsRecovery = by !== factor.id && inRecovery(factor, this.#clock.now());

    await this.#secrets.delete(secretAccount(profile.id, factor.id));
    this.#secretCache.delete(factor.id);
    this.#audit.transact(() => {
      if (!this.#factors.disable(factor.id, this.#iso())) throw new AppError('ERR-NOT-FOUND');
      if (last) {
        this.#profiles.setMfaEnabled(profile.id, false);
        this.#backup.retireAll(profile.id);
      }
      this.#audit.append({
        event: stopsRecovery ? 'mfa_recovery_cancelled' : 'mfa_disabled',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, label: factor.label, byFactorId: by, mfaOff: last, source: ctx.source },
      });
    });
    if (last) {
      this.#backupKeys.delete(profile.id);
      // The codes are already gone from the database; a key left behind protects nothing.
      await this.#secrets.delete(backupKeyAccount(profile.id)).catch(() => false);
    }
    this.#changed();
    return toFactor(this.#requireFactor(profile.id, factor.id), this.#clock.now());
  }

  /**
   * Takes an authenticator code with full rights, not a backup code (one leaked code must not
   * mint ten more) and not a recovery factor's still in its delay.
   */
  async regenerateBackupCodes(code: string, ctx: MfaContext): Promise<{ codes: string[]; status: BackupCodesStatus }> {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-NOT-ENABLED');
    await this.#stepUp(code, ctx, 'regenerate-backup-codes');
    const key = await this.#requireBackupKey(profile.id);
    const codes = generateBackupCodes();
    const now = this.#clock.now();
    this.#audit.transact(() => {
      this.#storeBackupCodes(profile.id, key, codes, now);
      this.#audit.append({
        event: 'backup_codes_regenerated',
        actor: profile.principal,
        subject: profile.id,
        ...this.#where(ctx),
        data: { count: codes.length, reason: 'requested', source: ctx.source },
      });
    });
    this.#changed();
    return { codes: codes.map(formatBackupCode), status: this.#backupStatus(this.requireProfile()) };
  }

  // --- Verification ---

  /**
   * Verifies a code: a TOTP code from an active factor, or (where allowed) a backup code. Refused
   * while the profile is rate-limited. The attempt slot is taken before the first await (the
   * keychain), so concurrent calls cannot all pass the block check before any of them has
   * failed; a failure is audited, a success clears the count, moves the factor's replay floor
   * forward or uses the backup code up.
   */
  async verify(code: string, ctx: MfaContext, options: VerifyOptions): Promise<Verified> {
    this.#group.assertHealthy();
    const profile = this.requireProfile();
    const candidates = this.#current().active;
    if (candidates.length === 0 && !options.allowBackup) throw new AppError('ERR-MFA-NOT-ENABLED');
    const slot = this.#takeSlot(profile.id);
    const key = slot.key;

    const typed = code.trim();
    let reason: 'malformed' | 'invalid' | 'replayed' = 'malformed';
    for (const candidate of candidates) {
      let factor: FactorRecord | undefined = candidate;
      let secret = this.#secretCache.get(candidate.id);
      if (secret === undefined) {
        secret = await this.#secret(profile.id, candidate.id);
        // Read again after waiting on the keychain: another call may have used a code meanwhile.
        factor = this.#factors.get(profile.id, candidate.id);
        if (!factor || factor.state !== 'active') continue;
      }
      const now = this.#clock.now();
      const check = checkTotp({ secret, ...factor }, typed, now, this.#config.mfa.windowSteps, factor.lastUsedStep);
      if (check.ok) {
        if (options.fullRights && factor.id !== options.fullRights.self && inRecovery(factor, now)) {
          this.#refuseRecovery(profile, factor, ctx, options.purpose);
        }
        this.#group.flush();
        this.#snapshot = undefined;
        const accepted = this.#audit.transact(() => {
          // The floor only moves forward; if another process used this step first, it is a replay.
          if (!this.#factors.markUsed(factor.id, check.step, new Date(now).toISOString())) return false;
          this.#clearAttempts(key);
          this.#audit.append({
            event: 'mfa_challenge_succeeded',
            actor: profile.principal,
            subject: factor.id,
            ...this.#where(ctx),
            data: { factorId: factor.id, method: 'totp', purpose: options.purpose, source: ctx.source },
          });
          return true;
        });
        if (accepted) return { method: 'totp', factorId: factor.id };
        reason = 'replayed';
        break;
      }
      if (check.reason === 'replayed' || (check.reason === 'invalid' && reason === 'malformed')) reason = check.reason;
    }

    if (options.allowBackup && reason !== 'replayed') {
      const used = await this.#useBackupCode(profile, typed, key, ctx, options.purpose);
      if (used) return { method: 'backup' };
    }
    this.#recordFailure(slot, profile, ctx, { factorId: null, purpose: options.purpose, reason });
    throw new AppError(reason === 'replayed' ? 'ERR-MFA-REPLAYED' : 'ERR-MFA-INVALID');
  }

  /** Lapsed enrollments lose their secret, then their row. Returns how many were swept. */
  async expirePendingEnrollments(): Promise<number> {
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
   * Another process committed: read the profile and factors afresh, and tell the listeners (the
   * Factors screen) when what they show changed, e.g. after `custodian factors enroll` in a shell
   * (issue 9). Most commits by other processes are requests arriving, so the listeners hear only
   * about those that touched the profile, the factors or the backup codes.
   */
  externalChange(): void {
    this.#snapshot = undefined;
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
    this.#secretCache.clear();
    this.#backupKeys.clear();
  }

  /** Commits the failed attempts still queued (on shutdown). */
  flush(): void {
    this.#group.flush();
  }

  onChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // --- Internals ---

  /**
   * A current code from an authenticator with full rights, for changing MFA itself (issue 9,
   * item 4). A backup code is refused (it counts as a wrong code). A recovery factor still in its
   * delay is refused with ERR-MFA-RECOVERY-PENDING, audited, unless it acts on itself (`self`).
   * Returns the factor whose code it was.
   */
  async #stepUp(code: string, ctx: MfaContext, purpose: string, self?: string): Promise<string> {
    const verified = await this.verify(code, ctx, { allowBackup: false, purpose, fullRights: self === undefined ? {} : { self } });
    if (verified.method !== 'totp') throw new AppError('ERR-MFA-INVALID');
    return verified.factorId;
  }

  /**
   * A recovery factor's right code, where full rights are needed: refused and audited. The code
   * is not used up and its attempt slot stays taken, so a refusal is no cheaper than a failure.
   */
  #refuseRecovery(profile: Profile, factor: FactorRecord, ctx: MfaContext, purpose: string): never {
    const until = factor.recoveryUntil ?? this.#clock.now();
    this.#group.flush();
    this.#audit.record({
      event: 'mfa_recovery_refused',
      actor: profile.principal,
      subject: factor.id,
      ...this.#where(ctx),
      data: { factorId: factor.id, label: factor.label, purpose, until: new Date(until).toISOString(), source: ctx.source },
    });
    throw new AppError('ERR-MFA-RECOVERY-PENDING', { until });
  }

  /**
   * What gives the right to add a factor: nothing while MFA is off (the first factor, during
   * setup); once it is on, a current code. A backup code, or a code from a factor still in its
   * own recovery delay, makes a recovery factor: otherwise a leaked backup code could mint a
   * factor with full rights, by way of a first recovery factor.
   */
  async #enrollmentProof(profile: Profile, code: string | undefined, ctx: MfaContext, purpose: string): Promise<EnrolledWith> {
    if (!profile.mfaEnabled) return 'setup';
    if (code === undefined || code.trim() === '') throw new AppError('ERR-MFA-REQUIRED');
    const verified = await this.verify(code, ctx, { allowBackup: true, purpose });
    if (verified.method === 'backup') return 'recovery';
    const factor = this.#factors.get(profile.id, verified.factorId);
    return factor && inRecovery(factor, this.#clock.now()) ? 'recovery' : 'authenticator';
  }

  /** The enrollment as the shell gets it; the window gets it without `uri` (EnrollmentView). */
  async #enrollment(profile: Profile, factor: FactorRecord, secret: string): Promise<Enrollment> {
    const uri = totpUri({ secret, digits: factor.digits, period: factor.period, algorithm: factor.algorithm }, profile.principal, factor.label);
    const qrDataUrl = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 264 });
    return { factor: toFactor(factor, this.#clock.now()), uri, qrDataUrl, secretMasked: maskSecret(secret) };
  }

  async #useBackupCode(profile: Profile, typed: string, key: string, ctx: MfaContext, purpose: string): Promise<boolean> {
    const normalized = normalizeBackupCode(typed);
    if (!normalized || !profile.mfaEnabled) return false;
    const backupKey = await this.#backupKey(profile.id, false);
    if (!backupKey) return false;
    const now = this.#clock.now();
    const usable = this.#backup.usable(profile.id, now);
    const index = findBackupCode(backupKey, normalized, usable.map((c) => c.mac));
    const match = usable[index];
    if (!match) return false;
    this.#group.flush();
    const used = this.#audit.transact(() => {
      if (!this.#backup.use(match.id, new Date(now).toISOString())) return false;
      this.#clearAttempts(key);
      this.#audit.append({
        event: 'backup_code_used',
        actor: profile.principal,
        subject: profile.id,
        ...this.#where(ctx),
        data: { remaining: usable.length - 1, purpose, source: ctx.source },
      });
      return true;
    });
    if (used) this.#changed();
    return used;
  }

  /**
   * Takes one attempt slot for the profile, or refuses with ERR-MFA-RATE-LIMITED. Synchronous and
   * atomic across processes (an IMMEDIATE transaction), so it runs before any await of the check.
   * A refusal writes nothing: a flood of refused attempts costs no disk.
   */
  #takeSlot(profileId: string): { key: string; at: number; state: AttemptState; blockedNow: boolean } {
    const key = attemptKey(profileId);
    const now = this.#clock.now();
    const policy = { maxAttempts: this.#config.mfa.rateLimit.maxAttempts, windowMs: this.#config.mfa.rateLimit.windowSeconds * 1000 };
    const slot = this.#attempts.take(key, (previous) => takeAttempt(previous, now, policy));
    if (!slot.ok) throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds: slot.retryAfterSeconds });
    return { key, at: now, state: slot.state, blockedNow: slot.blockedNow };
  }

  /** The slot's attempt failed: its count is already stored; the audit rows follow in a group. */
  #recordFailure(
    slot: { at: number; state: AttemptState; blockedNow: boolean },
    profile: Profile,
    ctx: MfaContext,
    what: { factorId: string | null; purpose: string; reason: 'malformed' | 'invalid' | 'replayed' },
  ): void {
    const { state, blockedNow } = slot;
    const where = this.#where(ctx);
    const ts = slot.at;
    this.#group.enqueue(() => {
      this.#audit.append({
        event: 'mfa_challenge_failed',
        actor: profile.principal,
        subject: what.factorId ?? profile.id,
        ...where,
        data: { factorId: what.factorId, purpose: what.purpose, reason: what.reason, source: ctx.source, failures: state.failures },
      });
      if (blockedNow) {
        this.#audit.append({
          event: 'mfa_rate_limited',
          actor: profile.principal,
          subject: profile.id,
          ...where,
          data: { retryAfterSeconds: retryAfterSeconds(state, ts), lockouts: state.lockouts, source: ctx.source },
        });
      }
    });
  }

  /** Inside a transaction: a success wipes the count, releasing the slots taken. */
  #clearAttempts(key: string): void {
    this.#attempts.clear(key);
  }

  #storeBackupCodes(profileId: string, key: Buffer, codes: string[], now: number): void {
    this.#backup.replaceAll(
      profileId,
      codes.map((code) => ({ mac: backupCodeMac(key, code), hint: backupCodeHint(code) })),
      new Date(now).toISOString(),
      now + BACKUP_CODE_TTL_DAYS * DAY_MS,
    );
  }

  #backupStatus(profile: Profile): BackupCodesStatus {
    if (!profile.mfaEnabled) return { remaining: 0, total: 0, expiresAt: null, low: false };
    const usable = this.#backup.usable(profile.id, this.#clock.now());
    const expiresAt = usable.length > 0 ? Math.max(...usable.map((c) => c.expiresAt)) : null;
    return {
      remaining: usable.length,
      total: 10,
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      low: usable.length <= BACKUP_CODES_LOW,
    };
  }

  async #expire(factor: FactorRecord): Promise<void> {
    await this.#secrets.delete(secretAccount(factor.profileId, factor.id));
    this.#secretCache.delete(factor.id);
    this.#audit.transact(() => {
      if (!this.#factors.deletePending(factor.id)) return;
      this.#audit.append({ event: 'mfa_setup_expired', actor: 'system', subject: factor.id, data: { factorId: factor.id } });
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

  #requireFactor(profileId: string, factorId: string): FactorRecord {
    const factor = this.#factors.get(profileId, factorId);
    if (!factor) throw new AppError('ERR-NOT-FOUND');
    return factor;
  }

  async #secret(profileId: string, factorId: string): Promise<string> {
    const cached = this.#secretCache.get(factorId);
    if (cached) return cached;
    const secret = await this.#secrets.get(secretAccount(profileId, factorId));
    // A factor whose secret vanished from the keychain cannot be checked: fail closed.
    if (!secret) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    this.#secretCache.set(factorId, secret);
    return secret;
  }

  async #requireBackupKey(profileId: string): Promise<Buffer> {
    const key = await this.#backupKey(profileId, true);
    if (!key) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    return key;
  }

  async #backupKey(profileId: string, create: boolean): Promise<Buffer | null> {
    const cached = this.#backupKeys.get(profileId);
    if (cached) return cached;
    const stored = await this.#secrets.get(backupKeyAccount(profileId));
    let key = stored ? Buffer.from(stored, 'base64') : null;
    if (!key && create) {
      key = randomBytes(32);
      await this.#secrets.set(backupKeyAccount(profileId), key.toString('base64'));
    }
    if (key) this.#backupKeys.set(profileId, key);
    return key;
  }

  #where(ctx: MfaContext): { sourceIp: string | null; userAgent: string | null } {
    return { sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null };
  }

  #iso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  #current(): { profile: Profile | null; active: FactorRecord[] } {
    if (!this.#snapshot) {
      const profile = this.#profiles.current();
      this.#snapshot = { profile, active: profile ? this.#factors.active(profile.id) : [] };
    }
    return this.#snapshot;
  }

  #changed(): void {
    this.#snapshot = undefined;
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
    return JSON.stringify([this.#profiles.current(), this.listFactors()]);
  }
}

export function secretAccount(profileId: string, factorId: string): string {
  return `${profileId}:${factorId}`;
}

function backupKeyAccount(profileId: string): string {
  return `${profileId}:backup-key`;
}

/**
 * One attempt budget per profile, shared by every source (issue 9, item 3): with one per source,
 * an attacker who could type in the window and in a shell got the sum of both.
 */
function attemptKey(profileId: string): string {
  return profileId;
}
