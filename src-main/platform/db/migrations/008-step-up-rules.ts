import type { Migration } from './index';

/**
 * Issue 10, factor management: whether a backup code may stand in for a step is fixed when an
 * attempt starts, by its purpose (`backupAllowed` in src-shared/domain/policy.ts): never for
 * regenerating the codes or changing the role, only beside an authenticator's step for disabling
 * a factor. Attempts started before this migration were started under the old rule (a backup code
 * for one step of any chain), and they expire within minutes.
 */
export const m008StepUpRules: Migration = {
  version: 8,
  name: 'step-up-rules',
  up(db) {
    db.exec(`ALTER TABLE mfa_chain_attempts ADD COLUMN backup_allowed INTEGER NOT NULL DEFAULT 1 CHECK (backup_allowed IN (0, 1));`);
  },
};
