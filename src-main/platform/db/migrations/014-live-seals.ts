import type { Migration } from './index';
import { SEALED_TABLES_013, type SealedTable } from './013-state-seals';

/**
 * Which rows of the tables that grow with use still carry power: an unused step-up grant, a
 * restore token neither redeemed nor revoked, a push not yet used up (an answer waits to be
 * submitted: approved, denied or mismatched). Frozen with migration 014.
 */
const LIVE: Readonly<Record<string, (alias: string) => string>> = {
  step_up_grants: (a) => `${a}.used_at IS NULL`,
  restore_tokens: (a) => `${a}.redeemed_at IS NULL AND ${a}.revoked_at IS NULL`,
  push_challenges: (a) => `${a}.status IN ('pending', 'approved', 'denied', 'mismatched')`,
};

/** Migration 013's tables, the three that had row MACs alone now sealed as a set of their live rows. */
export const SEALED_TABLES_014: readonly SealedTable[] = SEALED_TABLES_013.map((t) => {
  const live = LIVE[t.table];
  return live ? { ...t, scope: '', live } : t;
});

/** The tables whose seal covers their live rows only. */
export const LIVE_SEALED_TABLES: readonly SealedTable[] = SEALED_TABLES_014.filter((t) => t.live !== undefined);

/** The seal names of the live sets: written (over no rows, if need be) when a database is sealed. */
export const LIVE_SEAL_NAMES: readonly string[] = LIVE_SEALED_TABLES.map((t) => `${t.table}:`);

/**
 * Issue 13, item 4, the gaps migration 013 left: step-up grants, restore tokens and pushes had a
 * row MAC alone, so a row written back whole as it was before its use (a used restore token with
 * `redeemed_at` NULL again, from an old copy of the file) or a live row deleted went unnoticed.
 * Their live rows are now sealed as one set per table, in the root like every other seal; the
 * rows that left the set are dead (they serve nothing) and keep their row MAC. A set seal over a
 * whole table would be re-hashed on every write of a table that only grows; the live set stays
 * small, and these partial indexes read it without a scan. Databases sealed under 013 get their
 * three seals once, when the key is first loaded (StateSeal), after their rows' MACs are checked.
 */
export const m014LiveSeals: Migration = {
  version: 14,
  name: 'live-seals',
  up(db) {
    db.exec(`
      CREATE INDEX step_up_grants_live ON step_up_grants (id) WHERE used_at IS NULL;
      CREATE INDEX restore_tokens_live ON restore_tokens (id) WHERE redeemed_at IS NULL AND revoked_at IS NULL;
      CREATE INDEX push_challenges_live ON push_challenges (id) WHERE status IN ('pending', 'approved', 'denied', 'mismatched');
    `);
  },
};
