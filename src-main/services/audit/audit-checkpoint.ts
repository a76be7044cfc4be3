import type { Database } from '../../platform/db/database';
import { databaseId } from '../../platform/db/database';
import type { SecretStore } from '../../platform/keychain/secret-store';
import { formatAnchor, parseAnchor, type AnchorReading, type AuditHead } from './audit-anchor';

/** The checkpoint's account, beside the anchor's and named after the same database id. */
export function checkpointAccount(id: string): string {
  return `audit:checkpoint:${id}`;
}

/**
 * The last row a verification vouched for (issue 13, item 8): `audit verify --incremental` walks
 * only the rows after it. It lives in the keychain beside the anchor, for the anchor's reason:
 * whoever can write the database file cannot move it, so a checkpoint pushed forward past edited
 * rows, or pointed at a rewritten row, cannot come from the database side. The incremental walk
 * still checks it against the log (the row must be there with that hash) and refuses it if not.
 *
 * Only a verification that passed whole (chain and anchor) writes it, and only a checkpoint that
 * no longer matches the log, or an earlier one, is replaced: two processes racing may leave the
 * earlier of two good checkpoints, which costs a longer walk, never a missed edit.
 */
export class AuditCheckpoint {
  readonly #secrets: SecretStore;
  readonly #db: Database;
  readonly #hashAt: (id: number) => string | undefined;
  #account: string | undefined;

  constructor(secrets: SecretStore, db: Database) {
    this.#secrets = secrets;
    this.#db = db;
    const hashAt = db.prepare('SELECT hash FROM audit_log WHERE id = ?').pluck();
    this.#hashAt = (id) => hashAt.get(id) as string | undefined;
  }

  /** Throws when the keychain does not answer. */
  async read(): Promise<AnchorReading> {
    return parseAnchor(await this.#secrets.get(this.#accountName()));
  }

  /** Whether the log still holds the checkpointed row with the checkpointed hash. */
  matches(head: AuditHead): boolean {
    return this.#hashAt(head.id) === head.hash;
  }

  /** Records `head` as verified; a later checkpoint that still matches the log is kept. */
  async advance(head: AuditHead): Promise<void> {
    const current = await this.read();
    if (current.state === 'present' && current.head.id >= head.id && this.matches(current.head)) return;
    await this.#secrets.set(this.#accountName(), formatAnchor(head));
  }

  #accountName(): string {
    this.#account ??= checkpointAccount(databaseId(this.#db));
    return this.#account;
  }
}
