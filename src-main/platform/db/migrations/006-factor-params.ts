import type { Migration } from './index';

/**
 * Issue 10: the factor type is a seam. The factors table said `CHECK (type IN ('totp'))` and held
 * TOTP's digits, period and algorithm as columns every factor had to fill. Now each factor keeps
 * its type's parameters with its type, as a JSON object in `params` (TOTP:
 * `{"digits":6,"period":30,"algorithm":"SHA1"}`); SMS and push bring their own without another
 * rebuild. TOTP's parameters keep the CHECKs they had, so the database still refuses a TOTP
 * factor the app could not verify.
 *
 * SQLite cannot drop a CHECK in place: the table is rebuilt (create, copy, drop, rename), in the
 * migration's one transaction, and its index recreated. No table, trigger or view refers to
 * `factors`, so the rename leaves nothing dangling.
 */
export const m006FactorParams: Migration = {
  version: 6,
  name: 'factor-params',
  up(db) {
    db.exec(`
      CREATE TABLE factors_006 (
        id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL REFERENCES profiles (id),
        type TEXT NOT NULL CHECK (length(type) > 0),
        params TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object'),
        label TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'disabled')),
        created_at TEXT NOT NULL,
        pending_expires_at INTEGER,
        secret_shown INTEGER NOT NULL DEFAULT 0,
        confirmed_at TEXT,
        disabled_at TEXT,
        -- RFC 6238 §5.2: the last accepted time step, persisted so a restart does not reopen it.
        last_used_step INTEGER NOT NULL DEFAULT -1,
        last_used_at TEXT,
        enrolled_with TEXT NOT NULL DEFAULT 'authenticator' CHECK (enrolled_with IN ('setup', 'authenticator', 'recovery')),
        -- Epoch ms: until then a factor enrolled by recovery may not manage the others.
        recovery_until INTEGER,
        -- A missing parameter reads as NULL, and a CHECK that comes out NULL passes: hence coalesce.
        CHECK (type <> 'totp' OR coalesce(
          json_extract(params, '$.digits') IN (6, 8)
          AND json_extract(params, '$.period') IN (30, 60)
          AND json_extract(params, '$.algorithm') IN ('SHA1', 'SHA256', 'SHA512'),
          0
        ))
      ) STRICT;

      INSERT INTO factors_006 (id, profile_id, type, params, label, state, created_at, pending_expires_at, secret_shown,
          confirmed_at, disabled_at, last_used_step, last_used_at, enrolled_with, recovery_until)
        SELECT id, profile_id, type, json_object('digits', digits, 'period', period, 'algorithm', algorithm), label, state,
          created_at, pending_expires_at, secret_shown, confirmed_at, disabled_at, last_used_step, last_used_at,
          enrolled_with, recovery_until
        FROM factors;

      DROP TABLE factors;
      ALTER TABLE factors_006 RENAME TO factors;
      CREATE INDEX factors_profile ON factors (profile_id, state);
    `);
  },
};
