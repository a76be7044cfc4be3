import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../src-shared/ipc/contract';
import { AppError } from '../../src-shared/errors';
import { openCustodian } from '../../src-main/composition';
import { loadConfig } from '../../src-main/config';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { forwardEvents } from '../../src-main/ipc/events';
import type { IpcRouter } from '../../src-main/ipc/ipc-router';
import type { Integration } from '../../src-main/services/gateway/integrations.service';
import { oathtool } from '../fixtures/otp';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

const DESKTOP = { source: 'desktop' } as const;
const WINDOW = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
let t: TempCustodian;
let router: IpcRouter;

beforeEach(() => {
  t = tempCustodian();
  router = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
});
afterEach(async () => {
  await t.remove();
});

/** A profile with one confirmed factor, so the desk has a lock; returns the factor's secret. */
async function withMfa(): Promise<string> {
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await mfa.revealSecret(enrollment.factor.id, DESKTOP);
  await mfa.confirmEnrollment(enrollment.factor.id, oathtool(secret, t.clock.now()), DESKTOP);
  t.clock.advanceSeconds(30);
  return secret;
}

function integration(name = 'restic-nightly'): Integration {
  const created = t.custodian.integrations.add(name, 'alice@corp');
  return t.custodian.integrations.authenticate(created.key);
}

async function arrive(from: Integration, backupId = 'snap-1'): Promise<string> {
  const created = await t.custodian.requests.create(from, { requester: 'backup@db1', backupId, target: '/srv/restore', reason: 'drill' });
  return created.id;
}

describe('while locked, the window learns how many requests wait and nothing else', () => {
  it('answers the pending count, refuses the requests themselves, and forwards only the count', async () => {
    await withMfa();
    const from = integration();
    await arrive(from);
    t.custodian.lock.lock('manual');
    const events: { event: EventName; payload: unknown }[] = [];
    forwardEvents(t.custodian, (event, payload) => events.push({ event, payload }));
    events.length = 0;

    expect(await router.handle('requests:pending-count', {}, WINDOW)).toEqual({ ok: true, data: { count: 1 } });
    for (const channel of ['requests:list', 'integrations:list', 'audit:list', 'factors:list']) {
      const answer = await router.handle(channel, channel === 'requests:list' ? { view: 'pending' } : {}, WINDOW);
      expect(answer.ok ? 'ok' : answer.error.code, channel).toBe('ERR-LOCKED');
    }

    const second = await arrive(from, 'snap-2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([{ event: 'requests:pending-count', payload: { count: 2 } }]);
    expect(JSON.stringify(events)).not.toContain(second);
  });

  it('forwards everything again once unlocked', async () => {
    const secret = await withMfa();
    const from = integration();
    t.custodian.lock.lock('manual');
    await t.custodian.lock.unlock(oathtool(secret, t.clock.now()), DESKTOP);
    const events: EventName[] = [];
    forwardEvents(t.custodian, (event) => events.push(event));
    await arrive(from);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(expect.arrayContaining(['requests:changed', 'audit:appended', 'requests:pending-count']));
  });
});

describe('the idle lock', () => {
  it('is held open by lock:activity, not by screens refreshing themselves as requests arrive', async () => {
    await withMfa();
    const from = integration();
    expect(t.custodian.lock.isLocked()).toBe(false);

    // Four minutes of arrivals, each followed by the refresh the Approvals screen makes.
    for (let minute = 1; minute <= 4; minute += 1) {
      t.clock.advanceSeconds(60);
      await arrive(from, `snap-${minute}`);
      expect((await router.handle('requests:list', { view: 'pending' }, WINDOW)).ok).toBe(true);
      expect((await router.handle('requests:pending-count', {}, WINDOW)).ok).toBe(true);
    }
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    expect(t.custodian.lock.isLocked()).toBe(true);
  });

  it('waits while the approver moves or types', async () => {
    const secret = await withMfa();
    t.custodian.lock.lock('manual');
    await t.custodian.lock.unlock(oathtool(secret, t.clock.now()), DESKTOP);
    t.clock.advanceSeconds(4 * 60);
    expect((await router.handle('lock:activity', {}, WINDOW)).ok).toBe(true);
    t.clock.advanceSeconds(4 * 60);
    t.custodian.tick();
    expect(t.custodian.lock.isLocked()).toBe(false);
  });
});

describe('unmuting a reported integration', () => {
  it('lifts the mute at once, with an audit row; new requests are accepted again', async () => {
    const from = integration('borg-weekly');
    const reported = await arrive(from);
    t.custodian.requests.report(reported, 'alice@corp');
    await expect(arrive(from, 'snap-2')).rejects.toMatchObject({ code: 'ERR-RATE-LIMITED' });

    const answer = await router.handle('integrations:unmute', { id: from.id }, WINDOW);
    expect(answer).toMatchObject({ ok: true, data: { id: from.id, mutedUntil: null, revokedAt: null } });
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'integration_unmuted', actor: 'local', subject: from.id, data: { name: 'borg-weekly' } });
    await expect(arrive(from, 'snap-3')).resolves.toMatch(/^req_/);

    // Not muted any more: answered as it is, and nothing is recorded.
    const head = t.custodian.audit.head();
    expect(t.custodian.integrations.unmute(from.id, 'alice@corp').unmuted).toBe(false);
    expect(t.custodian.audit.head()).toEqual(head);
  });

  it('leaves a revoked integration revoked, and an unknown id is not found', async () => {
    const from = integration('borg-weekly');
    t.custodian.requests.report(await arrive(from), 'alice@corp');
    t.custodian.integrations.revoke(from.id, 'alice@corp');
    expect(t.custodian.integrations.unmute(from.id, 'alice@corp')).toMatchObject({ unmuted: false, integration: { revokedAt: expect.any(String) } });
    expect(() => t.custodian.integrations.unmute('nosuchintegr', 'alice@corp')).toThrow(AppError);
    expect(await router.handle('integrations:unmute', { id: 'nosuchintegr' }, WINDOW)).toMatchObject({ ok: false, error: { code: 'ERR-NOT-FOUND' } });
  });
});

describe('custodian integrations unmute', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodian-unmute-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('unmutes from a shell, and says so when there was nothing to lift', async () => {
    const env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_KEYCHAIN_SERVICE: `custodian-test-${dir.slice(-6)}` };
    // The real clock, as the CLI's: the mute must still run when the shell looks at it.
    const desk = openCustodian({ config: loadConfig({ env }) });
    const created = desk.integrations.add('borg-weekly', 'alice@corp');
    const from = desk.integrations.authenticate(created.key);
    const { id } = await desk.requests.create(from, { requester: 'backup@db1', backupId: 'snap-1', target: '/srv', reason: 'drill' });
    desk.requests.report(id, 'alice@corp');
    await desk.dispose();

    expect(runCli(['integrations', 'list'], env).stdout).toContain('muted until');
    const unmute = runCli(['integrations', 'unmute', created.id], env);
    expect(unmute).toMatchObject({ status: 0, stdout: `unmuted ${created.id} (borg-weekly)\n` });
    expect(runCli(['integrations', 'list'], env).stdout).toMatch(/borg-weekly\s+active/);
    expect(runCli(['integrations', 'unmute', created.id], env).stdout).toBe(`${created.id} (borg-weekly) was not muted; nothing changed\n`);
    expect(runCli(['audit', 'export'], env).stdout).toContain('"event":"integration_unmuted"');
  });
});
