import type { SecretStore } from '../../platform/keychain/secret-store';

export interface AuditHead {
  id: number;
  hash: string;
}

const ACCOUNT = 'audit:head';

/**
 * The latest audit head, kept in the keychain (DESIGN.md "Audit"). A hash chain alone cannot show
 * that rows were cut off its end, or that someone with the file rewrote every row and recomputed
 * every hash; the anchor, out of the database's reach, can.
 *
 * Writes are coalesced: while one is in flight, only the newest head waits behind it, and a head
 * never moves backwards, even when another process anchored a later one in between.
 */
export class AuditAnchor {
  readonly #secrets: SecretStore;
  #inFlight: Promise<void> | undefined;
  #next: AuditHead | undefined;
  #lastError: unknown;

  constructor(secrets: SecretStore) {
    this.#secrets = secrets;
  }

  async read(): Promise<AuditHead | null> {
    const raw = await this.#secrets.get(ACCOUNT);
    if (raw === null) return null;
    const [id, hash] = raw.split(' ');
    const n = Number(id);
    return Number.isSafeInteger(n) && n > 0 && hash && /^[0-9a-f]{64}$/.test(hash) ? { id: n, hash } : null;
  }

  /** Moves the anchor forward to `head`; resolves once it is written (or has failed). */
  advance(head: AuditHead): Promise<void> {
    if (!this.#next || head.id > this.#next.id) this.#next = head;
    this.#inFlight ??= this.#drain().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Whether the most recent write failed: the log then grows past what the anchor vouches for. */
  get failing(): boolean {
    return this.#lastError !== undefined;
  }

  async #drain(): Promise<void> {
    while (this.#next) {
      const head = this.#next;
      this.#next = undefined;
      try {
        const current = await this.read();
        if (!current || current.id < head.id) await this.#secrets.set(ACCOUNT, `${head.id} ${head.hash}`);
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = error;
      }
    }
  }
}
