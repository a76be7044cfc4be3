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
  /**
   * For a table that grows with use (migration 014): which rows still carry power, as an SQL
   * condition on `alias`. Only those are sealed as a set; a row that left it (a used grant, a
   * redeemed token) is checked by its MAC alone, and written back as it was while live it no
   * longer matches the set's seal.
   */
  readonly live?: (alias: string) => string;
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

/** Whether the row under `alias` belongs to the table's sealed set (every row unless the table names its live rows). */
export function liveExpr(t: SealedTable, alias: string): string {
  return t.live ? `(${t.live(alias)})` : '1';
}

/** The scope's row MACs, in key order, as one text (NULL when the scope has no row). */
export function scopeRowsExpr(t: SealedTable, scopeValue: string): string {
  const terms = [...(t.scope ? [`${t.scope} IS ${scopeValue}`] : []), ...(t.live ? [t.live(t.table)] : [])];
  const where = terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '';
  return `(SELECT group_concat(hex(row_mac), ',') FROM (SELECT row_mac FROM ${t.table} ${where} ORDER BY ${t.pk}))`;
}

/**
 * The state's epoch (issue 13, item 4: whole-state rollback): a counter kept among the seals, so
 * the root covers it, and moved forward by every sealed change. The keychain keeps the epoch last
 * seen committed (StateSeal.anchorEpoch); a file whose epoch is below it is an older copy.
 */
export const EPOCH_SCOPE = '#epoch';
const EPOCH_EXPR = `(SELECT mac FROM state_seals WHERE scope = '${EPOCH_SCOPE}')`;

/** Every scope seal but the root, in name order, as one text. */
export const SEALS_EXPR = `(SELECT group_concat(scope || '=' || hex(mac), ',') FROM (SELECT scope, mac FROM state_seals WHERE scope <> '*' ORDER BY scope))`;
const ROOT_EXPR = `(SELECT mac FROM state_seals WHERE scope = '*')`;

function sealName(t: SealedTable, scopeValue: string): string {
  return `'${t.table}:' || ${scopeValue}`;
}

/** The seal check's arguments: the scope, its seal, its rows, the root, the seals and the epoch. */
function sealArgs(t: SealedTable, alias: string): string {
  const s = scopeExpr(t, alias);
  return `${s}, (SELECT mac FROM state_seals WHERE scope = ${sealName(t, s)}), ${scopeRowsExpr(t, s)}, ${ROOT_EXPR}, ${SEALS_EXPR}, ${EPOCH_EXPR}`;
}

/** Before a change: the scope's rows are the ones its seal names, and the seals the root names. */
function sealCheckExpr(t: SealedTable, alias: string): string {
  return `custodian_seal_check('${t.table}', ${sealArgs(t, alias)})`;
}

/** Before an update: the old row against its MAC and its scope against the seals, in one call. */
function rowAndSealCheckExpr(t: SealedTable, alias: string): string {
  return `custodian_check('${t.table}', ${alias}.${t.pk}, ${alias}.row_mac, ${sealArgs(t, alias)}, ${t.columns.map((c) => `${alias}.${c}`).join(', ')})`;
}

/** The next epoch, as the seals store it: its decimal digits (computed in SQL, no function call). */
const EPOCH_NEXT = `CAST(CAST(coalesce(CAST(CAST(${EPOCH_EXPR} AS TEXT) AS INTEGER), 0) + 1 AS TEXT) AS BLOB)`;

/**
 * After a change: the scope's seal, the epoch moved on, and the root, written in one statement
 * with one function call (issue 13: each call from SQLite into JavaScript costs microseconds on
 * every check). `custodian_reseal` answers the seal and the root side by side; the subquery that
 * calls it has a LIMIT, so it is not flattened into the three rows and runs once. A scope left
 * without rows keeps a seal over no rows: its rows deleted behind the app's back no longer match
 * it, and one statement never has to delete.
 */
