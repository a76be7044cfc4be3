import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion, type Database } from '../../src-main/platform/db/database';
import { migrations } from '../../src-main/platform/db/migrations';

// Versions need not be contiguous (002 belongs to another branch until it merges): the schema is
// at the newest migration's version.
const latest = migrations.at(-1)!.version;
const dirs: string[] = [];
const dbs: Database[] = [];
function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-db-'));
  dirs.push(dir);
  return join(dir, 'nested', 'custodian.db');
}
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the database', () => {
  it('opens in WAL with foreign keys, full sync and every migration recorded', () => {
    const db = openDatabase({ file: freshFile(), synchronous: 'FULL' });
    dbs.push(db);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(schemaVersion(db)).toBe(latest);
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(recorded).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
  });

  it('applies nothing twice when opened again', () => {
    const file = freshFile();
    dbs.push(openDatabase({ file, synchronous: 'FULL' }));
    dbs[0]?.close();
    const again = openDatabase({ file, synchronous: 'FULL' });
    dbs.push(again);
    expect(migrate(again)).toBe(0);
    expect(schemaVersion(again)).toBe(latest);
  });

  it('rolls a failing migration back whole and keeps the version it had', () => {
    const db = openDatabase({ file: freshFile(), synchronous: 'FULL' });
    dbs.push(db);
    const broken = { version: 999, name: 'broken', up: (d: Database) => d.exec('CREATE TABLE half (x INTEGER); SELECT no_such_function();') };
    expect(() => migrate(db, [...migrations, broken])).toThrow();
    expect(schemaVersion(db)).toBe(latest);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
  });

  it('migrates a version-1 database to the gateway schema, keeping its audit rows', () => {
    const file = freshFile();
    openDatabase({ file, synchronous: 'FULL' }).close();
    // Rebuild as a v1 file: only the first migration, then a row written by that version.
    const v1 = new BetterSqlite3(file);
    v1.exec('DROP TABLE restore_requests; DROP TABLE integrations; DELETE FROM schema_migrations WHERE version > 1;');
    v1.prepare("INSERT INTO settings (key, value) VALUES ('language', 'tr')").run();
    v1.close();
    const db = openDatabase({ file, synchronous: 'FULL' });
    dbs.push(db);
    expect(schemaVersion(db)).toBe(latest);
    expect(db.prepare("SELECT value FROM settings WHERE key = 'language'").pluck().get()).toBe('tr');
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('integrations', 'restore_requests')").pluck().get()).toBe(2);
  });
});
