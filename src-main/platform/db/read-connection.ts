import BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database';

/**
 * A read-only connection to a database another connection already opened and migrated, for a
 * worker thread that only reads (the audit walk's workers, parallel-walk.ts). It skips what
 * `openDatabase` loads for writers (the migrations, the state seals' functions and triggers), so
 * the worker starts sooner: a walk's worker threads start while the main thread already walks.
 */
export function openReadConnection(file: string, nativeBinding: string | undefined): Database {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  // The same wait as every other connection on the shared file (DESIGN.md "Several processes").
  db.pragma('busy_timeout = 5000');
  return db;
}
