import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../../src-shared/errors';
import { EPOCH_SCOPE, ROOT_RESEAL_SQL, SEALED_TABLES_013, resealSql, sealTriggersSql, type SealedTable } from './migrations/013-state-seals';
import { LIVE_SEAL_NAMES, LIVE_SEALED_TABLES, SEALED_TABLES_014 } from './migrations/014-live-seals';

/**
 * The SQL functions behind the state seals (migration 013), registered on every connection the
 * app opens. The key comes from the keychain (StateSeal); until it is here every sealed write and
 * check fails closed with ERR-KEYCHAIN-UNAVAILABLE. The sqlite3 tool has none of these functions,
 * so it cannot write a sealed row while the triggers are in place.
 */

/** The keys loaded in this process, by database id: every connection to that database shares it. */
const keys = new Map<string, Buffer>();
/** Each connection's database id, learnt once it is known (the functions may not query). */
const ids = new WeakMap<BetterSqlite3.Database, { id: string | undefined }>();

/**
 * The lowest state epoch each database may show, by database id: the epoch the keychain held, or
 * this process saw committed and anchored. A file below it is an older copy put back (issue 13).
 */
const floors = new Map<string, bigint>();

export function raiseStateFloor(databaseId: string, epoch: bigint): void {
  if (epoch > (floors.get(databaseId) ?? 0n)) floors.set(databaseId, epoch);
}

export function stateFloor(databaseId: string): bigint {
  return floors.get(databaseId) ?? 0n;
}

/** Forgets the floor (a re-seal after a restore from backup starts the epoch anew). */
export function resetStateFloor(databaseId: string): void {
  floors.delete(databaseId);
}

/** The epoch as the seals store it: its decimal digits; none yet is 0. */
export function epochOf(blob: unknown): bigint {
  if (!Buffer.isBuffer(blob)) return 0n;
  const text = blob.toString('latin1');
  return /^\d{1,19}$/.test(text) ? BigInt(text) : 0n;
}

/** SQLite's hex() of a blob. */
function hexOf(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('hex').toUpperCase() : '';
}

/** Orders names as SQLite's BINARY collation does: by their UTF-8 bytes. */
function byBytes(a: readonly [string, string], b: readonly [string, string]): number {
  return Buffer.compare(Buffer.from(a[0], 'utf8'), Buffer.from(b[0], 'utf8'));
}

/** Keys made in this process for a database with nothing sealed, not yet confirmed in the keychain. */
const unstored = new Map<string, Buffer>();

export function useStateKey(databaseId: string, key: Buffer): void {
  keys.set(databaseId, key);
}

export function unstoredStateKey(databaseId: string): Buffer | undefined {
  return unstored.get(databaseId);
}

export function stateKeyStored(databaseId: string): void {
  unstored.delete(databaseId);
}

export function stateKeyFor(databaseId: string): Buffer | undefined {
  return keys.get(databaseId);
}

export function setConnectionDatabaseId(db: BetterSqlite3.Database, databaseId: string): void {
  const slot = ids.get(db);
  if (slot) slot.id = databaseId;
}

type SqlValue = null | number | bigint | string | Buffer;

/** One unambiguous byte string for a list of SQLite values: each tagged, text length-prefixed. */
export function encodeStateValues(values: readonly unknown[]): string {
  return values
    .map((v) => {
      if (v === null || v === undefined) return 'n';
      if (typeof v === 'number' || typeof v === 'bigint') return `i${String(v)}`;
      if (typeof v === 'string') return `s${v.length}:${v}`;
      if (Buffer.isBuffer(v)) return `b${v.toString('hex')}`;
      throw new AppError('ERR-INTERNAL');
    })
    .join('|');
}

/**
 * The MACs computed last, by key and input (issue 13: the seals' cost). A change checks the row and
 * the seals its previous change wrote, and writes the scope seal's MAC twice in one statement:
 * answered from here, those are a map lookup instead of an HMAC each. The MAC is a function of the
 * key and the text alone, so a hit is exactly the HMAC it stands for; nothing is trusted because it
 * was seen before. Bounded in entries and in text size (a doctor walk over a large table passes by).
 */
