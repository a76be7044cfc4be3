import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCustodian } from '../../src-main/composition';
import { databaseFile, openDatabase } from '../../src-main/platform/db/database';
import { migrations } from '../../src-main/platform/db/migrations';
import { runDoctor } from '../../src-main/cli/doctor';
import { message } from '../../src-main/cli/cli-support';
import { failsWith } from '../fixtures/fails-with';
import { freePort, http, validRequest } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { runCli } from '../fixtures/run-cli';
import { answerChain, twoFactorsThroughCli } from '../fixtures/two-factors';
import { sqlite } from '../fixtures/sqlite-cli';
import { stepUp } from '../fixtures/step-up';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// Issue 13, item 4, the gaps migration 013 left (migration 014): step-up grants, restore tokens
// and pushes had a row MAC alone, so a row written back whole as it was while still usable (its
// old MAC with it, as an old copy of the file holds it) or a usable row deleted went unnoticed.
const DESKTOP = { source: 'desktop' } as const;
let t: TempCustodian;
let port: number;
let secret = '';

beforeEach(async () => {
  port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600' } });
});
afterEach(async () => {
  await t.remove();
});

async function enrolled(role: 'admin' | 'security-admin' = 'admin'): Promise<void> {
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role }, DESKTOP);
  const e = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  secret = await mfa.revealSecret(e.factor.id, DESKTOP);
  await mfa.confirmEnrollment(e.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
}

async function grant(purpose: string): Promise<void> {
  await stepUp(t.custodian, purpose, () => oathtool(secret, t.clock.now()), { sensitivity: 'low' });
  t.clock.advanceSeconds(30);
}

function digest(...tables: string[]): string {
  return createHash('sha256')
    .update(tables.map((name) => sqlite(t.dbFile, `SELECT * FROM "${name}" ORDER BY rowid`)).join('\n'))
    .digest('hex');
}

async function doctorSeals(): Promise<{ ok: boolean; detail: string; code?: string }> {
  const check = (await runDoctor(t.custodian, message)).find((c) => c.name === 'state-seals');
  if (!check) throw new Error('no state-seals check');
  return check;
}

describe('step-up grants', () => {
  it('refuses a used grant written back whole as it was before its use, changes nothing, and doctor names the table', async () => {
    await enrolled();
    await grant('test:grant');
    const old = sqlite(t.dbFile, "SELECT hex(row_mac) FROM step_up_grants WHERE purpose = 'test:grant'").trim();
    expect(t.custodian.chain.consumeGrant('test:grant')).toBe(true);
    expect(t.custodian.chain.consumeGrant('test:grant')).toBe(false);

    sqlite(t.dbFile, `UPDATE step_up_grants SET used_at = NULL, row_mac = X'${old}' WHERE purpose = 'test:grant'`);
    const before = digest('step_up_grants', 'state_seals', 'audit_log');
    await failsWith(() => t.custodian.chain.consumeGrant('test:grant'), 'ERR-STATE-TAMPERED');
    expect(digest('step_up_grants', 'state_seals', 'audit_log')).toBe(before);
    expect(await doctorSeals()).toMatchObject({ ok: false, code: 'ERR-STATE-TAMPERED', detail: expect.stringContaining('step_up_grants *') });
  });

  it('refuses the next grant after a live one was deleted, and doctor names the table', async () => {
    await enrolled();
    await grant('test:one');
    sqlite(t.dbFile, "DELETE FROM step_up_grants WHERE purpose = 'test:one'");
    await failsWith(grant('test:two'), 'ERR-STATE-TAMPERED');
    expect(sqlite(t.dbFile, "SELECT count(*) FROM step_up_grants WHERE purpose = 'test:two'").trim()).toBe('0');
    expect((await doctorSeals()).detail).toContain('step_up_grants *');
  });

  it('keeps doctor OK through grants earned, used and left unused, across a reopen', async () => {
    await enrolled();
    await grant('test:a');
    await grant('test:b');
    expect(t.custodian.chain.consumeGrant('test:a')).toBe(true);
    t.reopen();
    await expect(doctorSeals()).resolves.toMatchObject({ ok: true });
    expect(t.custodian.chain.consumeGrant('test:b')).toBe(true);
    await expect(doctorSeals()).resolves.toMatchObject({ ok: true });
  });

  it('drops grants that lapsed unused at the sweep, and only those, so the sealed set of unused grants stays small', async () => {
    await enrolled();
    await grant('test:lapsed');
    await grant('test:used');
    expect(t.custodian.chain.consumeGrant('test:used')).toBe(true);
    // Still within its two minutes: the sweep keeps the unused grant.
    t.custodian.chain.sweep();
    expect(sqlite(t.dbFile, 'SELECT purpose FROM step_up_grants ORDER BY purpose')).toBe('test:lapsed\ntest:used\n');
    // Lapsed: it goes at the next sweep; the used one stays with its attempt.
    t.clock.advanceSeconds(600);
    t.custodian.chain.sweep();
    expect(sqlite(t.dbFile, 'SELECT purpose FROM step_up_grants ORDER BY purpose')).toBe('test:used\n');
    await expect(doctorSeals()).resolves.toMatchObject({ ok: true });
  });
});

