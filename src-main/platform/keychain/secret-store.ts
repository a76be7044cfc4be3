/**
 * The OS keychain behind a port (STYLE.md rule 6). Every method either does what it says or
 * rejects with ERR-KEYCHAIN-UNAVAILABLE: callers fail closed and never see the adapter's own
 * error text, which may name paths or D-Bus addresses.
 */
export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
  /**
   * Every entry of this service, for the startup cleanup of secrets whose record a kill left
   * half-made (issue 13, item 2). Optional: a store without it is not swept.
   */
  list?(): Promise<{ account: string; secret: string }[]>;
  /** Round-trips a throwaway entry: proves the keychain is reachable, unlocked and writable. */
  probe(): Promise<void>;
  /** Releases what the adapter holds open (a helper process); the composition root calls it last. */
  dispose?(): void;
}