const MEMO_ENTRIES = 256;
const MEMO_TEXT_LIMIT = 16_384;
const memos = new WeakMap<Buffer, Map<string, Buffer>>();

export function stateMac(key: Buffer, values: readonly unknown[]): Buffer {
  const text = encodeStateValues(values);
  if (text.length > MEMO_TEXT_LIMIT) return createHmac('sha256', key).update(text).digest();
  let memo = memos.get(key);
  if (!memo) {
    memo = new Map();
    memos.set(key, memo);
  }
  const hit = memo.get(text);
  if (hit) {
    // Most recently used last: the oldest entry is the one dropped.
    memo.delete(text);
    memo.set(text, hit);
    return hit;
  }
  const mac = createHmac('sha256', key).update(text).digest();
  memo.set(text, mac);
  if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  return mac;
}

export function sameMac(stored: unknown, expected: Buffer): boolean {
  return Buffer.isBuffer(stored) && stored.length === expected.length && timingSafeEqual(stored, expected);
}

export function tampered(table: string, row: unknown): AppError {
  return new AppError('ERR-STATE-TAMPERED', { table, row: typeof row === 'string' || typeof row === 'number' ? row : String(row) });
}

export function registerStateFunctions(db: BetterSqlite3.Database): void {
  const slot: { id: string | undefined } = { id: undefined };
  ids.set(db, slot);
  const key = (): Buffer => {
    const k = slot.id === undefined ? undefined : keys.get(slot.id);
    if (!k) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    return k;
  };
  db.function('custodian_state_mac', { varargs: true, deterministic: false }, (...values: SqlValue[]) => stateMac(key(), values));
  // (seal name, its rows, the other seals as [[name, hex]], the next epoch): the scope's new seal
  // and the root over every seal with it and the epoch, side by side (64 bytes), in one call.
  db.function('custodian_reseal', { varargs: false, deterministic: false }, (name: unknown, rows: unknown, others: unknown, epoch: unknown) => {
    const k = key();
    const seal = stateMac(k, ['scope', name, rows ?? '']);
    const parsed: unknown = JSON.parse(typeof others === 'string' ? others : '[]');
    if (!Array.isArray(parsed)) throw new AppError('ERR-INTERNAL');
    const list = parsed.map((e): [string, string] => (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' ? [e[0], e[1]] : ['', '']));
    list.push([String(name), hexOf(seal)], [EPOCH_SCOPE, hexOf(epoch)]);
    list.sort(byBytes);
    const root = stateMac(k, ['root', list.map(([n, h]) => `${n}=${h}`).join(',')]);
    return Buffer.concat([seal, root]);
  });
  // (table, key, row_mac, ...columns): the row as stored is the row as the app last wrote it.
  db.function('custodian_state_check', { varargs: true, deterministic: false }, (table: unknown, pk: unknown, mac: unknown, ...columns: SqlValue[]) => {
    if (!sameMac(mac, stateMac(key(), ['row', table, ...columns]))) throw tampered(String(table), pk);
    return 1;
  });
  // The scope's rows are those its seal was written over, and the seals those the root was.
  const sealCheck = (table: unknown, scope: unknown, sealMac: unknown, rows: unknown, rootMac: unknown, seals: unknown, epoch: unknown): number => {
    const k = key();
    const name = `${String(table)}:${String(scope)}`;
    // A scope with no rows has no seal (never sealed, or emptied before seals were kept for empty
    // scopes), or its seal over no rows; the root says whether that seal should be there.
    const scopeOk = rows === null ? sealMac === null || sameMac(sealMac, stateMac(k, ['scope', name, ''])) : sameMac(sealMac, stateMac(k, ['scope', name, rows]));
    if (!scopeOk) throw tampered(String(table), scope === '' ? '*' : scope);
    if (!sameMac(rootMac, stateMac(k, ['root', seals ?? '']))) throw tampered('state_seals', '*');
    // The whole state put back from an older copy of the file: every seal matches, but its epoch
    // is below the one the keychain holds.
    if (slot.id === undefined || epochOf(epoch) < stateFloor(slot.id)) throw tampered('state_seals', EPOCH_SCOPE);
    return 1;
  };
  db.function('custodian_seal_check', { varargs: false, deterministic: false }, sealCheck);
  // The row check and the seal check before an update, in one call.
  db.function(
    'custodian_check',
    { varargs: true, deterministic: false },
    (table: unknown, pk: unknown, mac: unknown, scope: unknown, sealMac: unknown, rows: unknown, rootMac: unknown, seals: unknown, epoch: unknown, ...columns: SqlValue[]) => {
      if (!sameMac(mac, stateMac(key(), ['row', table, ...columns]))) throw tampered(String(table), pk);
      return sealCheck(table, scope, sealMac, rows, rootMac, seals, epoch);
    },
  );
}

/** What the schema at `version` seals: none before migration 013. */
export function sealedTablesAt(version: number): readonly SealedTable[] {
  if (version >= 14) return SEALED_TABLES_014;
  return version >= 13 ? SEALED_TABLES_013 : [];
}

function versionOf(db: BetterSqlite3.Database): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

/** The seals' TEMP triggers on this connection, once its schema has the sealed columns (v13+). */
export function installSealTriggers(db: BetterSqlite3.Database): boolean {
  // By the schema's version, not by what tables exist: a dropped seal table fails the open (closed).
  const tables = sealedTablesAt(versionOf(db));
  db.exec(tables.map(sealTriggersSql).join('\n'));
  return tables.length > 0;
}

/** Whether anything in this database was ever sealed, or is waiting to be (rows of a sealed table). */
export function hasSealedState(db: BetterSqlite3.Database, options: { rows: boolean }): boolean {
  const any = (sql: string): boolean => db.prepare(sql).get() !== undefined;
  // The root alone, over no seal, protects nothing: a new database's, which its first process may
  // not have put in the keychain yet (another process opening it then makes the key instead). So
  // do the live sets' seals over no rows, written with it (migration 014), and the epoch they moved.
  const empty = ["'*'", `'${EPOCH_SCOPE}'`, ...LIVE_SEAL_NAMES.map((n) => `'${n}'`)].join(', ');
  if (any(`SELECT 1 FROM state_seals WHERE scope NOT IN (${empty}) LIMIT 1`)) return true;
  const rows = options.rows ? '' : 'WHERE row_mac IS NOT NULL';
  if (SEALED_TABLES_013.some((t) => any(`SELECT 1 FROM ${t.table} ${rows} LIMIT 1`))) return true;
  return any("SELECT 1 FROM audit_log WHERE event = 'state_sealed' LIMIT 1");
}

/**
 * The seals of a database with nothing sealed yet, written (again) under the key now in memory:
 * the live sets' seals over no rows (v14+), then the root over them.
 */
export function sealEmptyDatabase(db: BetterSqlite3.Database): void {
  if (versionOf(db) >= 14) for (const t of LIVE_SEALED_TABLES) db.prepare(resealSql(t, "''")).run();
  db.exec(ROOT_RESEAL_SQL);
}

/**
 * A new database (nothing sealed, no row to adopt) gets its key at once, in memory, and its empty
 * root seal: every connection can then seal from its first write. StateSeal puts the key in the
 * keychain (`ready`); a database that already holds state waits for the keychain's key instead.
 */
export function sealNewDatabase(db: BetterSqlite3.Database, databaseId: string): void {
  if (keys.has(databaseId) || hasSealedState(db, { rows: true })) return;
  const key = randomBytes(32);
  keys.set(databaseId, key);
  unstored.set(databaseId, key);
  // An empty root left by another process that opened the new database first stays: its key may
  // be in the keychain already (StateSeal then takes that one).
  db.transaction(() => {
    if (db.prepare("SELECT 1 FROM state_seals WHERE scope = '*'").get() === undefined) sealEmptyDatabase(db);
  }).immediate();
}

/** Whether the root seal matches the scope seals under `key`. */
export function rootMatches(db: BetterSqlite3.Database, key: Buffer): boolean {
  const seals = db.prepare("SELECT scope, mac FROM state_seals WHERE scope <> '*' ORDER BY scope").all() as { scope: string; mac: Buffer }[];
  const root = db.prepare("SELECT mac FROM state_seals WHERE scope = '*'").pluck().get();
  return sameMac(root, stateMac(key, ['root', seals.map((r) => `${r.scope}=${r.mac.toString('hex').toUpperCase()}`).join(',')]));
}