export function resealSql(t: SealedTable, scopeValue: string, when = '1'): string {
  const name = sealName(t, scopeValue);
  const others = `(SELECT json_group_array(json_array(scope, hex(mac))) FROM state_seals WHERE scope NOT IN ('*', '${EPOCH_SCOPE}', ${name}))`;
  return `INSERT INTO state_seals (scope, mac)
      SELECT CASE v.k WHEN 0 THEN ${name} WHEN 1 THEN '${EPOCH_SCOPE}' ELSE '*' END,
             CASE v.k WHEN 0 THEN substr(x.b, 1, 32) WHEN 1 THEN x.e ELSE substr(x.b, 33, 32) END
      FROM (SELECT custodian_reseal(${name}, ${scopeRowsExpr(t, scopeValue)}, ${others}, ${EPOCH_NEXT}) AS b, ${EPOCH_NEXT} AS e WHERE ${when} LIMIT 1) AS x
      CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2) AS v
      WHERE 1
      ON CONFLICT (scope) DO UPDATE SET mac = excluded.mac;`;
}

export const ROOT_RESEAL_SQL = `INSERT INTO state_seals (scope, mac) VALUES ('*', custodian_state_mac('root', coalesce(${SEALS_EXPR}, '')))
      ON CONFLICT (scope) DO UPDATE SET mac = excluded.mac;`;

/** The row's MAC as an SQL expression over `alias`'s columns. */
export function rowMacExpr(t: SealedTable, alias: string): string {
  return `custodian_state_mac('row', '${t.table}', ${t.columns.map((c) => `${alias}.${c}`).join(', ')})`;
}

function rowCheckExpr(t: SealedTable, alias: string): string {
  return `custodian_state_check('${t.table}', ${alias}.${t.pk}, ${alias}.row_mac, ${t.columns.map((c) => `${alias}.${c}`).join(', ')})`;
}

/**
 * The triggers that keep and check the seals. They are TEMP triggers, made on each of the app's
 * connections when it opens (src-main/platform/db/database.ts), never stored in the file: someone
 * who can write the file could drop a stored trigger and then have the app's own writes build on
 * an edited row; a TEMP trigger lives in the app's connection only.
 *
 * Each change costs one checking SELECT before it and two statements after it (the row's MAC; the
 * scope seal, the epoch and the root together), three calls into JavaScript in all. A table with live rows (migration 014) seals only those: a
 * change that neither starts nor ends on a live row leaves its seal alone.
 */
export function sealTriggersSql(t: SealedTable): string {
  const cols = t.columns.join(', ');
  const stamp = `UPDATE ${t.table} SET row_mac = ${rowMacExpr(t, 'NEW')} WHERE rowid = NEW.rowid;`;
  const sealed = t.scope !== null;
  const either = `(${liveExpr(t, 'OLD')} OR ${liveExpr(t, 'NEW')})`;
  // A dead row of a live table that stays dead changes no seal: its MAC alone is checked.
  const checkUpdate = !sealed ? rowCheckExpr(t, 'OLD') : t.live ? `CASE WHEN ${either} THEN ${rowAndSealCheckExpr(t, 'OLD')} ELSE ${rowCheckExpr(t, 'OLD')} END` : rowAndSealCheckExpr(t, 'OLD');
  const when = (alias: string): string => (t.live ? ` WHEN ${liveExpr(t, alias)}` : '');
  return `
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_update BEFORE UPDATE OF ${cols} ON ${t.table}
    BEGIN SELECT ${checkUpdate}; END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_update AFTER UPDATE OF ${cols} ON ${t.table}
    BEGIN ${stamp} ${sealed ? resealSql(t, scopeExpr(t, 'OLD'), t.live ? either : '1') : ''} END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_insert AFTER INSERT ON ${t.table}
    BEGIN ${stamp} ${sealed ? resealSql(t, scopeExpr(t, 'NEW'), liveExpr(t, 'NEW')) : ''} END;
    ${
      sealed
        ? `CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_insert BEFORE INSERT ON ${t.table}${when('NEW')} BEGIN SELECT ${sealCheckExpr(t, 'NEW')}; END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_before_delete BEFORE DELETE ON ${t.table}${when('OLD')} BEGIN SELECT ${sealCheckExpr(t, 'OLD')}; END;
    CREATE TEMP TRIGGER IF NOT EXISTS ${t.table}_seal_after_delete AFTER DELETE ON ${t.table}${when('OLD')} BEGIN ${resealSql(t, scopeExpr(t, 'OLD'))} END;`
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
