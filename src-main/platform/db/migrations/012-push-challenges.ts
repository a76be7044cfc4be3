import type { Migration } from './index';

/**
 * Issue 12, push factors. One row per push raised: what it is for (the chain attempt, its purpose
 * and sensitivity, who started it and from where), the three numbers the prompt offers, and the
 * right one only as HMAC-SHA256 under the factor's own key (kept in the keychain): whoever reads
 * the file sees three numbers, not which of them to pick. Every process on the data directory
 * reads the same rows, so a shell's push reaches the window, and the window's answer the shell.
 * A row's status only moves forward, each move a guarded UPDATE.
 */
export const m012PushChallenges: Migration = {
  version: 12,
  name: 'push-challenges',
  up(db) {
    db.exec(`
      CREATE TABLE push_challenges (
        id TEXT PRIMARY KEY,
        factor_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        attempt_id TEXT,
        purpose TEXT NOT NULL,
        sensitivity TEXT CHECK (sensitivity IS NULL OR sensitivity IN ('low', 'medium', 'high', 'critical')),
        source TEXT NOT NULL,
        started_by TEXT NOT NULL,
        choices TEXT NOT NULL CHECK (json_valid(choices) AND json_array_length(choices) = 3),
        number_mac BLOB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'mismatched', 'denied', 'expired', 'used', 'superseded')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        answered_at INTEGER
      ) STRICT;
      CREATE INDEX push_challenges_by_factor ON push_challenges (factor_id, created_at);
      CREATE INDEX push_challenges_pending ON push_challenges (status, expires_at);
    `);
  },
};
