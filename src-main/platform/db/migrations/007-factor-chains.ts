import type { Migration } from './index';

/**
 * Issue 10: factor chains.
 * - `mfa_policies`: one row per sensitivity that an administrator has saved; a sensitivity with
 *   no row follows the built-in default (src-shared/domain/policy.ts).
 * - `mfa_chain_attempts`: an attempt's chain fixed when it starts. `version` is bumped by every
 *   change, and every change is an UPDATE guarded by the version it was computed from, so two
 *   windows or two processes racing on one attempt cannot both advance it.
 * - `step_up_grants`: what a completed chain earns, bound to its purpose, used once. The id is the
 *   SHA-256 of a random value that is never stored.
 * Times are epoch milliseconds from the injected clock. No code or secret is stored here.
 */
export const m007FactorChains: Migration = {
  version: 7,
  name: 'factor-chains',
  up(db) {
    db.exec(`
      CREATE TABLE mfa_policies (
        sensitivity TEXT PRIMARY KEY CHECK (sensitivity IN ('low', 'medium', 'high', 'critical')),
        mode TEXT NOT NULL CHECK (mode IN ('fixed', 'random')),
        required_steps INTEGER NOT NULL CHECK (required_steps BETWEEN 1 AND 5),
        -- {"by":"types","types":[...]} or {"by":"ids","ids":[...]}
        eligible TEXT NOT NULL,
        challenge_timeout_seconds INTEGER NOT NULL CHECK (challenge_timeout_seconds BETWEEN 10 AND 600),
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE mfa_chain_attempts (
        id TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        sensitivity TEXT NOT NULL CHECK (sensitivity IN ('low', 'medium', 'high', 'critical')),
        mode TEXT NOT NULL CHECK (mode IN ('fixed', 'random')),
        -- The chain as drawn: [{id, type, label, digits}, ...]; and the factors a redraw draws from.
        steps TEXT NOT NULL,
        pool TEXT NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0),
        backup_used INTEGER NOT NULL DEFAULT 0 CHECK (backup_used IN (0, 1)),
        status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'expired')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX mfa_chain_attempts_expiry ON mfa_chain_attempts (status, expires_at);

      CREATE TABLE step_up_grants (
        id TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        -- The sensitivity of the chain that earned it: a caller may demand at least some level.
        sensitivity TEXT NOT NULL CHECK (sensitivity IN ('low', 'medium', 'high', 'critical')),
        attempt_id TEXT NOT NULL REFERENCES mfa_chain_attempts (id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX step_up_grants_purpose ON step_up_grants (purpose, used_at, expires_at);
    `);
  },
};
