import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvePurpose } from '../../src-shared/domain/approval';
import type { UserSettings } from '../../src-shared/domain/settings';
import { failsWith } from '../fixtures/fails-with';
import { freePort, http, validRequest } from '../fixtures/gateway-client';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { answerChain, twoFactorsThroughCli, twoFactorsThroughRouter } from '../fixtures/two-factors';

// Issue 11 "Token issuance": the restore token TTL is a run-time setting kept in the database,
// shared by every process on the data directory and read at each issue. The environment pins it;
// a longer one is a weakening that takes a critical step-up; each change is audited.
const DESK = { actor: 'alice@corp', source: 'desktop' };
let t: TempCustodian;

afterEach(async () => {
  await t.remove();
});

function ttlRows(c: TempCustodian) {
  return [...c.custodian.audit.export()].filter((e) => e.event === 'settings_changed' && e.subject === 'restoreTokens.ttlSeconds');
}

describe('the token TTL setting', () => {
  beforeEach(() => {
    t = tempCustodian();
  });

  it('is the default until one is stored, then the stored one, for this and every other Custodian on the data directory', async () => {
    expect(t.custodian.settings.get().tokenTtl).toEqual({ seconds: 900, source: 'default', variable: null });
    t.custodian.settings.setTokenTtl(300, DESK);
    expect(t.custodian.settings.get().tokenTtl).toEqual({ seconds: 300, source: 'stored', variable: null });
    const other = tempCustodian({ dir: t.dir });
    try {
      expect(other.custodian.settings.tokenTtl()).toEqual({ seconds: 300, source: 'stored', variable: null });
    } finally {
      await other.close();
    }
  });

  it('a shorter TTL needs no step-up; a longer one is ERR-MFA-REQUIRED without a grant for settings:token-ttl, and saved after a critical chain, which it spends', async () => {
    const { call, manage } = await twoFactorsThroughRouter(t);
    expect(await call('settings:set-token-ttl', { seconds: 300 })).toEqual({
      ok: true,
      data: { language: 'en', tokenTtl: { seconds: 300, source: 'stored', variable: null } },
    });
    expect(ttlRows(t).at(-1)).toMatchObject({ actor: 'alice@corp', data: { from: 900, to: 300, source: 'desktop' } });
    expect(ttlRows(t).at(-1)?.data).not.toHaveProperty('stepUp');

    // Longer: refused, nothing stored, nothing audited.
    expect(await call('settings:set-token-ttl', { seconds: 3600 })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    // A grant earned for another purpose does not pay for it.
    t.clock.advanceSeconds(30);
    await manage('policies:weaken');
    expect(await call('settings:set-token-ttl', { seconds: 3600 })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(t.custodian.settings.tokenTtl().seconds).toBe(300);
    expect(ttlRows(t)).toHaveLength(1);

    t.clock.advanceSeconds(30);
    await manage('settings:token-ttl');
    expect(await call('settings:set-token-ttl', { seconds: 3600 })).toMatchObject({ ok: true, data: { tokenTtl: { seconds: 3600, source: 'stored' } } });
    expect(ttlRows(t).at(-1)).toMatchObject({ actor: 'alice@corp', data: { from: 300, to: 3600, source: 'desktop', stepUp: 'settings:token-ttl' } });
    // The grant is spent: the next lengthening asks again; the same value changes nothing.
    expect(await call('settings:set-token-ttl', { seconds: 7200 })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(await call('settings:set-token-ttl', { seconds: 3600 })).toMatchObject({ ok: true, data: { tokenTtl: { seconds: 3600 } } });
    expect(ttlRows(t)).toHaveLength(2);
    // Back to the default's length is shorter: no grant.
    expect(await call('settings:set-token-ttl', { seconds: 900 })).toMatchObject({ ok: true, data: { tokenTtl: { seconds: 900, source: 'stored' } } });
  });

  it('a lengthening without a grant is refused in the service too (ERR-MFA-REQUIRED), changing nothing', async () => {
    await failsWith(() => t.custodian.settings.setTokenTtl(901, DESK), 'ERR-MFA-REQUIRED');
    expect(t.custodian.settings.tokenTtl()).toEqual({ seconds: 900, source: 'default', variable: null });
    expect(ttlRows(t)).toHaveLength(0);
  });

  it('the IPC refuses a TTL out of range, not whole, not a number, or with extra fields, and changes nothing', async () => {
    const { call } = await twoFactorsThroughRouter(t);
    for (const payload of [{ seconds: 29 }, { seconds: 86401 }, { seconds: 90.5 }, { seconds: '300' }, { seconds: null }, {}, { seconds: 300, force: true }]) {
      expect(await call('settings:set-token-ttl', payload), JSON.stringify(payload)).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    }
    expect(t.custodian.settings.tokenTtl().source).toBe('default');
    expect(await call('settings:set-token-ttl', { seconds: 30 })).toMatchObject({ ok: true, data: { tokenTtl: { seconds: 30 } } });
    expect(await call('settings:get')).toMatchObject({ ok: true, data: { tokenTtl: { seconds: 30, source: 'stored', variable: null } } });
  });

  it('tells its listeners of a change made by another Custodian on the next tick', async () => {
    const heard: UserSettings[] = [];
    t.custodian.settings.onChanged((s) => heard.push(s));
    const other = tempCustodian({ dir: t.dir });
    try {
      other.custodian.settings.setTokenTtl(120, { actor: 'bob@corp', source: 'cli' });
    } finally {
      await other.close();
    }
    t.custodian.tick();
    t.custodian.tick();
    expect(heard.map((s) => s.tokenTtl.seconds)).toEqual([120]);
  });
});

describe('the environment pins the token TTL', () => {
  it.each(['RESTORE_ACCESS_TOKEN_TTL_SECONDS', 'CUSTODIAN_RESTORE_TOKENS_TTL_SECONDS'])('%s: shown as pinned, a change is ERR-SETTING-PINNED, a stored value is ignored', async (variable) => {
    const unpinned = tempCustodian();
    unpinned.custodian.settings.setTokenTtl(120, DESK);
    await unpinned.close();
    t = tempCustodian({ dir: unpinned.dir, env: { [variable]: '300' } });
    expect(t.custodian.settings.get().tokenTtl).toEqual({ seconds: 300, source: 'environment', variable });
    const { call, manage } = await twoFactorsThroughRouter(t);
    const refused = await call('settings:set-token-ttl', { seconds: 60 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'ERR-SETTING-PINNED', message: expect.stringContaining(variable) } });
    // Even with a grant in hand: the grant is not spent on a refusal.
    t.clock.advanceSeconds(30);
    await manage('settings:token-ttl');
    expect(await call('settings:set-token-ttl', { seconds: 3600 })).toMatchObject({ ok: false, error: { code: 'ERR-SETTING-PINNED' } });
    expect(t.custodian.chain.consumeGrant('settings:token-ttl', 'critical')).toBe(true);
    expect(ttlRows(t)).toHaveLength(1);
    expect(t.custodian.settings.tokenTtl().seconds).toBe(300);
  });
});

describe('custodian settings token-ttl, from another process', () => {
  let env: NodeJS.ProcessEnv;
  let port: number;
  beforeEach(async () => {
    port = await freePort();
    // Two steps either side: the CLI enrollments use the codes of the next steps.
    const settings = { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_MFA_WINDOW_STEPS: '2', CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '600' };
    t = tempCustodian({ clock: 'following', env: settings });
    env = { ...settings, CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service };
  });

  it('prints the TTL; a shorter one set from the shell applies to the next token this process issues', async () => {
    const codes = twoFactorsThroughCli(env);
    await t.custodian.start();
    const key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
    expect(runCli(['settings', 'token-ttl'], env)).toMatchObject({
      status: 0,
      stdout: 'restore tokens issued from now on work for 900 s (the default)\n',
      stderr: '',
    });

    const shorter = runCli(['settings', 'token-ttl', '120'], env);
    expect(shorter).toMatchObject({ status: 0, stdout: 'restore tokens issued from now on work for 120 s (stored for this data directory)\n', stderr: '' });
    expect(ttlRows(t).at(-1)).toMatchObject({ actor: expect.stringMatching(/^cli:/), data: { from: 900, to: 120, source: 'cli' } });
    expect(JSON.parse(runCli(['settings', 'token-ttl', '--json'], env).stdout)).toEqual({ seconds: 120, source: 'stored', variable: null });

    // This process approves a request: the token gets the TTL the shell stored a moment ago.
    const created = await http({ port, path: '/v1/restore-requests', key, body: { ...validRequest, sensitivity: 'medium' } });
    const { id, matchCode } = created.json as { id: string; matchCode: number };
    const view = t.custodian.chain.start(approvePurpose(id), 'medium', { source: 'desktop' });
    for (const step of view.steps) await t.custodian.chain.verifyStep(view.attemptId, step.id, codes.get(step.label)?.() ?? '', { source: 'desktop' });
    const { token } = t.custodian.approvals.approve(id, String(matchCode), { source: 'desktop' });
    expect(token.ttlSeconds).toBe(120);
    expect(Date.parse(token.expiresAt) - Date.parse(token.issuedAt)).toBe(120_000);
  });

  it('a longer one runs the critical chain in the terminal first, its codes from stdin; exit 0, audited as the shell’s', async () => {
    const codes = twoFactorsThroughCli(env);
    const heard: number[] = [];
    t.custodian.settings.onChanged((s) => heard.push(s.tokenTtl.seconds));
    const longer = await answerChain(['settings', 'token-ttl', '3600', '--json'], env, (label) => codes.get(label)?.() ?? '');
    expect(longer.stderr).toMatch(/a longer token TTL takes a step-up chain at the critical policy\nchain at the critical policy \(random order, 2 steps\)/);
    expect(longer.stdout).toBe('{"seconds":3600,"source":"stored","variable":null}\n');
    expect(longer.status).toBe(0);
    expect(t.custodian.settings.tokenTtl().seconds).toBe(3600);
    t.custodian.tick();
    expect(heard).toEqual([3600]);
    const rows = t.custodian.audit.list(3).entries.reverse();
    expect(rows.map((e) => e.event)).toEqual(['mfa_chain_completed', 'mfa_step_up_used', 'settings_changed']);
    expect(rows[2]).toMatchObject({ actor: expect.stringMatching(/^cli:/), subject: 'restoreTokens.ttlSeconds', data: { from: 900, to: 3600, source: 'cli', stepUp: 'settings:token-ttl' } });
  });

  it('a longer one exits 1 when the chain fails, and changes nothing; a bad number exits 2; a pinned one exits 1 naming the variable', async () => {
    const codes = twoFactorsThroughCli(env);
    const failed = await answerChain(['settings', 'token-ttl', '3600'], env, (label, i) => (i === 1 ? '271828' : (codes.get(label)?.() ?? '')));
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/step 2 \((Phone|Token)\): The code is invalid\./);
    expect(t.custodian.settings.tokenTtl()).toEqual({ seconds: 900, source: 'default', variable: null });
    expect(ttlRows(t)).toHaveLength(0);

    for (const bad of ['29', '86401', '90s', '1e3', '-5', 'abc']) {
      const run = runCli(['settings', 'token-ttl', bad], env);
      expect(run.status, bad).toBe(2);
      expect(run.stderr, bad).toContain('The request is not valid: seconds.');
    }

    const pinnedEnv = { ...env, RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300' };
    expect(runCli(['settings', 'token-ttl'], pinnedEnv).stdout).toBe(
      'restore tokens issued from now on work for 300 s (set by RESTORE_ACCESS_TOKEN_TTL_SECONDS; change it there)\n',
    );
    const pinned = runCli(['settings', 'token-ttl', '60'], pinnedEnv);
    expect(pinned.status).toBe(1);
    expect(pinned.stderr).toContain('RESTORE_ACCESS_TOKEN_TTL_SECONDS');
    expect(pinned.stdout).toBe('');
    expect(ttlRows(t)).toHaveLength(0);
  });
});
