import { randomBytes } from 'node:crypto';
import type { Migration } from './index';

/**
 * Issue 9: what the gateway needs to be trusted and retried safely.
 *
 * - `gateway_instance.secret`: 32 random bytes that prove "this process can read this data
 *   directory's database". A second Custodian (the app, `custodian serve`, `doctor`) takes the
 *   process on the gateway port for one of its own only if it answers a fresh challenge with an
 *   HMAC under this secret. It opens nothing outside: whoever can read it can already read and
 *   write every row here, so keeping it beside them adds no exposure (the data directory is the
 *   owner's alone). It is never shown, logged or sent.
 * - `restore_requests.idempotency_key`: SHA-256 of the integration id and the tool's
 *   `Idempotency-Key`, never the key itself, with `idempotency_fingerprint` (SHA-256 of the
 *   validated body) to tell a retry from a different request under the same key. The unique
 *   index makes "one request per key" hold against racing requests, whatever process commits.
 */
export const m004GatewayTrust: Migration = {
  version: 4,
  name: 'gateway-trust',
  up(db) {
    db.exec(`
      CREATE TABLE gateway_instance (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL CHECK (length(secret) = 32)
      ) STRICT;

      ALTER TABLE restore_requests ADD COLUMN idempotency_key TEXT;
      ALTER TABLE restore_requests ADD COLUMN idempotency_fingerprint TEXT;
      CREATE UNIQUE INDEX restore_requests_idempotency
        ON restore_requests (integration_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `);
    db.prepare('INSERT INTO gateway_instance (id, secret) VALUES (1, ?)').run(randomBytes(32));
  },
};