describe('restore tokens', () => {
  async function approvedToken(): Promise<{ token: string; key: string }> {
    await t.custodian.start();
    const key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
    await enrolled('security-admin');
    const created = await http({ port, path: '/v1/restore-requests', key, body: { ...validRequest, sensitivity: 'low' } });
    const { id, matchCode } = created.json as { id: string; matchCode: number };
    await stepUp(t.custodian, `approve:${id}`, () => oathtool(secret, t.clock.now()), { sensitivity: 'low' });
    t.custodian.approvals.approve(id, String(matchCode), DESKTOP);
    const first = (await http({ port, path: `/v1/restore-requests/${id}?waitSeconds=0`, key })).json as { token?: string };
    return { token: first.token ?? '', key };
  }

  it('refuses a redeemed token written back whole as it was before its redeem (an old copy of the row), changing nothing', async () => {
    const { token, key } = await approvedToken();
    const old = sqlite(t.dbFile, 'SELECT hex(row_mac) FROM restore_tokens').trim();
    const redeem = () => http({ port, path: '/v1/restore-tokens/redeem', key, body: { token, requester: validRequest.requester } });
    expect((await redeem()).status).toBe(200);
    expect((await redeem()).status).not.toBe(200);

    sqlite(t.dbFile, `UPDATE restore_tokens SET redeemed_at = NULL, row_mac = X'${old}'`);
    const before = digest('restore_tokens', 'state_seals');
    const replayed = await redeem();
    expect(replayed.status).toBe(503);
    expect(replayed.json).toMatchObject({ error: { code: 'ERR-STATE-TAMPERED' } });
    expect(digest('restore_tokens', 'state_seals')).toBe(before);
    expect((await doctorSeals()).detail).toContain('restore_tokens *');
  });
});

describe('push challenges', () => {
  it('refuses to build on a used push written back as approved with the MAC it had then, and doctor names the table', async () => {
    await enrolled();
    // A push row as the app writes it (through its own connection, so sealed), then used.
    const { db } = t.custodian;
    const profileId = t.custodian.mfa.requireProfile().id;
    const factorId = sqlite(t.dbFile, 'SELECT id FROM factors').trim();
    const insert = db.prepare(`INSERT INTO push_challenges (id, factor_id, profile_id, attempt_id, purpose, sensitivity, source, started_by, choices, number_mac, status, created_at, expires_at)
      VALUES (?, ?, ?, NULL, 'test', 'low', 'desktop', 'alice@corp', '[11,22,33]', X'00', ?, 1, 9999999999999)`);
    insert.run('push_a', factorId, profileId, 'approved');
    const approved = sqlite(t.dbFile, "SELECT hex(row_mac) FROM push_challenges WHERE id = 'push_a'").trim();
    db.prepare("UPDATE push_challenges SET status = 'used' WHERE id = 'push_a'").run();
    await expect(doctorSeals()).resolves.toMatchObject({ ok: true });

    sqlite(t.dbFile, `UPDATE push_challenges SET status = 'approved', row_mac = X'${approved}' WHERE id = 'push_a'`);
    expect((await doctorSeals()).detail).toContain('push_challenges *');
    expect(() => db.prepare("UPDATE push_challenges SET status = 'used' WHERE id = 'push_a'").run()).toThrow(/ERR-STATE-TAMPERED/);

    sqlite(t.dbFile, `UPDATE push_challenges SET status = 'used' WHERE id = 'push_a'`);
    t.reopen();
    // The edit above left a row whose MAC no longer matches: doctor names that row as well.
    expect((await doctorSeals()).detail).toContain('push_challenges push_a');
  });
});

