import type { Database } from '../database';

/** The code last sent for a factor, as stored: its HMAC, never the code (migration 011). */
export interface StoredSmsCode {
  mac: Buffer;
  expiresAt: number;
  usedAt: number | null;
}

export type SendReservation = { ok: true; id: number; sentInWindow: number; oldest: number } | { ok: false; oldest: number };

/** SMS codes and the sends that count towards the rate limit (issue 12). */
export class SmsCodesRepository {
  readonly #get;
  readonly #put;
  readonly #use;
  readonly #prune;
  readonly #reserve;
  readonly #window;
  readonly #release;
  readonly #forgetCode;
  readonly #forgetSends;

  constructor(db: Database) {
    this.#get = db.prepare('SELECT mac, expires_at AS expiresAt, used_at AS usedAt FROM sms_codes WHERE factor_id = ?');
    // A new send replaces the previous code: only the latest one is good.
    this.#put = db.prepare(
      `INSERT INTO sms_codes (factor_id, mac, expires_at, used_at) VALUES (?, ?, ?, NULL)
       ON CONFLICT(factor_id) DO UPDATE SET mac = excluded.mac, expires_at = excluded.expires_at, used_at = NULL`,
    );
    // Used once: of two callers holding the same code (two windows, two processes), one wins.
    this.#use = db.prepare('UPDATE sms_codes SET used_at = ? WHERE factor_id = ? AND mac = ? AND used_at IS NULL AND expires_at > ?');
    this.#prune = db.prepare('DELETE FROM sms_sends WHERE factor_id = ? AND sent_at <= ?');
    // One statement, so SQLite's write lock makes the count and the insert one step: two
    // processes cannot both see two sends and both add a third and a fourth.
    this.#reserve = db.prepare(
      `INSERT INTO sms_sends (factor_id, sent_at)
       SELECT ?, ? WHERE (SELECT COUNT(*) FROM sms_sends WHERE factor_id = ? AND sent_at > ?) < ?`,
    );
    this.#window = db.prepare('SELECT COUNT(*) AS n, MIN(sent_at) AS oldest FROM sms_sends WHERE factor_id = ? AND sent_at > ?');
    this.#release = db.prepare('DELETE FROM sms_sends WHERE id = ?');
    this.#forgetCode = db.prepare('DELETE FROM sms_codes WHERE factor_id = ?');
    this.#forgetSends = db.prepare('DELETE FROM sms_sends WHERE factor_id = ?');
  }

  get(factorId: string): StoredSmsCode | undefined {
    return this.#get.get(factorId) as StoredSmsCode | undefined;
  }

  put(factorId: string, mac: Buffer, expiresAt: number): void {
    this.#put.run(factorId, mac, expiresAt);
  }

  /** True for the one caller that used the code, while it was unused and unexpired. */
  use(factorId: string, mac: Buffer, nowMs: number): boolean {
    return this.#use.run(nowMs, factorId, mac, nowMs).changes === 1;
  }

  /** Counts a send if fewer than `max` were counted in the window ending now. */
  reserveSend(factorId: string, nowMs: number, windowMs: number, max: number): SendReservation {
    const since = nowMs - windowMs;
    this.#prune.run(factorId, since);
    const inserted = this.#reserve.run(factorId, nowMs, factorId, since, max);
    const { n, oldest } = this.#window.get(factorId, since) as { n: number; oldest: number | null };
    if (inserted.changes !== 1) return { ok: false, oldest: oldest ?? nowMs };
    return { ok: true, id: Number(inserted.lastInsertRowid), sentInWindow: n, oldest: oldest ?? nowMs };
  }

  /** A factor disabled or dropped: its code and its sends go. */
  forget(factorId: string): void {
    this.#forgetCode.run(factorId);
    this.#forgetSends.run(factorId);
  }

  /** A send Twilio refused was never sent: it does not count. */
  releaseSend(id: number): void {
    this.#release.run(id);
  }
}
