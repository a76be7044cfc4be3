import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKUP_STEP } from '../../src-shared/domain/policy';
import { createCustodian } from '../../src-main/composition';
import { databaseFile, openDatabase } from '../../src-main/platform/db/database';
import { migrations } from '../../src-main/platform/db/migrations';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { stateKeyAccount } from '../../src-main/services/integrity/state-seal';
import { runDoctor } from '../../src-main/cli/doctor';
import { message } from '../../src-main/cli/cli-support';
import { oathtool } from '../fixtures/otp';
import { failsWith } from '../fixtures/fails-with';
import { runCli } from '../fixtures/run-cli';
import { sqlite } from '../fixtures/sqlite-cli';
import { stepUp } from '../fixtures/step-up';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

const DESKTOP: MfaContext = { source: 'desktop' };
let t: TempCustodian;

beforeEach(() => {
  t = tempCustodian({ clock: 'following' });
});
afterEach(async () => {
  await t.remove();
});

async function enrolled() {
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
  const confirmed = await mfa.confirmEnrollment(e.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
  return { secret, factorId: e.factor.id, profileId: mfa.requireProfile().id, backupCodes: confirmed.backupCodes ?? [] };
}

/**
 * Every table, digested: what "nothing changed" means (the audit log included). `skipSlot`: a check
 * takes its rate-limit slot before it reads anything (README "MFA rate limit"), so a refused check
 * counts one attempt, as every refused check does: the attempt row and its seal (with the root and
 * the state epoch that move with it) are left out then.
 */
function digest(skipSlot = false): Record<string, string> {
  const tables = sqlite(t.dbFile, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").trim().split('\n');
  const where = (name: string): string => (skipSlot && name === 'state_seals' ? "WHERE scope NOT IN ('*', '#epoch', 'mfa_attempts:')" : '');
  return Object.fromEntries(
    tables
      .filter((name) => !(skipSlot && name === 'mfa_attempts'))
      .map((name) => [name, createHash('sha256').update(sqlite(t.dbFile, `SELECT * FROM "${name}" ${where(name)} ORDER BY rowid`)).digest('hex')]),
  );
}

/** The doctor's state check, as `custodian doctor` runs it. */
async function doctorSeals(): Promise<{ ok: boolean; detail: string; code?: string }> {
  const checks = await runDoctor(t.custodian, message);
  const check = checks.find((c) => c.name === 'state-seals');
  if (!check) throw new Error('no state-seals check');
  return check;
}

describe('edits made to the database file with the sqlite3 tool (issue 13, item 4)', () => {
  it('refuses a used backup code set back to unused, changes nothing, and doctor names the row', async () => {
    const { backupCodes, profileId } = await enrolled();
    const used = backupCodes[0] ?? '';
    const unlock = { allowBackup: true, purpose: 'test' } as const;
    await t.custodian.mfa.verify(used, DESKTOP, unlock);
    await failsWith(t.custodian.mfa.verify(used, DESKTOP, unlock), 'ERR-MFA-INVALID');
    expect((await doctorSeals()).ok).toBe(true);

    const id = sqlite(t.dbFile, `SELECT id FROM backup_codes WHERE profile_id = '${profileId}' AND used_at IS NOT NULL`).trim();
    sqlite(t.dbFile, `UPDATE backup_codes SET used_at = NULL WHERE id = ${id}`);
    const before = digest(true);
    const refused = await failsWith(t.custodian.mfa.verify(used, DESKTOP, unlock), 'ERR-STATE-TAMPERED');
    expect(refused.details).toEqual({ table: 'backup_codes', row: Number(id) });
    expect(digest(true)).toEqual(before);
    const check = await doctorSeals();
    expect(check).toMatchObject({ ok: false, code: 'ERR-STATE-TAMPERED' });
    expect(check.detail).toContain(`backup_codes ${id}`);
  });

  it('refuses a used backup code written back whole, with the MAC it had before its use (a replay)', async () => {
    const { backupCodes, profileId } = await enrolled();
    const code = backupCodes[1] ?? '';
    const rows = sqlite(t.dbFile, `SELECT id, hex(row_mac) FROM backup_codes WHERE profile_id = '${profileId}' ORDER BY id`).trim().split('\n');
    const unlock = { allowBackup: true, purpose: 'test' } as const;
    await t.custodian.mfa.verify(code, DESKTOP, unlock);
    const [id] = sqlite(t.dbFile, `SELECT id FROM backup_codes WHERE used_at IS NOT NULL`).trim().split('\n');
    const old = rows.find((r) => r.startsWith(`${id}|`))?.split('|')[1];
    sqlite(t.dbFile, `UPDATE backup_codes SET used_at = NULL, row_mac = X'${old}' WHERE id = ${id}`);
    const before = digest(true);
    await failsWith(t.custodian.mfa.verify(code, DESKTOP, unlock), 'ERR-STATE-TAMPERED');
    expect(digest(true)).toEqual(before);
    expect((await doctorSeals()).detail).toContain(`backup_codes ${profileId}`);
  });

  it('refuses a TOTP code replayed after its factor replay floor was reset (last_used_step = -1)', async () => {
    const { secret, factorId } = await enrolled();
    const code = oathtool(secret, t.clock.now());
    await t.custodian.mfa.verify(code, DESKTOP, { allowBackup: false, purpose: 'test' });
    await failsWith(t.custodian.mfa.verify(code, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-REPLAYED');

    // As another process would see the file: this one keeps the floor it saw in memory too.
    t.reopen();
    sqlite(t.dbFile, `UPDATE factors SET last_used_step = -1 WHERE id = '${factorId}'`);
    const before = digest();
    const refused = await failsWith(t.custodian.mfa.verify(code, DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-STATE-TAMPERED');
    expect(refused.details).toEqual({ table: 'factors', row: factorId });
    expect(digest()).toEqual(before);
    expect((await doctorSeals()).detail).toContain(`factors ${factorId}`);
  });

  it('refuses to count on a rate limit reset by deleting the attempt row, and names it', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    for (let i = 0; i < 5; i += 1) await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    await failsWith(mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-RATE-LIMITED');

    sqlite(t.dbFile, 'DELETE FROM mfa_attempts');
    const before = digest();
    const refused = await failsWith(mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-STATE-TAMPERED');
    expect(refused.details).toEqual({ table: 'mfa_attempts', row: '*' });
    expect(digest()).toEqual(before);
    expect((await doctorSeals()).detail).toContain('mfa_attempts *');
  });

  it('refuses a rate limit reset by deleting the attempt row and its seal: the root seal no longer matches', async () => {
    await enrolled();
    const { mfa } = t.custodian;
    await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    sqlite(t.dbFile, "DELETE FROM mfa_attempts; DELETE FROM state_seals WHERE scope = 'mfa_attempts:'");
    const refused = await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-STATE-TAMPERED');
    expect(refused.details).toEqual({ table: 'state_seals', row: '*' });
    expect((await doctorSeals()).detail).toContain('state_seals *');
  });

  it('refuses a rate limit lowered in place (failures = 0, blocked_until = 0)', async () => {
    const { secret } = await enrolled();
    const { mfa } = t.custodian;
    for (let i = 0; i < 5; i += 1) await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-MFA-INVALID');
    sqlite(t.dbFile, 'UPDATE mfa_attempts SET failures = 0, lockouts = 0, blocked_until = 0');
    await failsWith(mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: true, purpose: 'test' }), 'ERR-STATE-TAMPERED');
  });

  it('refuses a used step-up grant made usable again', async () => {
    const { secret } = await enrolled();
    const { chain } = t.custodian;
    await stepUp(t.custodian, 'test:grant', () => oathtool(secret, t.clock.now()), { sensitivity: 'low' });
    expect(chain.consumeGrant('test:grant')).toBe(true);
    sqlite(t.dbFile, 'UPDATE step_up_grants SET used_at = NULL');
    await failsWith(() => chain.consumeGrant('test:grant'), 'ERR-STATE-TAMPERED');
    expect((await doctorSeals()).detail).toContain('step_up_grants');
  });

  it('refuses a backup code stood in for a chain step after its row was re-enabled', async () => {
    const { backupCodes } = await enrolled();
    const code = backupCodes[2] ?? '';
    const first = t.custodian.chain.start('test:backup', 'low', DESKTOP);
    await t.custodian.chain.verifyStep(first.attemptId, BACKUP_STEP, code, DESKTOP);
    sqlite(t.dbFile, 'UPDATE backup_codes SET used_at = NULL');
    const second = t.custodian.chain.start('test:backup2', 'low', DESKTOP);
    await failsWith(t.custodian.chain.verifyStep(second.attemptId, BACKUP_STEP, code, DESKTOP), 'ERR-STATE-TAMPERED');
  });
});

describe('normal use with the seals', () => {
  it('keeps doctor OK through enrollment, codes, backup codes, failures and chains', async () => {
    const { secret, backupCodes } = await enrolled();
    const { mfa } = t.custodian;
    await mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: false, purpose: 'test' });
    await failsWith(mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
    await mfa.verify(backupCodes[3] ?? '', DESKTOP, { allowBackup: true, purpose: 'test' });
    t.clock.advanceSeconds(30);
    await stepUp(t.custodian, 'test:ok', () => oathtool(secret, t.clock.now()), { sensitivity: 'low' });
    expect(t.custodian.chain.consumeGrant('test:ok')).toBe(true);
    t.reopen();
    await expect(doctorSeals()).resolves.toMatchObject({ ok: true });
    expect(sqlite(t.dbFile, 'SELECT count(*) FROM factors WHERE row_mac IS NULL UNION ALL SELECT count(*) FROM backup_codes WHERE row_mac IS NULL')).toBe('0\n0\n');
  });

  it('keeps the key in the keychain under the database own id, never in the file', async () => {
    const { mfa } = t.custodian;
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
    await t.custodian.integrity.ready();
    const id = sqlite(t.dbFile, "SELECT value FROM settings WHERE key = 'database.id'").trim();
    const key = await t.custodian.secrets.get(stateKeyAccount(id));
    expect(Buffer.from(key ?? '', 'base64')).toHaveLength(32);
    await t.close();
    const hex = Buffer.from(key ?? '', 'base64').toString('hex');
    expect(sqlite(t.dbFile, `SELECT count(*) FROM state_seals WHERE instr(lower(hex(mac)), '${hex}') > 0`).trim()).toBe('0');
  });
});

describe('databases from before the seals (migration 013)', () => {
  it('adopts the old rows once at first start, with an audit row, and refuses an edit made after', async () => {
    await t.close();
    const dir = t.dir;
    // A database at schema 12 with a factor, backup codes and an attempt row, as the last version left it.
    const { rmSync } = await import('node:fs');
    for (const f of ['', '-wal', '-shm']) rmSync(`${databaseFile(dir)}${f}`, { force: true });
    const v12 = openDatabase({ file: databaseFile(dir), synchronous: 'FULL', migrations: migrations.filter((m) => m.version <= 12) });
    v12.exec(`
      INSERT INTO profiles (id, display_name, principal, role, mfa_enabled, created_at) VALUES ('p1', 'Alice', 'alice@corp', 'admin', 1, '2026-01-01');
      INSERT INTO factors (id, profile_id, type, params, label, state, created_at, last_used_step) VALUES ('f1', 'p1', 'totp', '{"digits":6,"period":30,"algorithm":"SHA1"}', 'Phone', 'active', '2026-01-01', 5);
      INSERT INTO backup_codes (profile_id, mac, hint, created_at, expires_at) VALUES ('p1', 'aa', 'A…B', '2026-01-01', 9999999999999), ('p1', 'bb', 'C…D', '2026-01-01', 9999999999999);
      INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES ('p1', 1, 3, 0, 0);
    `);
    v12.close();

    const upgraded = createCustodian({ config: t.config, clock: t.clock, db: openDatabase({ file: databaseFile(dir), synchronous: 'FULL' }), secrets: t.custodian.secrets });
    await upgraded.integrity.ready();
    const sealed = upgraded.audit.list(10).entries.filter((e) => e.event === 'state_sealed');
    expect(sealed).toHaveLength(1);
    expect(sealed[0]?.data).toMatchObject({ rows: 4, factors: 1, backup_codes: 2, mfa_attempts: 1 });
    expect(sqlite(databaseFile(dir), 'SELECT count(*) FROM factors WHERE row_mac IS NULL').trim()).toBe('0');
    expect(await upgraded.integrity.findings()).toEqual([]);
    await upgraded.dispose();

    // A second start adopts nothing more; an edit now is caught.
    sqlite(databaseFile(dir), "UPDATE factors SET last_used_step = -1 WHERE id = 'f1'");
    const again = createCustodian({ config: t.config, clock: t.clock, db: openDatabase({ file: databaseFile(dir), synchronous: 'FULL' }), secrets: t.custodian.secrets });
    await again.integrity.ready();
    expect(again.audit.list(10).entries.filter((e) => e.event === 'state_sealed')).toHaveLength(1);
    expect(await again.integrity.findings()).toEqual([{ table: 'factors', row: 'f1' }]);
    await again.dispose();
  });

  it('never re-adopts: stripping every MAC and seal is refused, not blessed, in this process and the next', async () => {
    const { secret } = await enrolled();
    await t.custodian.integrity.ready();
    await t.close();
    sqlite(t.dbFile, 'UPDATE factors SET row_mac = NULL, last_used_step = -1; UPDATE backup_codes SET row_mac = NULL, used_at = NULL; DELETE FROM mfa_attempts; DELETE FROM state_seals');
    t.reopen();
    await failsWith(t.custodian.mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-STATE-TAMPERED');
    expect(await t.custodian.integrity.findings()).toContainEqual({ table: 'state_seals', row: '*' });
    await t.close();
    // A new process finds nothing sealed and the keychain's key: it makes no new key of its own.
    const env = { CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service, CUSTODIAN_GATEWAY_PORT: String(20000 + Math.floor(Math.random() * 20000)) };
    const report = JSON.parse(runCli(['doctor', '--json'], env).stdout) as { checks: { name: string; ok: boolean; code?: string }[] };
    expect(report.checks.find((c) => c.name === 'state-seals')).toMatchObject({ ok: false, code: 'ERR-STATE-TAMPERED' });
  });
});

describe('custodian doctor (the built CLI)', () => {
  it('reports the sealed state OK, then names the table and row of an edit and exits 1', async () => {
    const { factorId } = await enrolled();
    await t.close();
    const env = { CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service, CUSTODIAN_GATEWAY_PORT: String(20000 + Math.floor(Math.random() * 20000)) };
    const ok = runCli(['doctor'], env);
    expect(ok.stdout).toMatch(/OK\s+state-seals/);
    sqlite(t.dbFile, `UPDATE factors SET last_used_step = -1 WHERE id = '${factorId}'`);
    const bad = runCli(['doctor', '--json'], env);
    const report = JSON.parse(bad.stdout) as { ok: boolean; checks: { name: string; ok: boolean; code?: string; detail: string }[] };
    expect(report.checks.find((c) => c.name === 'state-seals')).toMatchObject({ ok: false, code: 'ERR-STATE-TAMPERED', detail: expect.stringContaining(`factors ${factorId}`) });
    expect(bad.status).toBe(1);
    // Audit verify alone would have passed: the audit log was not touched.
    expect(runCli(['audit', 'verify'], env).status).toBe(0);
  });
});
