import { AppError } from '../../../../src-shared/errors';
import type { AttemptSlot, AttemptState } from '../../../services/mfa/attempt-guard';
import type { Database } from '../database';

export class MfaAttemptsRepository {
  readonly #db: Database;
  readonly #get;
  readonly #insert;
  readonly #swap;
  readonly #clear;
  readonly #take;
  readonly #relaxSync;
  readonly #restoreSync;

  constructor(db: Database) {
    this.#db = db;
    this.#get = db.prepare(
      'SELECT window_start AS windowStart, failures, lockouts, blocked_until AS blockedUntil FROM mfa_attempts WHERE key = ?',
    );
    this.#insert = db.prepare(
      `INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(key) DO NOTHING`,
    );
    // Lands only on the state it was computed from: a compare-and-set, so the count can only be
    // moved by someone who saw its current value.
    this.#swap = db.prepare(
      `UPDATE mfa_attempts SET window_start = ?, failures = ?, lockouts = ?, blocked_until = ?
       WHERE key = ? AND window_start = ? AND failures = ? AND lockouts = ? AND blocked_until = ?`,
    );
    this.#clear = db.prepare('DELETE FROM mfa_attempts WHERE key = ?');
    this.#take = db.transaction((key: string, decide: (previous: AttemptState | undefined) => AttemptSlot): AttemptSlot => {
      const previous = this.get(key);
      const slot = decide(previous);
      if (!slot.ok) return slot;
      const s = slot.state;
      const landed = previous
        ? this.#swap.run(s.windowStart, s.failures, s.lockouts, s.blockedUntil, key, previous.windowStart, previous.failures, previous.lockouts, previous.blockedUntil)
        : this.#insert.run(key, s.windowStart, s.failures, s.lockouts, s.blockedUntil);
      // Cannot happen under the write lock; if it ever did, no check runs (fail closed).
      if (landed.changes !== 1) throw new AppError('ERR-INTERNAL');
      return slot;
    });
    const level = db.pragma('synchronous', { simple: true }) as number;
    this.#relaxSync = db.prepare('PRAGMA synchronous = NORMAL');
    this.#restoreSync = db.prepare(`PRAGMA synchronous = ${Number.isInteger(level) ? level : 2}`);
  }

  get(key: string): AttemptState | undefined {
    return this.#get.get(key) as AttemptState | undefined;
  }

  /**
   * Reads the count, lets `decide` take a slot or refuse, and writes the new count, all inside one
   * IMMEDIATE transaction: the write lock is taken first, so two processes (or two calls in this
   * one) can never both read the same count and both take the last slot (issue 9, item 3).
   *
   * The slot commits with `synchronous = NORMAL`: in WAL mode that commit is still atomic and seen
   * at once by every other connection; only its fsync waits for the next FULL commit, which the
   * attempt's own outcome (the failure's audit row or the success) is. A power cut in between
   * loses the attempt along with its outcome, never an answer given on a durable record
   * (DESIGN.md "Durability"), and each check does not pay an fsync of its own.
   */
  take(key: string, decide: (previous: AttemptState | undefined) => AttemptSlot): AttemptSlot {
    if (this.#db.inTransaction) return this.#take.immediate(key, decide);
    this.#relaxSync.run();
    try {
      return this.#take.immediate(key, decide);
    } finally {
      this.#restoreSync.run();
    }
  }

  clear(key: string): void {
    this.#clear.run(key);
  }
}
