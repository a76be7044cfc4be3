import type { AttemptState } from '../../../services/mfa/attempt-guard';
import type { Database } from '../database';

export class MfaAttemptsRepository {
  readonly #get;
  readonly #put;
  readonly #clear;

  constructor(db: Database) {
    this.#get = db.prepare(
      'SELECT window_start AS windowStart, failures, lockouts, blocked_until AS blockedUntil FROM mfa_attempts WHERE key = ?',
    );
    this.#put = db.prepare(
      `INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, failures = excluded.failures,
         lockouts = excluded.lockouts, blocked_until = excluded.blocked_until`,
    );
    this.#clear = db.prepare('DELETE FROM mfa_attempts WHERE key = ?');
  }

  get(key: string): AttemptState | undefined {
    return this.#get.get(key) as AttemptState | undefined;
  }

  put(key: string, s: AttemptState): void {
    this.#put.run(key, s.windowStart, s.failures, s.lockouts, s.blockedUntil);
  }

  clear(key: string): void {
    this.#clear.run(key);
  }
}