describe('databases sealed before migration 014', () => {
  it('get their live sets sealed once, with an audit row, and then catch a replay', async () => {
    await t.close();
    const { rmSync } = await import('node:fs');
    for (const f of ['', '-wal', '-shm']) rmSync(`${t.dbFile}${f}`, { force: true });
    const v13 = createCustodian({
      config: t.config,
      clock: t.clock,
      db: openDatabase({ file: databaseFile(t.dir), synchronous: 'FULL', migrations: migrations.filter((m) => m.version <= 13) }),
      secrets: t.custodian.secrets,
    });
    await v13.integrity.ready();
    t.custodian = v13;
    await enrolled();
    await grant('test:used');
    await grant('test:live');
    const old = sqlite(t.dbFile, "SELECT hex(row_mac) FROM step_up_grants WHERE purpose = 'test:used'").trim();
    expect(v13.chain.consumeGrant('test:used')).toBe(true);
    await v13.dispose();
    expect(sqlite(t.dbFile, "SELECT count(*) FROM state_seals WHERE scope LIKE 'step_up_grants:%'").trim()).toBe('0');

    const upgraded = createCustodian({ config: t.config, clock: t.clock, db: openDatabase({ file: databaseFile(t.dir), synchronous: 'FULL' }), secrets: t.custodian.secrets });
    t.custodian = upgraded;
    await upgraded.integrity.ready();
    expect(upgraded.audit.list(50).entries.filter((e) => e.event === 'state_sealed').map((e) => e.data)).toContainEqual({ rows: 1, step_up_grants: 1 });
    expect(sqlite(t.dbFile, "SELECT scope FROM state_seals WHERE scope IN ('step_up_grants:', 'restore_tokens:', 'push_challenges:') ORDER BY scope")).toBe(
      'push_challenges:\nrestore_tokens:\nstep_up_grants:\n',
    );
    expect(await upgraded.integrity.findings()).toEqual([]);

    sqlite(t.dbFile, `UPDATE step_up_grants SET used_at = NULL, row_mac = X'${old}' WHERE purpose = 'test:used'`);
    await failsWith(() => upgraded.chain.consumeGrant('test:used'), 'ERR-STATE-TAMPERED');
  });
});

