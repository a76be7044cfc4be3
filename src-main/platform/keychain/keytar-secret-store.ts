import { AppError } from '../../../src-shared/errors';
import type { SecretStore } from './secret-store';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export interface KeytarSecretStoreOptions {
  service: string;
  /** A locked keyring can wait forever on an unlock prompt; past this we call it unavailable. */
  timeoutMs: number;
  /** For tests: a keytar-shaped module. Defaults to @github/keytar, loaded on first use. */
  keytar?: Keytar;
}

/**
 * SecretStore on @github/keytar (GitHub's maintained fork of keytar: libsecret on Linux, Keychain
 * on macOS, Credential Vault on Windows). Any rejection or timeout means the keychain is
 * unavailable, and that is the only thing the caller learns.
 */
export class KeytarSecretStore implements SecretStore {
  readonly #service: string;
  readonly #timeoutMs: number;
  #keytar: Keytar | undefined;

  constructor(options: KeytarSecretStoreOptions) {
    this.#service = options.service;
    this.#timeoutMs = options.timeoutMs;
    this.#keytar = options.keytar;
  }

  get(account: string): Promise<string | null> {
    return this.#call((k) => k.getPassword(this.#service, account));
  }

  set(account: string, secret: string): Promise<void> {
    return this.#call((k) => k.setPassword(this.#service, account, secret));
  }

  delete(account: string): Promise<boolean> {
    return this.#call((k) => k.deletePassword(this.#service, account));
  }

  async probe(): Promise<void> {
    const account = `probe:${process.pid}:${Date.now()}`;
    const value = 'custodian-probe';
    await this.set(account, value);
    const read = await this.get(account);
    await this.delete(account);
    if (read !== value) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
  }

  async #call<T>(op: (keytar: Keytar) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const keytar = await this.#load();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), this.#timeoutMs);
        timer.unref();
      });
      return await Promise.race([op(keytar), timeout]);
    } catch {
      throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async #load(): Promise<Keytar> {
    // Loaded lazily so a machine without libsecret can still run `custodian doctor` and be told
    // why, rather than crash at import time.
    if (!this.#keytar) {
      const mod = (await import('@github/keytar')) as Keytar & { default?: Keytar };
      this.#keytar = mod.default ?? mod;
    }
    return this.#keytar;
  }
}
