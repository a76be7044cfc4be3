import type { Migration } from './index';

/** Issue #5: integrations (API keys, stored hashed) and the restore requests they send. */
export const m003Gateway: Migration = {
  version: 3,
  name: 'gateway',
  up(db) {
    db.exec(`
      -- key_hash is the SHA-256 of the key: the key itself is shown once and never stored.
      CREATE TABLE integrations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        -- Set by "deny and report": new requests are refused until then (Duo's fraud mute).
        muted_until INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX integrations_active_name ON integrations (name) WHERE revoked_at IS NULL;

      -- Times are milliseconds since the epoch from the injected clock, so the sweeper and the
      -- countdowns compare numbers, not strings.
      CREATE TABLE restore_requests (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        integration_id TEXT NOT NULL REFERENCES integrations (id),
        requester TEXT NOT NULL,
        backup_id TEXT NOT NULL,
        target TEXT NOT NULL,
        sensitivity TEXT NOT NULL CHECK (sensitivity IN ('low', 'medium', 'high', 'critical')),
        reason TEXT NOT NULL,
        context TEXT NOT NULL CHECK (json_valid(context)),
        match_code INTEGER NOT NULL CHECK (match_code BETWEEN 10 AND 99),
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        reported INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1)),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_at INTEGER,
        decided_by TEXT
      ) STRICT;
      CREATE INDEX restore_requests_status ON restore_requests (status, expires_at);
      CREATE INDEX restore_requests_integration ON restore_requests (integration_id, status);
    `);
  },
};
