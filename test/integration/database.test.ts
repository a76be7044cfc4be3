import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion, type Database } from '../../src-main/platform/db/database';
import { migrations } from '../../src-main/platform/db/migrations';
import { FactorsRepository } from '../../src-main/platform/db/repositories/factors.repository';

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

  it.each(migrations.slice(1).map((m) => [m.version - 1, m.version] as const))(
    'migrates a version-%i database to %i and on to the latest, keeping its rows',
    (from) => {
      const file = freshFile();
      // A database as version `from` left it: only its migrations, then a row it wrote.
      const old = openDatabase({ file, synchronous: 'FULL', migrations: migrations.filter((m) => m.version <= from) });
      old.prepare("INSERT INTO settings (key, value) VALUES ('language', 'tr')").run();
      old.close();
      const db = openDatabase({ file, synchronous: 'FULL' });
      dbs.push(db);
      expect(schemaVersion(db)).toBe(latest);
      expect(db.prepare("SELECT value FROM settings WHERE key = 'language'").pluck().get()).toBe('tr');
    },
  );
});

describe('the data directory on disk (issue 9)', () => {
  const mode = (path: string): number => statSync(path).mode & 0o777;
  let umask: number | undefined;
  afterEach(() => {
    if (umask !== undefined) process.umask(umask);
    umask = undefined;
  });

  it('is created 0700, with the database, its WAL and its SHM 0600, whatever the umask', () => {
    // The most permissive umask: nothing may rely on it to take bits away.
    umask = process.umask(0);
    const file = freshFile();
    const db = openDatabase({ file, synchronous: 'FULL' });
    dbs.push(db);
    db.prepare("INSERT INTO settings (key, value) VALUES ('language', 'tr')").run();
    expect(mode(dirname(file))).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect({ path, mode: mode(path) }).toEqual({ path, mode: 0o600 });
  });

  it('tightens a directory and files that an older version left readable', () => {
    umask = process.umask(0o022);
    const file = freshFile();
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    chmodSync(dirname(file), 0o755);
    // An older version's database, still open elsewhere, so its -wal and -shm are on disk too.
    const old = new BetterSqlite3(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path)).toBe(0o644);

    const db = openDatabase({ file, synchronous: 'FULL' });
    dbs.push(db);
    old.close();
    expect(mode(dirname(file))).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect({ path, mode: mode(path) }).toEqual({ path, mode: 0o600 });
  });
});

describe('migration 005 (issue 9: one attempt budget per profile)', () => {
  it('folds the per-source attempt counts into the profile’s one, keeping a block in force', () => {
    const file = freshFile();
    const old = openDatabase({ file, synchronous: 'FULL', migrations: migrations.filter((m) => m.version < 5) });
    const put = old.prepare('INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES (?, ?, ?, ?, ?)');
    put.run('p_a|desktop', 1000, 5, 1, 90_000);
    put.run('p_a|cli', 2000, 3, 0, 0);
    put.run('p_b|cli', 5000, 2, 0, 0);
    old.close();
    const db = openDatabase({ file, synchronous: 'FULL' });
    dbs.push(db);
    expect(db.prepare('SELECT key, window_start AS w, failures AS f, lockouts AS l, blocked_until AS b FROM mfa_attempts ORDER BY key').all()).toEqual([
      { key: 'p_a', w: 1000, f: 8, l: 1, b: 90_000 },
      { key: 'p_b', w: 5000, f: 2, l: 0, b: 0 },
    ]);
  });
});

