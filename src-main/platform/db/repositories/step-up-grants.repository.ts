import type { Sensitivity } from '../../../../src-shared/domain/restore-request';
import type { Database } from '../database';

/**
 * Step-up grants (migration 007): what a completed chain earns. Stored by the SHA-256 of a random
 * value, bound to one purpose, used once.
 */
export class StepUpGrantsRepository {
  readonly #insert;
  readonly #consume;
  readonly #live;
  readonly #lapsed;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO step_up_grants (id, purpose, sensitivity, attempt_id, created_at, expires_at, used_at)
       VALUES (@idHash, @purpose, @sensitivity, @attemptId, @createdAt, @expiresAt, NULL)`,
    );
    // Single use in one statement (STYLE.md "Guards in SQL"): the row is picked and marked under
    // SQLite's write lock, so two consumers (two windows, two processes) can never both get it.
    // Only a grant for this very purpose, from a chain at one of the accepted sensitivities,
    // qualifies: one purpose never serves another.
    this.#consume = db.prepare(
      `UPDATE step_up_grants SET used_at = @now
       WHERE id = (SELECT id FROM step_up_grants
                   WHERE purpose = @purpose AND used_at IS NULL AND expires_at > @now
                     AND sensitivity IN (SELECT value FROM json_each(@accepted))
                   ORDER BY expires_at LIMIT 1)
         AND purpose = @purpose AND used_at IS NULL AND expires_at > @now
       RETURNING attempt_id AS attemptId, sensitivity`,
    );
    this.#lapsed = db.prepare('DELETE FROM step_up_grants WHERE used_at IS NULL AND expires_at <= ?');
    this.#live = db.prepare(
      `SELECT 1 FROM step_up_grants
       WHERE purpose = @purpose AND used_at IS NULL AND expires_at > @now
         AND sensitivity IN (SELECT value FROM json_each(@accepted))
       LIMIT 1`,
    );
  }

  /**
   * Drops the grants that lapsed unused (issue 13): they serve nothing, and the seal over the
   * unused grants (migration 014) is rewritten on every grant, so they must not pile up.
   */
  purgeLapsed(nowMs: number): number {
    return this.#lapsed.run(nowMs).changes;
  }

  /** Whether a live grant for `purpose` at one of `accepted` exists; uses nothing. */
  live(purpose: string, accepted: readonly Sensitivity[], nowMs: number): boolean {
    return this.#live.get({ purpose, now: nowMs, accepted: JSON.stringify(accepted) }) !== undefined;
  }

  insert(grant: { idHash: string; purpose: string; sensitivity: Sensitivity; attemptId: string; createdAt: number; expiresAt: number }): void {
    this.#insert.run(grant);
  }

  /**
   * Uses up one live grant for `purpose` earned at one of `accepted`; what earned it, or
   * undefined when there is none (nothing changes then).
   */
  consume(purpose: string, accepted: readonly Sensitivity[], nowMs: number): { attemptId: string; sensitivity: Sensitivity } | undefined {
    return this.#consume.get({ purpose, now: nowMs, accepted: JSON.stringify(accepted) }) as { attemptId: string; sensitivity: Sensitivity } | undefined;
  }
}
