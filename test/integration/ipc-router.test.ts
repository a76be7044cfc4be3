import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter, type IpcRouter } from '../../src-main/ipc/ipc-router';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { twoFactorsThroughRouter } from '../fixtures/two-factors';

const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
let t: TempCustodian;
let router: IpcRouter;

beforeEach(() => {
  t = tempCustodian();
  router = createIpcRouter({
    handlers: createHandlers(t.custodian, 'chromium-host'),
    isTrustedUrl: (url) => url.origin === 'http://127.0.0.1:5555',
    language: () => t.custodian.settings.get().language,
  });
});
afterEach(async () => {
  await t.remove();
});

describe('the IPC router', () => {
  it('answers a valid call through the real service', async () => {
    const result = await router.handle('settings:set-language', { language: 'tr' }, APP);
    expect(result).toEqual({ ok: true, data: { language: 'tr', tokenTtl: { seconds: 900, source: 'default', variable: null } } });
    expect(t.custodian.settings.get().language).toBe('tr');
    expect(t.custodian.audit.list(5).entries[0]).toMatchObject({ event: 'settings_changed', data: { from: 'en', to: 'tr' } });
  });

  it.each([
    ['an unknown language', { language: 'xx' }, 'language'],
    ['a missing field', {}, 'language'],
    ['an extra field', { language: 'tr', admin: true }, 'request'],
    ['a string instead of an object', 'tr', 'request'],
    ['a number for a string', { language: 7 }, 'language'],
  ])('refuses %s with ERR-VALIDATION and changes nothing', async (_name, payload, field) => {
    const before = t.custodian.audit.head();
    const result = await router.handle('settings:set-language', payload, APP);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('ERR-VALIDATION');
    if (field !== 'request') expect(result.error.details?.field).toBe(field);
    expect(result.error.message).not.toMatch(/at .*\.ts|Error:|stack/i);
    expect(t.custodian.settings.get().language).toBe('en');
    expect(t.custodian.audit.head()).toEqual(before);
  });

  it('refuses an unknown channel', async () => {
    const result = await router.handle('shell:exec', { cmd: 'rm -rf /' }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field: 'channel' } } });
  });

  it('refuses a sender from another origin, a sub-frame, and a lookalike URL', async () => {
    for (const sender of [
      { url: 'https://evil.example/', isMainFrame: true },
      { url: 'http://127.0.0.1:5555/', isMainFrame: false },
      { url: 'http://127.0.0.1:55551/', isMainFrame: true },
      { url: 'http://127.0.0.1:5555.evil.example/', isMainFrame: true },
      { url: 'not a url', isMainFrame: true },
    ]) {
      const result = await router.handle('settings:set-language', { language: 'tr' }, sender);
      expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SENDER-FORBIDDEN' } });
    }
    expect(t.custodian.settings.get().language).toBe('en');
  });

  it('turns an unexpected failure into ERR-INTERNAL with no detail', async () => {
    t.custodian.db.close();
    const result = await router.handle('audit:list', {}, APP);
    expect(result).toEqual({ ok: false, error: { code: 'ERR-INTERNAL', message: 'Something went wrong inside Custodian.' } });
  });

  it('writes error messages in the approver’s language', async () => {
    await router.handle('settings:set-language', { language: 'tr' }, APP);
    const result = await router.handle('audit:list', { limit: 0 }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', message: 'İstek geçerli değil: limit.' } });
  });

  it('lists and verifies the audit log', async () => {
    await router.handle('settings:set-language', { language: 'tr' }, APP);
    await router.handle('settings:set-language', { language: 'en' }, APP);
    const list = await router.handle('audit:list', { limit: 1 }, APP);
    expect(list).toMatchObject({ ok: true, data: { total: 2, entries: [{ id: 2 }] } });
    expect(await router.handle('audit:verify', {}, APP)).toEqual({ ok: true, data: { ok: true, rows: 2, headId: 2, anchor: 'verified' } });
  });
});

