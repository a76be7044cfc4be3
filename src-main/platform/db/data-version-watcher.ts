import type { Database } from './database';

/**
 * DESIGN.md "Several processes, one database": `PRAGMA data_version` changes when another
 * connection commits to the file (never for this connection's own commits), so polling it on one
 * shared interval is how this process notices the CLI or `custodian serve` deciding a request.
 */
export class DataVersionWatcher {
  readonly #read;
  #last: number;

  constructor(db: Database) {
    this.#read = db.prepare('PRAGMA data_version').pluck();
    this.#last = this.#read.get() as number;
  }

  /** True when another connection committed since the last call. */
  changed(): boolean {
    const now = this.#read.get() as number;
    if (now === this.#last) return false;
    this.#last = now;
    return true;
  }
}
