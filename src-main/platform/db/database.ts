import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AppError, isAppError } from '../../../src-shared/errors';
import type { Config } from '../../config';
import { migrations, type Migration } from './migrations';
import { installSealTriggers, registerStateFunctions, sealNewDatabase, setConnectionDatabaseId } from './state-mac';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  file: string;
  synchronous: Config['database']['synchronous'];
  /**
   * The compiled better-sqlite3 addon to load. Node (tests, CLI) uses the package's own build;
   * the Electron app passes its separately rebuilt copy so neither build overwrites the other.
   */
  nativeBinding?: string | undefined;
  readonly?: boolean;
  /** The migrations to bring the file up to; all of them unless a test wants an older schema. */
  migrations?: readonly Migration[];
}

export function databaseFile(dataDir: string): string {
  return `${dataDir}/custodian.db`;
}

/**
 * Opens (creating, migrating) the database. A file that cannot be opened for writing (read-only,
 * immutable, a full disk, a directory that is not ours) is ERR-DATABASE-UNAVAILABLE: the CLI and
 * the desk say so in words instead of "something went wrong", and nothing was changed (issue 13,
 * item 3). The adapter's own text, which names paths, is not passed on.
 */
export function openDatabase(options: OpenDatabaseOptions): Database {
  try {
    return open(options);
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError('ERR-DATABASE-UNAVAILABLE');
  }
}

function open(options: OpenDatabaseOptions): Database {
  if (!options.readonly) keepPrivate(options.file);
  const db = new BetterSqlite3(options.file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`synchronous = ${options.synchronous}`);
  // The app, `custodian serve` and the CLI share one file (DESIGN.md "Several processes").
  db.pragma('busy_timeout = 5000');
  // Before the migrations: the state seals' triggers (migration 013) call these functions.
  registerStateFunctions(db);
  if (!options.readonly) {
    try {
      migrate(db, options.migrations);
      const id = databaseId(db);
      setConnectionDatabaseId(db, id);
      if (installSealTriggers(db)) sealNewDatabase(db, id);
    } catch (error) {
      db.close();
      throw error;
    }
  }
  return db;
}

/** The settings row holding the database's own id. */
const DATABASE_ID_KEY = 'database.id';

/**
 * Gives the database a random id of its own, once: when it is created, or first opened by a
 * version that knows about ids (issue 9). The keychain anchor is named after it, so data
 * directories that share a keychain service never read each other's anchor.
 */
export function databaseId(db: Database): string {
  const read = db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
  const existing = read.get(DATABASE_ID_KEY) as string | undefined;
  if (existing) return existing;
  // Two processes opening a new file at once: the first insert wins, and both read it back.
  db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run(DATABASE_ID_KEY, randomBytes(16).toString('hex'));
  return read.get(DATABASE_ID_KEY) as string;
}

const STICKY_BIT = 0o1000;

/**
 * The data directory is the approver's alone (issue 9): the directory 0700, the database and its
 * -wal and -shm files 0600. Modes given at creation pass through the umask, which only ever takes
 * bits away, and an older version left 0755 and 0644 behind: so each is created with its mode and
 * then set with chmod. SQLite creates -wal and -shm with the database file's own mode, so a 0600
 * database keeps the files it creates later 0600 too.
 */
function keepPrivate(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  // A shared directory such as /tmp (sticky) or one owned by someone else is left as it is: the
  // files in it are still private.
  if ((stat.mode & STICKY_BIT) === 0 && stat.uid === process.getuid?.()) chmodSync(dir, 0o700);
  closeSync(openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, 0o600);
    } catch (error) {
      // -wal and -shm exist only while a connection has the database open.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Applies every migration newer than the database's, each in its own transaction. */
export function migrate(db: Database, list: readonly Migration[] = migrations): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  let applied = 0;
  for (const migration of list) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    }).immediate();
    applied += 1;
  }
  return applied;
}

export function schemaVersion(db: Database): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}