describe('an older copy of the whole database put back (every sealed table and its seals together)', () => {
  it('is refused with ERR-STATE-TAMPERED once the keychain saw a later state, changes nothing, and doctor names it', async () => {
    await enrolled();
    const { copyFileSync, rmSync } = await import('node:fs');
    const codes = sqlite(t.dbFile, 'SELECT count(*) FROM backup_codes WHERE used_at IS NULL').trim();
    await t.close();
    copyFileSync(t.dbFile, `${t.dir}/old.db`);

    // Later: a wrong code counted, a backup code used up. The process anchors the epoch as it ends.
    t.reopen();
    await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
    await grant('test:later');
    await t.close();

    // The attacker puts the old file back whole: every row, seal and root as they were, all valid.
    for (const f of ['', '-wal', '-shm']) rmSync(`${t.dbFile}${f}`, { force: true });
    copyFileSync(`${t.dir}/old.db`, t.dbFile);
    expect(sqlite(t.dbFile, 'SELECT count(*) FROM backup_codes WHERE used_at IS NULL').trim()).toBe(codes);
    t.reopen();
    await t.custodian.integrity.ready();
    const before = digest('mfa_attempts', 'step_up_grants', 'state_seals', 'factors');
    const refused = await failsWith(t.custodian.mfa.verify('000000', DESKTOP, { allowBackup: false, purpose: 'test' }), 'ERR-STATE-TAMPERED');
    expect(refused.details).toEqual({ table: 'state_seals', row: '#epoch' });
    await failsWith(grant('test:again'), 'ERR-STATE-TAMPERED');
    expect(digest('mfa_attempts', 'step_up_grants', 'state_seals', 'factors')).toBe(before);
    expect(await doctorSeals()).toMatchObject({ ok: false, code: 'ERR-STATE-TAMPERED', detail: expect.stringContaining('state_seals #epoch') });
  });

  it('raises no alarm when two processes take turns on one data directory and the keychain lags', async () => {
    await enrolled();
    const other = tempCustodian({ dir: t.dir });
    try {
      await other.custodian.integrity.ready();
      for (let i = 0; i < 2; i += 1) {
        // Four failures in all: the rate limit (5 per window) leaves the last check its slot.
        await failsWith(t.custodian.mfa.verify('000000', { source: 'shell-a' }, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
        await failsWith(other.custodian.mfa.verify('000000', { source: 'shell-b' }, { allowBackup: false, purpose: 'test' }), 'ERR-MFA-INVALID');
        // Each anchors when it likes, in either order; the keychain may hold an epoch behind the file.
        await (i % 2 === 0 ? other : t).custodian.integrity.anchorEpoch();
      }
      await other.close();
      await expect(doctorSeals()).resolves.toMatchObject({ ok: true });
      t.clock.advanceSeconds(30);
      await t.custodian.mfa.verify(oathtool(secret, t.clock.now()), DESKTOP, { allowBackup: false, purpose: 'test' });
    } finally {
      await other.close();
    }
  });
});

describe('custodian integrity reseal (the built CLI), after a restore from backup', () => {
  it('after the critical chain, accepts the older copy, audits it, and doctor is OK again; an edited row it names and refuses', async () => {
    const { copyFileSync, rmSync } = await import('node:fs');
    await t.remove();
    t = tempCustodian({ clock: 'following', env: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });
    await t.close();
    const env = {
      CUSTODIAN_DATA_DIR: t.dir,
      CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service,
      CUSTODIAN_MFA_WINDOW_STEPS: '2',
      CUSTODIAN_GATEWAY_PORT: String(port),
    };
    const codes = twoFactorsThroughCli(env);
    copyFileSync(t.dbFile, `${t.dir}/backup.db`);
    // Later work, anchored in the keychain as the command ends: a failed check counted.
    expect(runCli(['verify'], env, '000000\n').status).not.toBe(0);

    // The administrator restores the backup.
    for (const f of ['', '-wal', '-shm']) rmSync(`${t.dbFile}${f}`, { force: true });
    copyFileSync(`${t.dir}/backup.db`, t.dbFile);
    const before = JSON.parse(runCli(['doctor', '--json'], env).stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
    expect(before.checks.find((c) => c.name === 'state-seals')).toMatchObject({ ok: false, detail: expect.stringContaining('state_seals #epoch') });

    const resealed = await answerChain(['integrity', 'reseal'], env, (label) => codes.get(label)?.() ?? '');
    expect(resealed.stderr).toBe('');
    expect(resealed.stdout).toMatch(/chain at the critical policy/);
    expect(resealed.stdout).toMatch(/state re-sealed at epoch \d+ \(the keychain had \d+\)\n$/);
    expect(resealed.status).toBe(0);
    expect(sqlite(t.dbFile, "SELECT actor LIKE 'cli:%', json_extract(data, '$.epoch') > 0 FROM audit_log WHERE event = 'state_resealed'").trim()).toBe('1|1');
    const after = JSON.parse(runCli(['doctor', '--json'], env).stdout) as { checks: { name: string; ok: boolean }[] };
    expect(after.checks.find((c) => c.name === 'state-seals')).toMatchObject({ ok: true });
    // Current: nothing to accept, no chain asked for.
    expect(runCli(['integrity', 'reseal'], env)).toMatchObject({ status: 0, stdout: 'the sealed state is current; nothing changed\n' });

    // An edit is not a restore: named and refused, no chain asked for, nothing blessed.
    sqlite(t.dbFile, "UPDATE factors SET last_used_step = -1 WHERE label = 'Phone'");
    const edited = runCli(['integrity', 'reseal'], env);
    expect(edited.status).toBe(1);
    expect(edited.stdout).toBe('');
    expect(edited.stderr).toContain('factors');
    expect(sqlite(t.dbFile, "SELECT count(*) FROM audit_log WHERE event = 'state_resealed'").trim()).toBe('1');
  });
});
