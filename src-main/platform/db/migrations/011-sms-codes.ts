import type { Migration } from './index';

/**
 * Issue 12, SMS factors.
 * - `sms_codes`: the code last sent for a factor, as HMAC-SHA256 under the factor's own key (kept
 *   in the keychain), with its expiry and when it was used. Never the code: six digits are a
 *   million guesses, so a bare hash would give it away to whoever reads the file. One row per
 *   factor; a new send replaces it, so only the latest code is good.
 * - `sms_sends`: when each code was sent, for the limit of 3 sends per 10 minutes per factor. A
 *   send is reserved by one INSERT guarded by the count, so two processes cannot pass it.
 */
export const m011SmsCodes: Migration = {
  version: 11,
  name: 'sms-codes',
  up(db) {
    db.exec(`
      CREATE TABLE sms_codes (
        factor_id TEXT PRIMARY KEY,
        mac BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;

      CREATE TABLE sms_sends (
        id INTEGER PRIMARY KEY,
        factor_id TEXT NOT NULL,
        sent_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sms_sends_by_factor ON sms_sends (factor_id, sent_at);
    `);
  },
};
