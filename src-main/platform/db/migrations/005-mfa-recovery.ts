import type { Migration } from './index';

/**
 * Issue 9.
 * - One attempt budget per profile, whatever the source (the window, the shell). Counts kept per
 *   source (`<profile>|<source>`) are folded into the profile's one row, blocks included, so an
 *   upgrade never lifts a block that was in force.
 * - What proved the right to add a factor: `setup` (none: MFA was off), `authenticator` (a code
 *   from an active factor with full rights) or `recovery` (a backup code, or a code from a
 *   factor still in its recovery delay). A recovery factor gets `recovery_until` when confirmed.
 *   Factors enrolled before this migration were added with MFA's rules of the time: they count
 *   as `authenticator`.
 */
export const m005MfaRecovery: Migration = {
  version: 5,
  name: 'mfa-recovery',
  up(db) {
    db.exec(`
      INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until)
        SELECT substr(key, 1, instr(key, '|') - 1), MIN(window_start), SUM(failures), MAX(lockouts), MAX(blocked_until)
        FROM mfa_attempts WHERE instr(key, '|') > 0
        GROUP BY substr(key, 1, instr(key, '|') - 1)
        ON CONFLICT (key) DO UPDATE SET
          window_start = MIN(window_start, excluded.window_start),
          failures = failures + excluded.failures,
          lockouts = MAX(lockouts, excluded.lockouts),
          blocked_until = MAX(blocked_until, excluded.blocked_until);
      DELETE FROM mfa_attempts WHERE instr(key, '|') > 0;

      ALTER TABLE factors ADD COLUMN enrolled_with TEXT NOT NULL DEFAULT 'authenticator'
        CHECK (enrolled_with IN ('setup', 'authenticator', 'recovery'));
      -- Epoch ms: until then a factor enrolled by recovery may not manage the others.
      ALTER TABLE factors ADD COLUMN recovery_until INTEGER;
    `);
  },
};
