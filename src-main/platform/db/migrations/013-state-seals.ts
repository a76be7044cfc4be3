import type { Migration } from './index';

/**
 * What migration 013 seals: each table's columns in MAC order (the primary key among them) and,
 * for the tables whose rows are few per owner, the scope a set seal covers. Frozen with the
 * migration: a later migration that changes what a row's MAC covers brings a spec of its own.
 */
export interface SealedTable {
  readonly table: string;
  readonly pk: string;
  readonly columns: readonly string[];
  /**
   * The column whose value names a row's scope (`profile_id`), `''` for one scope over the whole
   * table, or null for a row MAC alone (tables that grow with use: their rows only ever move
   * forward, and each move is checked against the row's MAC before it is made).
   */
  readonly scope: string | null;
}

export const SEALED_TABLES_013: readonly SealedTable[] = [
  { table: 'backup_codes', pk: 'id', columns: ['id', 'profile_id', 'mac', 'hint', 'created_at', 'expires_at', 'used_at'], scope: 'profile_id' },
  {
    table: 'factors',
    pk: 'id',
    columns: ['id', 'profile_id', 'type', 'params', 'label', 'state', 'created_at', 'pending_expires_at', 'secret_shown', 'confirmed_at', 'disabled_at', 'last_used_step', 'last_used_at', 'enrolled_with', 'recovery_until'],
    scope: 'profile_id',
  },
  { table: 'mfa_attempts', pk: 'key', columns: ['key', 'window_start', 'failures', 'lockouts', 'blocked_until'], scope: '' },
  { table: 'sms_codes', pk: 'factor_id', columns: ['factor_id', 'mac', 'expires_at', 'used_at'], scope: '' },
  { table: 'step_up_grants', pk: 'id', columns: ['id', 'purpose', 'sensitivity', 'attempt_id', 'created_at', 'expires_at', 'used_at'], scope: null },
  {
    table: 'restore_tokens',
    pk: 'id',
    columns: ['id', 'request_id', 'integration_id', 'requester', 'backup_id', 'target', 'token_hash', 'ttl_seconds', 'issued_at', 'expires_at', 'delivered_at', 'redeemed_at', 'revoked_at', 'revoked_by'],
    scope: null,
  },
  {
    table: 'push_challenges',
    pk: 'id',
    columns: ['id', 'factor_id', 'profile_id', 'attempt_id', 'purpose', 'sensitivity', 'source', 'started_by', 'choices', 'number_mac', 'status', 'created_at', 'expires_at', 'answered_at'],
    scope: null,
  },
];

/** The scope value of a row as an SQL expression on `alias` (NEW or OLD). */
export function scopeExpr(t: SealedTable, alias: string): string {
  return t.scope ? `${alias}.${t.scope}` : `''`;
}

/** The scope's row MACs, in key order, as one text (NULL when the scope has no row). */
export function scopeRowsExpr(t: SealedTable, scopeValue: string): string {
  const where = t.scope ? `WHERE ${t.scope} IS ${scopeValue}` : '';
  return `(SELECT group_concat(hex(row_mac), ',') FROM (SELECT row_mac FROM ${t.table} ${where} ORDER BY ${t.pk}))`;
}

/** Every scope seal but the root, in name order, as one text. */
export const SEALS_EXPR = `(SELECT group_concat(scope || '=' || hex(mac), ',') FROM (SELECT scope, mac FROM state_seals WHERE scope <> '*' ORDER BY scope))`;
const ROOT_EXPR = `(SELECT mac FROM state_seals WHERE scope = '*')`;

function sealName(t: SealedTable, scopeValue: string): string {
  return `'${t.table}:' || ${scopeValue}`;
}

/** Before a change: the scope's rows are the ones its seal names, and the seals the root names. */
function checkSealSql(t: SealedTable, alias: string): string {
  const s = scopeExpr(t, alias);
  return `SELECT custodian_seal_check('${t.table}', ${s}, (SELECT mac FROM state_seals WHERE scope = ${sealName(t, s)}), ${scopeRowsExpr(t, s)}, ${ROOT_EXPR}, ${SEALS_EXPR});`;
}

/** After a change: the scope's seal (gone with its last row), then the root, written again. */
export function resealSql(t: SealedTable, scopeValue: string): string {
  return `DELETE FROM state_seals WHERE scope = ${sealName(t, scopeValue)};
    INSERT INTO state_seals (scope, mac) SELECT ${sealName(t, scopeValue)}, custodian_state_mac('scope', ${sealName(t, scopeValue)}, l)
      FROM (SELECT ${scopeRowsExpr(t, scopeValue)} AS l) WHERE l IS NOT NULL;
    ${ROOT_RESEAL_SQL}`;
}

