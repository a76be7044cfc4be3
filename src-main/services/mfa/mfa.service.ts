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
import { FactorsRepository, toFactor, type FactorRecord } from '../../platform/db/repositories/factors.repository';
import { MfaAttemptsRepository } from '../../platform/db/repositories/mfa-attempts.repository';
import { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import type { SecretStore } from '../../platform/keychain/secret-store';
import { randomId } from '../../platform/random';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import { afterFailure, retryAfterSeconds, type AttemptState } from './attempt-guard';
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
import { checkTotp, maskSecret, newTotpSecret, totpUri } from './totp';

/** Where an attempt comes from: the rate limit counts per profile and source. */
export interface MfaContext {
  /** `desktop` (the window), `cli`, or an integration's name. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

export type Verified = { method: 'totp'; factorId: string } | { method: 'backup' };

export interface VerifyOptions {
  /** Only this factor's codes count (disabling a factor); otherwise any active factor. */
  factorId?: string;
  allowBackup: boolean;
  /** Why the code was asked for; recorded in the audit row. */
  purpose: string;
}

/** How long a pending enrollment waits for its first code (DESIGN.md "Enrollment"). */
export const PENDING_ENROLLMENT_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface MfaServiceDeps {
  db: Database;
  audit: AuditLog;
  groupCommit: GroupCommit;
  secrets: SecretStore;
  clock: Clock;
  config: Config;
}

/**
 * The approver's profile, TOTP factors and backup codes (issue #4; seeds 002 and 003).
 *
 * Secrets live in the keychain (account `<profileId>:<factorId>`); this service keeps a copy in
 * memory only while the app is unlocked, so verifying does not cost a D-Bus round trip, and
 * forgets it on lock. Failed attempts are counted per profile and source and committed in groups;
 * successes and every change of state commit at once, with their audit rows.
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
  /** Attempt states not yet committed by the group commit; they win over the database's. */
  readonly #unsaved = new Map<string, AttemptState>();
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

  /** A role change is a privilege change: it takes a valid code. */
  async setRole(role: Role, code: string, ctx: MfaContext): Promise<Profile> {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-REQUIRED');
    await this.verify(code, ctx, { allowBackup: true, purpose: 'change-role' });
    if (role !== profile.role) {
      this.#audit.transact(() => {
        this.#profiles.setRole(profile.id, role);
        this.#audit.append({
          event: 'profile_role_changed',
          actor: profile.principal,
          subject: profile.id,
          ...this.#where(ctx),
          data: { from: profile.role, to: role },
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
      .map(toFactor);
    return { factors, backupCodes: this.#backupStatus(profile) };
  }

  async startEnrollment(
    options: { label: string; digits: 6 | 8; period: 30 | 60; algorithm: TotpAlgorithm },
    ctx: MfaContext,
  ): Promise<Enrollment> {
    const profile = this.requireProfile();
    this.#group.assertHealthy();
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
        });
        this.#audit.append({
          event: 'mfa_setup_initiated',
          actor: profile.principal,
          subject: id,
          ...this.#where(ctx),
          data: { factorId: id, digits: options.digits, period: options.period, algorithm: options.algorithm, source: ctx.source },
        });
      });
    } catch (error) {
      await this.#secrets.delete(account).catch(() => false);
      throw error;
    }
    this.#secretCache.set(id, secret);
    const uri = totpUri({ secret, ...options }, profile.principal);
    const qrDataUrl = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 264 });
    this.#changed();
    return { factor: toFactor(this.#requireFactor(profile.id, id)), uri, qrDataUrl, secretMasked: maskSecret(secret) };
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
    const key = attemptKey(profile.id, ctx.source);
    const now = this.#clock.now();
    this.#assertNotBlocked(key, now);
    const secret = await this.#secret(profile.id, factor.id);
    const check = checkTotp({ secret, ...factor }, code.trim(), now, this.#config.mfa.windowSteps, -1);
    if (!check.ok) {
      this.#recordFailure(key, profile, ctx, { factorId: factor.id, purpose: 'enroll', reason: check.reason });
      throw new AppError('ERR-MFA-INVALID');
    }

    const turnsMfaOn = !profile.mfaEnabled;
    const codes = turnsMfaOn ? generateBackupCodes() : null;
    const backupKey = codes ? await this.#requireBackupKey(profile.id) : null;
    this.#group.flush();
    this.#audit.transact(() => {
      if (!this.#factors.activate(factor.id, new Date(now).toISOString(), check.step)) throw new AppError('ERR-NOT-FOUND');
      this.#clearAttempts(key);
      this.#audit.append({
        event: turnsMfaOn ? 'mfa_enabled' : 'mfa_factor_added',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, source: ctx.source },
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
    return { factor: toFactor(this.#requireFactor(profile.id, factor.id)), backupCodes: codes ? codes.map(formatBackupCode) : null };
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
        data: { factorId: factor.id },
      });
    });
    this.#changed();
    return toFactor(this.#requireFactor(profile.id, factor.id));
  }

  /**
   * Takes a code from that factor or a backup code. An admin can never turn MFA off, so an
   * admin's last factor stays. The secret leaves the keychain before the factor is marked
   * disabled: if the keychain cannot delete it, nothing changes.
   */
  async disableFactor(factorId: string, code: string, ctx: MfaContext): Promise<Factor> {
    const profile = this.requireProfile();
    const factor = this.#factors.get(profile.id, factorId);
    if (!factor || factor.state !== 'active') throw new AppError('ERR-NOT-FOUND');
    const last = this.#factors.active(profile.id).length === 1;
    if (last && MFA_MANDATORY_ROLES.includes(profile.role)) throw new AppError('ERR-MFA-ADMIN-REQUIRED');
    await this.verify(code, ctx, { factorId: factor.id, allowBackup: true, purpose: 'disable-factor' });

    await this.#secrets.delete(secretAccount(profile.id, factor.id));
    this.#secretCache.delete(factor.id);
    this.#audit.transact(() => {
      this.#factors.disable(factor.id, this.#iso());
      if (last) {
        this.#profiles.setMfaEnabled(profile.id, false);
        this.#backup.retireAll(profile.id);
      }
      this.#audit.append({
        event: 'mfa_disabled',
        actor: profile.principal,
        subject: factor.id,
        ...this.#where(ctx),
        data: { factorId: factor.id, mfaOff: last, source: ctx.source },
      });
    });
    if (last) {
      this.#backupKeys.delete(profile.id);
      // The codes are already gone from the database; a key left behind protects nothing.
      await this.#secrets.delete(backupKeyAccount(profile.id)).catch(() => false);
    }
    this.#changed();
    return toFactor(this.#requireFactor(profile.id, factor.id));
  }

  /** Takes an authenticator code, not a backup code: one leaked code must not mint ten more. */
  async regenerateBackupCodes(code: string, ctx: MfaContext): Promise<{ codes: string[]; status: BackupCodesStatus }> {
    const profile = this.requireProfile();
    if (!profile.mfaEnabled) throw new AppError('ERR-MFA-NOT-ENABLED');
    await this.verify(code, ctx, { allowBackup: false, purpose: 'regenerate-backup-codes' });
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
        data: { count: codes.length, reason: 'requested' },
      });
    });
    this.#changed();
    return { codes: codes.map(formatBackupCode), status: this.#backupStatus(this.requireProfile()) };
  }

  // --- Verification ---

  /**
   * Verifies a code: a TOTP code from an active factor, or (where allowed) a backup code. Refused
   * while the profile and source are rate-limited; a failure counts towards the limit and is
   * audited; a success moves the factor's replay floor forward, or uses the backup code up.
   */
  async verify(code: string, ctx: MfaContext, options: VerifyOptions): Promise<Verified> {
    this.#group.assertHealthy();
    const profile = this.requireProfile();
    const key = attemptKey(profile.id, ctx.source);
    this.#assertNotBlocked(key, this.#clock.now());
    const candidates = this.#current().active.filter((f) => options.factorId === undefined || f.id === options.factorId);
    if (candidates.length === 0 && !options.allowBackup) throw new AppError('ERR-MFA-NOT-ENABLED');

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
    this.#recordFailure(key, profile, ctx, { factorId: options.factorId ?? null, purpose: options.purpose, reason });
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
    const seen = this.#fingerprint;
    this.#fingerprint = this.#readFingerprint();
    // Unknown before (nothing read yet): say so once rather than risk a stale screen.
    if (seen !== this.#fingerprint) this.#notify();
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

  #recordFailure(
    key: string,
    profile: Profile,
    ctx: MfaContext,
    what: { factorId: string | null; purpose: string; reason: 'malformed' | 'invalid' | 'replayed' },
  ): void {
    const now = this.#clock.now();
    const policy = { maxAttempts: this.#config.mfa.rateLimit.maxAttempts, windowMs: this.#config.mfa.rateLimit.windowSeconds * 1000 };
    const { state, blockedNow } = afterFailure(this.#attemptState(key), now, policy);
    this.#unsaved.set(key, state);
    const where = this.#where(ctx);
    const ts = now;
    this.#group.enqueue(() => {
      this.#attempts.put(key, state);
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
      if (this.#unsaved.get(key) === state) this.#unsaved.delete(key);
    });
  }

  #attemptState(key: string): AttemptState | undefined {
    return this.#unsaved.get(key) ?? this.#attempts.get(key);
  }

  #assertNotBlocked(key: string, now: number): void {
    const wait = retryAfterSeconds(this.#attemptState(key), now);
    if (wait > 0) throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds: wait });
  }

  /** Inside a transaction: a success wipes the count. */
  #clearAttempts(key: string): void {
    this.#unsaved.delete(key);
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
      this.#fingerprint = this.#readFingerprint();
    } catch {
      // Unknown: the next external change will tell the listeners once more, which is harmless.
      this.#fingerprint = undefined;
    }
    this.#notify();
  }

  #notify(): void {
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

function attemptKey(profileId: string, source: string): string {
  return `${profileId}|${source}`;
}
