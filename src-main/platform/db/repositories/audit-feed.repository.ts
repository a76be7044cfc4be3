import type { Database } from '../database';

export interface FeedRow {
  id: number;
  event: string;
  /** The row's data object, as JSON; parsed by the reader, which must not trust it. */
  data: string | null;
}

/**
 * Reads audit rows of some events after a given id: how a process learns what another process
 * (the shell, `custodian serve`) changed, from the one record every process writes. Read only.
 */
export class AuditFeedRepository {
  readonly #latest;
  readonly #since;

  constructor(db: Database) {
    this.#latest = db.prepare('SELECT COALESCE(MAX(id), 0) FROM audit_log').pluck();
    // The (event, id) index answers this without walking rows of other events.
    this.#since = db.prepare(
      'SELECT id, event, data FROM audit_log WHERE id > ? AND event IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?',
    );
  }

  latestId(): number {
    return this.#latest.get() as number;
  }

  since(afterId: number, events: readonly string[], limit: number): FeedRow[] {
    return this.#since.all(afterId, JSON.stringify(events), limit) as FeedRow[];
  }
}