describe('the lock at the IPC door', () => {
  it('serves only status and unlock while locked, and no secret ever crosses', async () => {
    const { createAppRouter } = await import('../../src-main/ipc/app-router');
    const { oathtool } = await import('../fixtures/otp');
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    const call = (channel: string, payload: unknown = {}) => app.handle(channel, payload, APP);

    await call('profile:init', { displayName: 'Alice', principal: 'alice@corp', role: 'admin' });
    const enrolled = await call('factors:enroll', { label: 'Phone' });
    if (!enrolled.ok) throw new Error('enroll failed');
    const enrollment = enrolled.data as { factor: { id: string } };
    const revealed = await call('factors:reveal-secret', { factorId: enrollment.factor.id });
    if (!revealed.ok) throw new Error('reveal failed');
    const secret = (revealed.data as { secret: string }).secret;
    // The enrollment answer has the QR image and the masked secret, never the key URI (issue 9).
    expect(Object.keys(enrolled.data).sort()).toEqual(['factor', 'qrDataUrl', 'secretMasked']);
    expect(JSON.stringify(enrolled.data)).not.toContain(secret);
    expect(await call('factors:confirm', { factorId: enrollment.factor.id, code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true });
    const listed = await call('factors:list');
    expect(JSON.stringify(listed)).not.toContain(secret);

    expect(await call('lock:lock')).toMatchObject({ ok: true, data: { locked: true } });
    for (const channel of ['factors:list', 'audit:list', 'settings:get', 'app:info', 'lock:activity', 'profile:get']) {
      expect(await call(channel), channel).toMatchObject({ ok: false, error: { code: 'ERR-LOCKED' } });
    }
    expect(await call('lock:status')).toMatchObject({ ok: true, data: { locked: true } });
    expect(await call('lock:unlock', { code: '12' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-INVALID' } });
    t.clock.advanceSeconds(30);
    expect(await call('lock:unlock', { code: oathtool(secret, t.clock.now()) })).toMatchObject({ ok: true, data: { locked: false } });
    expect(await call('factors:list')).toMatchObject({ ok: true });
  });
});

describe('the idle lock at the IPC door (issue 9)', () => {
  /** MFA on and the desk open, as right after the first factor is confirmed. */
  async function openDesk() {
    const { createAppRouter } = await import('../../src-main/ipc/app-router');
    const { secretAccount } = await import('../../src-main/services/mfa/mfa.service');
    const { oathtool } = await import('../fixtures/otp');
    const { mfa } = t.custodian;
    const profile = mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, { source: 'desktop' });
    const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, { source: 'desktop' });
    const secret = (await t.custodian.secrets.get(secretAccount(profile.id, enrollment.factor.id)))!;
    await mfa.confirmEnrollment(enrollment.factor.id, oathtool(secret, t.clock.now()), { source: 'desktop' });
    expect(t.custodian.lock.isLocked()).toBe(false);
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    return (channel: string, payload: unknown = {}) => app.handle(channel, payload, APP);
  }

  it('locks after the idle limit although the request list keeps refreshing', async () => {
    const call = await openDesk();
    // Six minutes of arrivals, each refreshing the list, and nobody at the keyboard.
    for (let s = 0; s < 6 * 60 && !t.custodian.lock.isLocked(); s += 15) {
      expect(await call('requests:list', { view: 'pending' })).toMatchObject({ ok: true });
      t.clock.advanceSeconds(15);
      t.custodian.tick();
    }
    expect(t.custodian.lock.isLocked()).toBe(true);
    expect(await call('requests:list', { view: 'pending' })).toMatchObject({ ok: false, error: { code: 'ERR-LOCKED' } });
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'app_locked', data: { reason: 'idle' } });
  });

  it('stays open while real input is reported through lock:activity', async () => {
    const call = await openDesk();
    for (let s = 0; s < 12 * 60; s += 15) {
      if (s % 120 === 0) expect(await call('lock:activity')).toMatchObject({ ok: true, data: { locked: false } });
      expect(await call('requests:list', { view: 'pending' })).toMatchObject({ ok: true });
      t.clock.advanceSeconds(15);
      t.custodian.tick();
    }
    expect(t.custodian.lock.isLocked()).toBe(false);
  });
});

