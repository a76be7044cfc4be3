import type { Migration } from './index';

export const m002ProfilesAndFactors: Migration = {
  version: 2,
  name: 'profiles-and-factors',
  up(db) {
    db.exec(`
      CREATE TABLE profiles (
        id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        principal TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('operator', 'admin', 'security-admin')),
        mfa_enabled INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
        created_at TEXT NOT NULL
      ) STRICT;

      -- The TOTP secret is not here: it lives in the OS keychain under <profile_id>:<id>.
      CREATE TABLE factors (
        id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL REFERENCES profiles (id),
        type TEXT NOT NULL CHECK (type IN ('totp')),
        label TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'disabled')),
        digits INTEGER NOT NULL CHECK (digits IN (6, 8)),
        period INTEGER NOT NULL CHECK (period IN (30, 60)),
        algorithm TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
        created_at TEXT NOT NULL,
        pending_expires_at INTEGER,
        secret_shown INTEGER NOT NULL DEFAULT 0,
        confirmed_at TEXT,
        disabled_at TEXT,
        -- RFC 6238 §5.2: the last accepted time step, persisted so a restart does not reopen it.
        last_used_step INTEGER NOT NULL DEFAULT -1,
        last_used_at TEXT
      ) STRICT;
      CREATE INDEX factors_profile ON factors (profile_id, state);

      -- Only an HMAC-SHA-256 of each code, under a key kept in the keychain.
      CREATE TABLE backup_codes (
        id INTEGER PRIMARY KEY,
        profile_id TEXT NOT NULL REFERENCES profiles (id),
        mac TEXT NOT NULL,
        hint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at TEXT
      ) STRICT;
      CREATE INDEX backup_codes_profile ON backup_codes (profile_id, used_at);

      -- Failed MFA attempts per profile and source, persisted so a restart does not reset them.
      CREATE TABLE mfa_attempts (
        key TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        lockouts INTEGER NOT NULL,
        blocked_until INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