export const ROOT_RESEAL_SQL = `INSERT INTO state_seals (scope, mac) VALUES ('*', custodian_state_mac('root', coalesce(${SEALS_EXPR}, '')))
      ON CONFLICT (scope) DO UPDATE SET mac = excluded.mac;`;

/** The row's MAC as an SQL expression over `alias`'s columns. */
export function rowMacExpr(t: SealedTable, alias: string): string {
  return `custodian_state_mac('row', '${t.table}', ${t.columns.map((c) => `${alias}.${c}`).join(', ')})`;
}

function rowCheckSql(t: SealedTable, alias: string): string {
  return `SELECT custodian_state_check('${t.table}', ${alias}.${t.pk}, ${alias}.row_mac, ${t.columns.map((c) => `${alias}.${c}`).join(', ')});`;
}

/**
 * The triggers that keep and check the seals. They are TEMP triggers, made on each of the app's
 * connections when it opens (src-main/platform/db/database.ts), never stored in the file: someone
 * who can write the file could drop a stored trigger and then have the app's own writes build on
 * an edited row; a TEMP trigger lives in the app's connection only.
 */
export function sealTriggersSql(t: SealedTable): string {
  const cols = t.columns.join(', ');
  const stamp = `UPDATE ${t.table} SET row_mac = ${rowMacExpr(t, 'NEW')} WHERE rowid = NEW.rowid;`;
  const sealed = t.scope !== null;
  return `
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_update BEFORE UPDATE OF ${cols} ON ${t.table}
    BEGIN ${rowCheckSql(t, 'OLD')} ${sealed ? checkSealSql(t, 'OLD') : ''} END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_update AFTER UPDATE OF ${cols} ON ${t.table}
    BEGIN ${stamp} ${sealed ? resealSql(t, scopeExpr(t, 'OLD')) : ''} END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_insert AFTER INSERT ON ${t.table}
    BEGIN ${stamp} ${sealed ? resealSql(t, scopeExpr(t, 'NEW')) : ''} END;
    ${
      sealed
        ? `CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_insert BEFORE INSERT ON ${t.table} BEGIN ${checkSealSql(t, 'NEW')} END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_delete BEFORE DELETE ON ${t.table} BEGIN ${checkSealSql(t, 'OLD')} END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_delete AFTER DELETE ON ${t.table} BEGIN ${resealSql(t, scopeExpr(t, 'OLD'))} END;`
        : ''
    }`;
}

/**
 * Issue 13, item 4: state integrity. Someone with write access to the database file could re-enable
 * a used backup code, allow a replayed TOTP code or reset the rate limit, and the audit log would
 * not notice: it records changes, it does not guard the state they left. Now every security-state
 * row carries `row_mac`, an HMAC-SHA256 over its table, its columns and (through them) its key,
 * under a key kept in the OS keychain (`state-mac:<database id>`), never in this file.
 *
 * - Triggers keep the MACs (TEMP triggers on each of the app's connections, see sealTriggersSql):
 *   after every INSERT and UPDATE the row's MAC is written again, and
 *   before every UPDATE the old row is checked against its MAC. The app's own guarded UPDATEs
 *   (use once, the replay floor, the attempt slot) therefore refuse a row edited outside it with
 *   ERR-STATE-TAMPERED instead of building on it, and no write of the app ever re-MACs (blesses) an
 *   edited row. The MAC functions exist only on the app's connections (src-main/platform/db/
 *   state-mac.ts).
 * - Deletions and replays (writing back an old, validly MACed row): the tables with few rows per
 *   owner also carry a set seal per scope in `state_seals` (`<table>:<scope>`), a MAC over the
 *   MACs of the scope's rows, checked before and rewritten after every change in the scope; and
 *   one root seal (`*`) over every scope seal. A deleted attempt row, or a used backup code written
 *   back as it was before its use, no longer matches its seal; putting back the seal as well no
 *   longer matches the root.
 * - Rows written before this migration have no MAC yet: they are adopted (MACed once, with an
 *   audit row) the first time a process with the keychain opens the database (see StateSeal).
 */
export const m013StateSeals: Migration = {
  version: 13,
  name: 'state-seals',
  up(db) {
    db.exec(`
      CREATE TABLE state_seals (
        scope TEXT PRIMARY KEY,
        mac BLOB NOT NULL
      ) STRICT;
      ${SEALED_TABLES_013.map((t) => `ALTER TABLE ${t.table} ADD COLUMN row_mac BLOB;`).join('\n')}
    `);
  },
};