describe('managing MFA over IPC (issue 9, item 4; issue 10)', () => {
  async function setUp() {
    const { createAppRouter } = await import('../../src-main/ipc/app-router');
    const { oathtool } = await import('../fixtures/otp');
    const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    const call = (channel: string, payload: unknown = {}) => app.handle(channel, payload, APP);
    await call('profile:init', { displayName: 'Alice', principal: 'alice@corp', role: 'operator' });
    const enrolled = await call('factors:enroll', { label: 'Phone' });
    if (!enrolled.ok) throw new Error('enroll failed');
    const factorId = (enrolled.data as { factor: { id: string } }).factor.id;
    const revealed = await call('factors:reveal-secret', { factorId });
    const secret = revealed.ok ? (revealed.data as { secret: string }).secret : '';
    const confirmed = await call('factors:confirm', { factorId, code: oathtool(secret, t.clock.now()) });
    if (!confirmed.ok) throw new Error('confirm failed');
    const backupCodes = (confirmed.data as { backupCodes: string[] }).backupCodes;
    const code = () => oathtool(secret, t.clock.now());
    /** The one-step chain at critical for `purpose` (one factor), in the next time step. */
    const chain = async (purpose: string, stepCode: () => string = code, factor = factorId) => {
      t.clock.advanceSeconds(30);
      const started = await call('chain:start', { purpose, sensitivity: 'critical' });
      if (!started.ok) throw new Error(JSON.stringify(started));
      const { attemptId } = started.data as { attemptId: string };
      return call('chain:verify-step', { attemptId, factorId: factor, code: stepCode() });
    };
    return { call, secret, backupCodes, code, chain };
  }

  it('refuses to start a second enrollment without a chain once MFA is on, and changes nothing', async () => {
    const { call, chain } = await setUp();
    const before = t.custodian.mfa.listFactors().factors.length;
    expect(await call('factors:enroll', { label: 'Mallory' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    // A code in the request is no longer a way in: the schema refuses the field.
    expect(await call('factors:enroll', { label: 'Mallory', code: '123456' })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    expect(t.custodian.mfa.listFactors().factors).toHaveLength(before);
    expect(await chain('factors:enroll')).toMatchObject({ ok: true, data: { status: 'completed' } });
    const second = await call('factors:enroll', { label: 'Token' });
    expect(second).toMatchObject({ ok: true, data: { factor: { state: 'pending', recovery: false } } });
  });

  it('changes the role only after a chain for that role, where no backup code may stand in', async () => {
    const { call, chain, backupCodes } = await setUp();
    expect(await call('profile:set-role', { role: 'security-admin' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(await chain('profile:role:security-admin', () => backupCodes[0]!, 'backup')).toMatchObject({ ok: false, error: { code: 'ERR-MFA-INVALID' } });
    expect(await call('profile:set-role', { role: 'security-admin' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(t.custodian.mfa.requireProfile().role).toBe('operator');
    expect(await chain('profile:role:security-admin')).toMatchObject({ ok: true, data: { status: 'completed' } });
    expect(await call('profile:set-role', { role: 'security-admin' })).toMatchObject({ ok: true, data: { role: 'security-admin' } });
  });

  it('resumes a pending factor (its QR again) and removes one, deleting its secret, both audited', async () => {
    const { call, chain } = await setUp();
    await chain('factors:enroll');
    const started = await call('factors:enroll', { label: 'Tablet' });
    if (!started.ok) throw new Error('enroll failed');
    const factorId = (started.data as { factor: { id: string } }).factor.id;
    const account = `${t.custodian.mfa.requireProfile().id}:${factorId}`;
    expect(await t.custodian.secrets.get(account)).not.toBeNull();
    expect(await call('factors:resume', { factorId })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    await chain('factors:enroll');
    const resumed = await call('factors:resume', { factorId });
    expect(resumed).toMatchObject({ ok: true, data: { factor: { id: factorId, state: 'pending' } } });
    if (resumed.ok) expect(Object.keys(resumed.data).sort()).toEqual(['factor', 'qrDataUrl', 'secretMasked']);
    expect(await call('factors:remove-pending', { factorId })).toEqual({ ok: true, data: { factorId } });
    expect(await t.custodian.secrets.get(account)).toBeNull();
    expect(t.custodian.mfa.listFactors().factors.map((f) => f.id)).not.toContain(factorId);
    const events = t.custodian.audit.list(20).entries.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['mfa_setup_resumed', 'mfa_setup_removed']));
    expect(await call('factors:remove-pending', { factorId })).toMatchObject({ ok: false, error: { code: 'ERR-NOT-FOUND' } });
  });
});

describe('factor chains and policies over IPC (issue 10)', () => {
  /** A profile with two active factors, through the real channels and the session's keychain. */
  const setUp = () => twoFactorsThroughRouter(t);
  type View = { attemptId: string; position: number; status: string; steps: { id: string; label: string; type: string; digits: number }[]; expiresAt: string };

  it('passes a two-step critical chain through the channels, with the steps shown and no secret', async () => {
    const { call, code, ids } = await setUp();
    const started = await call('chain:start', { purpose: 'test:critical', sensitivity: 'critical' });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const view = started.data as View;
    expect(view.steps.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(view.steps[0]).toMatchObject({ type: 'totp', digits: 6 });
    expect(view.expiresAt).toBe(new Date(t.clock.now() + 60_000).toISOString());
    expect(JSON.stringify(view)).not.toMatch(/secret/i);
    const [s1, s2] = view.steps.map((s) => s.id) as [string, string];
    expect(await call('chain:verify-step', { attemptId: view.attemptId, factorId: s1, code: code(s1) })).toMatchObject({ ok: true, data: { position: 1, status: 'open' } });
    expect(await call('chain:verify-step', { attemptId: view.attemptId, factorId: s2, code: code(s2) })).toMatchObject({ ok: true, data: { position: 2, status: 'completed' } });
    expect(t.custodian.chain.consumeGrant('test:critical', 'critical')).toBe(true);
    expect(t.custodian.chain.consumeGrant('test:critical', 'critical')).toBe(false);
  });

  it('resets to step 1 on a wrong code and on a breach, with the typed errors', async () => {
    const { call, code } = await setUp();
    const started = await call('chain:start', { purpose: 'test:critical', sensitivity: 'critical' });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const { attemptId, steps } = started.data as View;
    const s1 = steps[0]?.id ?? '';
    expect(await call('chain:verify-step', { attemptId, factorId: s1, code: code(s1) })).toMatchObject({ ok: true, data: { position: 1 } });
    expect(await call('chain:verify-step', { attemptId, factorId: 'backup', code: 'AAAA-AAAA' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-INVALID' } });
    const after = await call('chain:get', { attemptId });
    expect(after).toMatchObject({ ok: true, data: { position: 0, status: 'open' } });
    if (!after.ok) throw new Error(JSON.stringify(after));
    const current = (after.data as View).steps[0]?.id ?? '';
    const other = (after.data as View).steps[1]?.id ?? '';
    expect(await call('chain:verify-step', { attemptId, factorId: other, code: code(other) })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-CHAIN-BREACHED' } });
    expect(await call('chain:get', { attemptId })).toMatchObject({ ok: true, data: { position: 0 } });
    const events = t.custodian.audit.list(20).entries.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['mfa_chain_reset', 'mfa_chain_breached']));
    expect(current).not.toBe('');
  });

  it('answers a step for a factor disabled since the chain was drawn as a wrong code, and resets', async () => {
    const { call, manage, enroll } = await setUp();
    const started = await call('chain:start', { purpose: 'test:critical', sensitivity: 'critical' });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const { attemptId, steps } = started.data as View;
    const [s1] = steps.map((s) => s.id) as [string, string];
    // A third factor, so the critical policy can still be met without s1; then s1 is disabled
    // through its own chain, in later time steps: its secret leaves the keychain.
    await manage('factors:enroll');
    await enroll('Key');
    t.clock.advanceSeconds(30);
    await manage(`factors:disable:${s1}`);
    expect(await call('factors:disable', { factorId: s1 })).toMatchObject({ ok: true, data: { state: 'disabled' } });
    expect(await call('chain:verify-step', { attemptId, factorId: s1, code: '123456' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-INVALID' } });
    expect(await call('chain:get', { attemptId })).toMatchObject({ ok: true, data: { position: 0, status: 'open' } });
  });

  it('refuses a made-up purpose, a bad sensitivity and a bad step before any service runs', async () => {
    const { call } = await setUp();
    const before = t.custodian.audit.head();
    for (const [payload, field] of [
      [{ purpose: 'grant:everything', sensitivity: 'low' }, 'purpose'],
      [{ purpose: 'test:critical', sensitivity: 'extreme' }, 'sensitivity'],
      [{ purpose: 'test:critical' }, 'sensitivity'],
    ] as const) {
      expect(await call('chain:start', payload)).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field } } });
    }
    expect(await call('chain:verify-step', { attemptId: 'ch_x', factorId: '../etc', code: '123456' })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    expect(await call('chain:verify-step', { attemptId: 'ch_nope', factorId: 'backup', code: '123456' })).toMatchObject({ ok: false, error: { code: 'ERR-NOT-FOUND' } });
    expect(t.custodian.audit.head()).toEqual(before);
  });

  it('answers the current step’s challenge over chain:challenge, audited, and validates the request (issue 12)', async () => {
    const { call } = await setUp();
    const started = await call('chain:start', { purpose: 'test:critical', sensitivity: 'critical' });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const { attemptId, steps } = started.data as View;
    expect(await call('chain:challenge', { attemptId })).toEqual({ ok: true, data: { kind: 'code', digits: 6 } });
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'mfa_chain_challenged', data: { attemptId, factorId: steps[0]?.id, challenge: 'code' } });
    const before = t.custodian.audit.head();
    for (const payload of [{}, { attemptId: '' }, { attemptId: 'x'.repeat(65) }, { attemptId: 7 }, { attemptId, factorId: steps[0]?.id }, 'ch_x']) {
      expect(await call('chain:challenge', payload)).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    }
    expect(await call('chain:challenge', { attemptId: 'ch_nope' })).toMatchObject({ ok: false, error: { code: 'ERR-NOT-FOUND' } });
    expect(t.custodian.audit.head()).toEqual(before);
    // Closed while the desk is locked, like every chain channel.
    t.custodian.lock.lock('manual');
    expect(await call('chain:challenge', { attemptId })).toMatchObject({ ok: false, error: { code: 'ERR-LOCKED' } });
  });

  it('lists the four policies and saves a weaker one only after a critical chain for policies:weaken', async () => {
    const { call, code } = await setUp();
    const listed = await call('policies:list');
    if (!listed.ok) throw new Error(JSON.stringify(listed));
    const policies = (listed.data as { policies: { sensitivity: string; requiredSteps: number }[] }).policies;
    expect(policies.map((p) => p.sensitivity)).toEqual(['low', 'medium', 'high', 'critical']);
    const critical = policies[3] as Record<string, unknown>;
    const weaker = { ...critical, requiredSteps: 1 };
    expect(await call('policies:save', { policy: weaker })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(await call('policies:save', { policy: { ...critical, requiredSteps: 3 } })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-POLICY-UNSATISFIABLE' } });
    expect(await call('policies:save', { policy: { ...critical, requiredSteps: 'all' } })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    const started = await call('chain:start', { purpose: 'policies:weaken', sensitivity: 'critical' });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const { attemptId, steps } = started.data as View;
    for (const s of steps) expect(await call('chain:verify-step', { attemptId, factorId: s.id, code: code(s.id) })).toMatchObject({ ok: true });
    expect(await call('policies:save', { policy: weaker })).toMatchObject({ ok: true, data: { sensitivity: 'critical', requiredSteps: 1 } });
    expect(t.custodian.policies.get('critical').requiredSteps).toBe(1);
  });
});
