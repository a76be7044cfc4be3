import type { Migration } from './index';

/**
 * Issue 11: restore access tokens, one per approved request.
 * - The row is written when the request is approved, with its binding (requester, integration,
 *   backup, target), `ttl_seconds` and `expires_at`, and no token: `token_hash` stays NULL until
 *   the requester's first status read mints the raw value and stores its SHA-256 here. The raw
 *   token is never stored.
 * - `redeemed_at` and `revoked_at` only ever go from NULL to a time, each in one guarded UPDATE.
 * Times are epoch milliseconds from the injected clock.
 */
export const m009RestoreTokens: Migration = {
  version: 9,
  name: 'restore-tokens',
  up(db) {
    db.exec(`
      CREATE TABLE restore_tokens (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE REFERENCES restore_requests (id),
        integration_id TEXT NOT NULL REFERENCES integrations (id),
        requester TEXT NOT NULL,
        backup_id TEXT NOT NULL,
        target TEXT NOT NULL,
        token_hash TEXT UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 64),
        ttl_seconds INTEGER NOT NULL CHECK (ttl_seconds > 0),
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        delivered_at INTEGER,
        redeemed_at INTEGER,
        revoked_at INTEGER,
        revoked_by TEXT
      ) STRICT;
      CREATE INDEX restore_tokens_expiry ON restore_tokens (expires_at);
    `);
  },
};