describe('migration 006 (issue 10: each factor keeps its type’s parameters with its type)', () => {
  const objects = (db: Database) =>
    db.prepare("SELECT type, name, tbl_name AS tbl FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();

  it('rebuilds the factors table without the TOTP-only CHECK, keeping every row, index and trigger', () => {
    const file = freshFile();
    const old = openDatabase({ file, synchronous: 'FULL', migrations: migrations.filter((m) => m.version < 6) });
    old.prepare("INSERT INTO profiles (id, display_name, principal, role, mfa_enabled, created_at) VALUES ('p_a', 'Alice', 'alice@corp', 'admin', 1, '2026-01-01T00:00:00.000Z')").run();
    const put = old.prepare(
      `INSERT INTO factors (id, profile_id, type, label, state, digits, period, algorithm, created_at, pending_expires_at, secret_shown,
         confirmed_at, disabled_at, last_used_step, last_used_at, enrolled_with, recovery_until)
       VALUES (?, 'p_a', 'totp', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    put.run('f_active', 'Phone', 'active', 6, 30, 'SHA1', '2026-01-01T00:00:01.000Z', null, 1, '2026-01-01T00:00:02.000Z', null, 58_900_000, '2026-01-02T00:00:00.000Z', 'authenticator', null);
    put.run('f_recovery', 'Spare: key', 'active', 8, 60, 'SHA512', '2026-01-01T00:00:03.000Z', null, 0, '2026-01-01T00:00:04.000Z', null, 29_000_000, null, 'recovery', 1_767_312_000_000);
    put.run('f_pending', 'Tablet', 'pending', 8, 30, 'SHA256', '2026-01-01T00:00:05.000Z', 1_767_225_600_000, 0, null, null, -1, null, 'setup', null);
    put.run('f_gone', 'Old phone', 'disabled', 6, 30, 'SHA1', '2026-01-01T00:00:06.000Z', null, 1, '2026-01-01T00:00:07.000Z', '2026-01-03T00:00:00.000Z', 12, null, 'authenticator', null);
    const before = old.prepare('SELECT * FROM factors ORDER BY id').all() as Record<string, unknown>[];
    const schemaBefore = objects(old);
    old.close();

    const db = openDatabase({ file, synchronous: 'FULL', migrations: migrations.filter((m) => m.version <= 6) });
    dbs.push(db);
    expect(schemaVersion(db)).toBe(6);
    // Every column but the three TOTP ones comes through as it was; those three are in `params`.
    const after = db.prepare('SELECT * FROM factors ORDER BY id').all() as Record<string, unknown>[];
    expect(after).toEqual(
      before.map(({ digits, period, algorithm, ...rest }) => ({ ...rest, params: JSON.stringify({ digits, period, algorithm }) })),
    );
    // The same tables, indexes and triggers (the audit log's append-only ones included).
    expect(objects(db)).toEqual(schemaBefore);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'factors_profile'").pluck().get()).toBe('CREATE INDEX factors_profile ON factors (profile_id, state)');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    // The app reads them back as before, typed by their parameters.
    const repo = new FactorsRepository(db);
    expect(repo.get('p_a', 'f_recovery')).toMatchObject({ type: 'totp', digits: 8, period: 60, algorithm: 'SHA512', enrolledWith: 'recovery', lastUsedStep: 29_000_000 });
    expect(repo.active('p_a').map((f) => f.id)).toEqual(['f_active', 'f_recovery']);
  });

  it('takes another type with its own parameters, and still refuses TOTP parameters the app cannot verify', () => {
    const db = openDatabase({ file: freshFile(), synchronous: 'FULL' });
    dbs.push(db);
    db.prepare("INSERT INTO profiles (id, display_name, principal, role, mfa_enabled, created_at) VALUES ('p_a', 'Alice', 'alice@corp', 'admin', 1, 'x')").run();
    const put = db.prepare("INSERT INTO factors (id, profile_id, type, params, label, state, created_at) VALUES (?, 'p_a', ?, ?, 'x', 'pending', 'x')");
    // Where 005's CHECK (type IN ('totp')) refused it, an SMS factor now fits (its method comes later).
    expect(() => put.run('f_sms', 'sms', JSON.stringify({ phone: '+90 555 000 00 00' }))).not.toThrow();
    expect(() => put.run('f_7', 'totp', JSON.stringify({ digits: 7, period: 30, algorithm: 'SHA1' }))).toThrow(/CHECK/);
    expect(() => put.run('f_md5', 'totp', JSON.stringify({ digits: 6, period: 30, algorithm: 'MD5' }))).toThrow(/CHECK/);
    expect(() => put.run('f_none', 'totp', '{}')).toThrow(/CHECK/);
    expect(() => put.run('f_text', 'totp', 'not json')).toThrow(/CHECK/);
    // A row this version has no method for is not guessed at: reading it fails closed.
    expect(() => new FactorsRepository(db).get('p_a', 'f_sms')).toThrow(expect.objectContaining({ code: 'ERR-INTERNAL' }));
  });
});
