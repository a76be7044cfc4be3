import { createHmac, timingSafeEqual } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../../src-shared/errors';
import { SEALED_TABLES_013, sealTriggersSql } from './migrations/013-state-seals';

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

export function useStateKey(databaseId: string, key: Buffer): void {
  keys.set(databaseId, key);
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

export function stateMac(key: Buffer, values: readonly unknown[]): Buffer {
  return createHmac('sha256', key).update(encodeStateValues(values)).digest();
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
  // (table, key, row_mac, ...columns): the row as stored is the row as the app last wrote it.
  db.function('custodian_state_check', { varargs: true, deterministic: false }, (table: unknown, pk: unknown, mac: unknown, ...columns: SqlValue[]) => {
    if (!sameMac(mac, stateMac(key(), ['row', table, ...columns]))) throw tampered(String(table), pk);
    return 1;
  });
  // The scope's rows are those its seal was written over, and the seals those the root was.
  db.function(
    'custodian_seal_check',
    { varargs: false, deterministic: false },
    (table: unknown, scope: unknown, sealMac: unknown, rows: unknown, rootMac: unknown, seals: unknown) => {
      const k = key();
      const name = `${String(table)}:${String(scope)}`;
      const scopeOk = rows === null ? sealMac === null : sameMac(sealMac, stateMac(k, ['scope', name, rows]));
      if (!scopeOk) throw tampered(String(table), scope === '' ? '*' : scope);
      if (!sameMac(rootMac, stateMac(k, ['root', seals ?? '']))) throw tampered('state_seals', '*');
      return 1;
    },
  );
}

/** The seals' TEMP triggers on this connection, once its schema has the sealed columns (v13+). */
export function installSealTriggers(db: BetterSqlite3.Database): void {
  // By the schema's version, not by what tables exist: a dropped seal table fails the open (closed).
  const version = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  if (version >= 13) db.exec(SEALED_TABLES_013.map(sealTriggersSql).join('\n'));
}
