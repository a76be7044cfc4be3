import { AppError } from '../../../src-shared/errors';
import type { SecretStore } from '../../platform/keychain/secret-store';
import type { Random } from '../../random';

export function secretAccount(profileId: string, factorId: string): string {
  return `${profileId}:${factorId}`;
}

/** A factor's account: `<profileId>:<factorId>`, ids as `randomId` makes them (never `backup-key`). */
const FACTOR_ACCOUNT = /^(p_[a-z2-7]{16}):(f_[a-z2-7]{16})$/;

export function backupKeyAccount(profileId: string): string {
  return `${profileId}:backup-key`;
}

/**
 * The MFA secrets: each factor's secret (keychain account `<profileId>:<factorId>`) and the
 * profile's backup-code key (`<profileId>:backup-key`). A copy stays in memory only while the app
 * is unlocked, so verifying does not cost a D-Bus round trip; `forget` drops every copy (on lock).
 */
export class SecretVault {
  readonly #secrets: SecretStore;
  readonly #random: Random;
  readonly #factorSecrets = new Map<string, string>();
  readonly #backupKeys = new Map<string, Buffer>();
  /**
   * Counts `forget` calls: a keychain read that began before the lock must not put its secret
   * back into memory after it, so what a read finds is kept only if no `forget` came meanwhile.
   */
  #generation = 0;

  constructor(secrets: SecretStore, random: Random) {
    this.#secrets = secrets;
    this.#random = random;
  }

  /** The factor's secret if it is in memory; no keychain call. */
  cached(factorId: string): string | undefined {
    return this.#factorSecrets.get(factorId);
  }

  async factorSecret(profileId: string, factorId: string): Promise<string> {
    const cached = this.#factorSecrets.get(factorId);
    if (cached) return cached;
    const generation = this.#generation;
    const secret = await this.#secrets.get(secretAccount(profileId, factorId));
    // A factor whose secret vanished from the keychain cannot be checked: fail closed, and say
    // which it is (the keychain answered; `custodian doctor` names the factor).
    if (!secret) throw new AppError('ERR-MFA-SECRET-MISSING');
    if (generation === this.#generation) this.#factorSecrets.set(factorId, secret);
    return secret;
  }

  /** Into the keychain only; `remember` once the factor is recorded. */
  async storeFactorSecret(profileId: string, factorId: string, secret: string): Promise<void> {
    await this.#secrets.set(secretAccount(profileId, factorId), secret);
  }

  remember(factorId: string, secret: string): void {
    this.#factorSecrets.set(factorId, secret);
  }

  /** Out of the keychain, then out of memory; throws (and keeps both) when the keychain refuses. */
  async deleteFactorSecret(profileId: string, factorId: string): Promise<void> {
    await this.#secrets.delete(secretAccount(profileId, factorId));
    this.#factorSecrets.delete(factorId);
  }

  /** Drops the memory copy only (a disabled factor verifies nothing from here on). */
  forgetFactor(factorId: string): void {
    this.#factorSecrets.delete(factorId);
  }

  /** Best effort: undoing a store whose record could not be written, or a disabled factor's leftover. */
  async discardFactorSecret(profileId: string, factorId: string): Promise<void> {
    await this.#secrets.delete(secretAccount(profileId, factorId)).catch(() => false);
  }

  /**
   * Every factor secret in the keychain (`<profileId>:f_...`), or null when the store cannot list
   * its entries. For the startup cleanup only: the values stay here, to put one back (see
   * FactorsService.reconcileSecrets).
   */
  async factorEntries(): Promise<{ profileId: string; factorId: string; secret: string }[] | null> {
    if (!this.#secrets.list) return null;
    const entries: { profileId: string; factorId: string; secret: string }[] = [];
    for (const { account, secret } of await this.#secrets.list()) {
      const match = FACTOR_ACCOUNT.exec(account);
      if (match?.[1] && match[2]) entries.push({ profileId: match[1], factorId: match[2], secret });
    }
    return entries;
  }

  /** Whether the keychain holds this factor's secret now (a fresh read, not the memory copy). */
  async holdsFactorSecret(profileId: string, factorId: string): Promise<boolean> {
    return (await this.#secrets.get(secretAccount(profileId, factorId))) !== null;
  }

  async requireBackupKey(profileId: string): Promise<Buffer> {
    const key = await this.backupKey(profileId, true);
    if (!key) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    return key;
  }

  async backupKey(profileId: string, create: boolean): Promise<Buffer | null> {
    const cached = this.#backupKeys.get(profileId);
    if (cached) return cached;
    const generation = this.#generation;
    const stored = await this.#secrets.get(backupKeyAccount(profileId));
    let key: Buffer | null = stored ? Buffer.from(stored, 'base64') : null;
    if (!key && create) {
      key = this.#random.bytes(32);
      await this.#secrets.set(backupKeyAccount(profileId), key.toString('base64'));
    }
    if (key && generation === this.#generation) this.#backupKeys.set(profileId, key);
    return key;
  }

  /** The codes are already gone from the database; a key left behind protects nothing. */
  async deleteBackupKey(profileId: string): Promise<void> {
    this.#backupKeys.delete(profileId);
    await this.#secrets.delete(backupKeyAccount(profileId)).catch(() => false);
  }

  /** Drops every secret held in memory (on lock). */
  forget(): void {
    this.#generation += 1;
    this.#factorSecrets.clear();
    this.#backupKeys.clear();
  }
}
