import type { Migration } from './index';

/**
 * Issue 9: one attempt budget per profile, whatever the source (the window, the shell). Counts
 * kept per source (`<profile>|<source>`) are folded into the profile's one row, blocks included,
 * so an upgrade never lifts a block that was in force.
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
    `);
  },
};
