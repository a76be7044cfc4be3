import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter, type IpcRouter } from '../../src-main/ipc/ipc-router';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

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
    expect(result).toEqual({ ok: true, data: { language: 'tr' } });
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
    const enrollment = enrolled.data as { factor: { id: string }; uri: string };
    const secret = new URL(enrollment.uri).searchParams.get('secret') ?? '';
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
