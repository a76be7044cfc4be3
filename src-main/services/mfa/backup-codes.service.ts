import type { BackupCodesStatus, Profile } from '../../../src-shared/domain/mfa';
import type { Clock } from '../../clock';
import type { BackupCodesRepository } from '../../platform/db/repositories/backup-codes.repository';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import type { AttemptGuard, Slot } from './attempt-guard.service';
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
import { DAY_MS, mfaRow, type MfaContext } from './mfa-context';
import type { SecretVault } from './secret-vault';

/**
 * The profile's backup codes (seed 003): ten at a time, stored only as HMACs under a key kept in
 * the keychain, each usable once, in place of a TOTP code where the caller allows it.
 */
export class BackupCodesService {
  readonly #backup: BackupCodesRepository;
  readonly #vault: SecretVault;
  readonly #guard: AttemptGuard;
  readonly #audit: AuditLog;
  readonly #group: GroupCommit;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(deps: {
    backupCodes: BackupCodesRepository;
    vault: SecretVault;
    guard: AttemptGuard;
    audit: AuditLog;
    groupCommit: GroupCommit;
    clock: Clock;
    random: Random;
  }) {
    this.#backup = deps.backupCodes;
    this.#vault = deps.vault;
    this.#guard = deps.guard;
    this.#audit = deps.audit;
    this.#group = deps.groupCommit;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  status(profile: Profile): BackupCodesStatus {
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

  /** A fresh set, to store with `store` and show once, formatted. */
  generate(): string[] {
    return generateBackupCodes(this.#random);
  }

  /** Inside a transaction: the new set replaces every code left. */
  store(profileId: string, key: Buffer, codes: string[], now: number): void {
    this.#backup.replaceAll(
      profileId,
      codes.map((code) => ({ mac: backupCodeMac(key, code), hint: backupCodeHint(code) })),
      new Date(now).toISOString(),
      now + BACKUP_CODE_TTL_DAYS * DAY_MS,
    );
  }

  /** Inside a transaction: MFA went off, so its codes go too. */
  retireAll(profileId: string): void {
    this.#backup.retireAll(profileId);
  }

  /**
   * Ten new codes, shown this once. `pay` runs inside the change's transaction: it takes the
   * step-up grant that allows it, so the grant is spent only if the codes are stored.
   */
  async regenerate(profile: Profile, ctx: MfaContext, pay: () => void): Promise<string[]> {
    const key = await this.#vault.requireBackupKey(profile.id);
    const codes = this.generate();
    const now = this.#clock.now();
    this.#audit.recordChange(mfaRow(profile, ctx, 'backup_codes_regenerated', profile.id, { count: codes.length, reason: 'requested', source: ctx.source }), () => {
      pay();
      this.store(profile.id, key, codes, now);
    });
    return codes.map(formatBackupCode);
  }

  /** Uses the typed backup code up, clearing the slot's count; false when it is none of them. */
  async use(profile: Profile, typed: string, slot: Slot, ctx: MfaContext, purpose: string): Promise<boolean> {
    const normalized = normalizeBackupCode(typed);
    if (!normalized || !profile.mfaEnabled) return false;
    const backupKey = await this.#vault.backupKey(profile.id, false);
    if (!backupKey) return false;
    const now = this.#clock.now();
    const usable = this.#backup.usable(profile.id, now);
    const index = findBackupCode(backupKey, normalized, usable.map((c) => c.mac));
    const match = usable[index];
    if (!match) return false;
    this.#group.flush();
    const row = mfaRow(profile, ctx, 'backup_code_used', profile.id, { remaining: usable.length - 1, purpose, source: ctx.source });
    return this.#audit.recordChange(row, () => {
      if (!this.#backup.use(match.id, new Date(now).toISOString())) return false;
      this.#guard.clear(slot);
      return true;
    });
  }
}
