import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, LOCK_EXEMPT_CHANNELS, type Channel, type IpcResult } from '../../src-shared/ipc/contract';
import type { ErrorCode } from '../../src-shared/errors';
import { createAppRouter } from '../../src-main/ipc/app-router';
import {
  STACK_TRACE,
  changedTables,
  describeInput,
  fuzzParams,
  isTypedRefusal,
  requestsFrom,
  tableDigests,
  unexpectedChanges,
} from '../fixtures/fuzz';
import { validRequest } from '../fixtures/gateway-client';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { twoFactorsThroughRouter } from '../fixtures/two-factors';

/**
 * Issue 13, item 1: every IPC channel, fuzzed through the real router, handlers and services on a
 * real SQLite file and the session's keychain, with a profile, two active factors, an integration
 * and restore requests. Each input gets a valid answer (the router parses it with the channel's
 * response schema) or a typed refusal that is not ERR-INTERNAL and shows no stack. A refusal of
 * bad input leaves every table as it was; a refusal of a well-formed request may add its audit
 * row, and a wrong code its attempt records, and nothing else (see fixtures/fuzz.ts).
 *
 * Inputs: 70 per channel while unlocked (51 channels: 3,570) and 50 per channel while locked
 * (2,550): 6,120 in all. With the gateway's 2,500 and the CLI's 1,510: 10,130 per run.
 */
const RUNS_UNLOCKED = 70;
const RUNS_LOCKED = 50;

const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };

interface Known {
  factorIds: string[];
  pendingId: string;
  deniedId: string;
  integrationId: string;
  attemptId: string;
}

/** Valid (or nearly valid) requests per channel, the seeds every mutation starts from. */
const BASES: { [C in Channel]: (k: Known) => Record<string, unknown>[] } = {
  'app:info': () => [{}],
  'audit:list': () => [{}, { limit: 1 }, { limit: 500, beforeId: 3 }],
  'audit:verify': () => [{}],
  'settings:get': () => [{}],
  'settings:set-language': () => [{ language: 'tr' }, { language: 'en' }],
  'settings:set-token-ttl': () => [{ seconds: 600 }, { seconds: 86_400 }, { seconds: 30 }],
  'profile:get': () => [{}],
  'profile:init': () => [{ displayName: 'Mallory', principal: 'mallory@corp', role: 'security-admin' }],
  'profile:set-role': () => [{ role: 'operator' }, { role: 'security-admin' }],
  'factors:list': () => [{}],
  'factors:enroll': () => [{ label: 'Key' }, { type: 'totp', label: 'Key', digits: 8, period: 60, algorithm: 'SHA512' }, { type: 'sms', label: 'Phone', phone: '+90 532 123 45 67' }, { type: 'push', label: 'Desk' }],
  'factors:resume': (k) => k.factorIds.map((factorId) => ({ factorId })),
  'factors:resend-code': (k) => k.factorIds.map((factorId) => ({ factorId })),
  'factors:remove-pending': (k) => k.factorIds.map((factorId) => ({ factorId })),
  'factors:reveal-secret': (k) => k.factorIds.map((factorId) => ({ factorId })),
  'factors:confirm': (k) => k.factorIds.map((factorId) => ({ factorId, code: '123456' })),
  'factors:rename': (k) => k.factorIds.map((factorId) => ({ factorId, label: 'Renamed' })),
  'factors:disable': (k) => k.factorIds.map((factorId) => ({ factorId })),
  'backup-codes:regenerate': () => [{}],
  'lock:status': () => [{}],
  'lock:unlock': () => [{ code: '123456' }, { code: 'AAAA-AAAA' }],
  'lock:lock': () => [{}],
  'lock:activity': () => [{}],
  'chain:start': (k) => [{ purpose: 'test:low', sensitivity: 'low' }, { purpose: `approve:${k.pendingId}`, sensitivity: 'high' }, { purpose: 'policies:weaken', sensitivity: 'critical' }],
  'chain:verify-step': (k) => [{ attemptId: k.attemptId, factorId: k.factorIds[0], code: '123456' }, { attemptId: k.attemptId, factorId: 'backup', code: 'AAAA-AAAA' }],
  'chain:challenge': (k) => [{ attemptId: k.attemptId }],
  'chain:get': (k) => [{ attemptId: k.attemptId }],
  'policies:list': () => [{}],
  'policies:save': () => [
    { policy: { sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: 'all', challengeTimeoutSeconds: 60 } },
    { policy: { sensitivity: 'critical', mode: 'random', requiredSteps: 1, eligible: 'all', challengeTimeoutSeconds: 10 } },
  ],
  'approvals:preview': (k) => [{ requestId: k.pendingId }, { requestId: k.deniedId }],
  'approvals:approve': (k) => [{ requestId: k.pendingId, matchCode: '42' }, { requestId: k.deniedId, matchCode: '10' }],
  'tokens:get': (k) => [{ requestId: k.pendingId }],
  'tokens:revoke': (k) => [{ requestId: k.deniedId }],
  'incident:get': () => [{}],
  'incident:on': () => [{}],
  'incident:off': () => [{}],
  'sms:get-config': () => [{}],
  'sms:set-config': () => [{ accountSid: `AC${'0'.repeat(32)}`, authToken: 'a'.repeat(32), sender: '+15005550006' }],
  'sms:test': () => [{ to: '+90 532 123 45 67' }],
  'push:pending': () => [{}],
  'push:answer': () => [{ id: 'pu_aaaaaaaaaaaaaaaa', number: 42 }],
  'push:deny': () => [{ id: 'pu_aaaaaaaaaaaaaaaa' }],
  'requests:list': () => [{ view: 'pending' }, { view: 'history', limit: 500 }],
  'requests:deny': (k) => [{ id: k.pendingId }, { id: k.deniedId }],
  'requests:report': (k) => [{ id: k.deniedId }],
  'integrations:list': () => [{}],
  'integrations:add': () => [{ name: 'borg-weekly' }],
  'integrations:revoke': () => [{ id: 'int_nope' }],
  'integrations:unmute': (k) => [{ id: k.integrationId }],
  'requests:pending-count': () => [{}],
  'gateway:status': () => [{}],
};

let t: TempCustodian;
let known: Known;
let call: (channel: string, payload?: unknown) => Promise<IpcResult<Channel>>;
let code: (factorId: string) => string;

beforeAll(async () => {
  // What these tests check is what a refusal changes, not what survives a power cut (item 2):
  // commits without a sync each keep the run short on a shared disk.
  t = tempCustodian({ env: { CUSTODIAN_DATABASE_SYNCHRONOUS: 'NORMAL' } });
  const s = await twoFactorsThroughRouter(t);
  code = s.code;
  // The router the window uses, called with the payload exactly as generated (no default `{}`).
  const app = createAppRouter(t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
  call = (channel, payload) => app.handle(channel, payload, APP);
  const created = t.custodian.integrations.add('restic-nightly', 'alice@corp');
  const integration = t.custodian.integrations.authenticate(created.key);
  const pending = await t.custodian.requests.create(integration, { ...validRequest, sensitivity: 'high' });
  const denied = await t.custodian.requests.create(integration, { ...validRequest, backupId: 'snap-old' });
  t.custodian.requests.deny(denied.id, 'alice@corp');
  const started = await call('chain:start', { purpose: 'test:critical', sensitivity: 'critical' });
  if (!started.ok) throw new Error(JSON.stringify(started));
  known = { factorIds: s.ids, pendingId: pending.id, deniedId: denied.id, integrationId: integration.id, attemptId: (started.data as { attemptId: string }).attemptId };
});
afterAll(async () => {
  await t.remove();
});

/**
 * A failed code's audit rows follow its answer in a group commit flushed on the next turn of the
 * event loop (AttemptGuard.recordFailure): wait for it, so each change is charged to its input.
 */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A refusal as the contract has it: a known code other than ERR-INTERNAL, a message without a stack. */
function expectTyped(error: { code: string; message: string }, input: unknown): ErrorCode {
  if (!isTypedRefusal(error.code) || STACK_TRACE.test(error.message)) {
    expect.fail(`${error.code} (${error.message}) for ${describeInput(input)}`);
  }
  return error.code as ErrorCode;
}

/** Fails with the input and the tables a refusal changed that it should have left alone. */
function expectUnchanged(refused: ErrorCode, before: Map<string, string>, after: Map<string, string>, input: unknown): void {
  const changed = unexpectedChanges(refused, changedTables(before, after));
  if (changed.length > 0) expect.fail(`${refused} for ${describeInput(input)} changed ${changed.join(', ')}`);
}

/** After an accepted `lock:lock` or a rate limit, the desk is opened again with a fresh code. */
async function reopen(): Promise<void> {
  for (let tries = 0; tries < 20 && t.custodian.lock.isLocked(); tries += 1) {
    t.clock.advanceSeconds(tries === 0 ? 30 : 3_600);
    await call('lock:unlock', { code: code(known.factorIds[0] ?? '') });
  }
  expect(t.custodian.lock.isLocked()).toBe(false);
}

describe('every IPC channel, fuzzed (issue 13, item 1)', () => {
  it('covers every channel of the contract', () => {
    expect(Object.keys(BASES).sort()).toEqual([...CHANNELS].sort());
  });

  describe('with the desk open', () => {
    it.each(CHANNELS.map((c) => [c]))('%s: a valid answer or a typed refusal, and a refusal changes nothing', async (channel) => {
      await reopen();
      // The digest after one input is the digest before the next, unless something moved between.
      let before = tableDigests(t.custodian.db);
      await fc.assert(
        fc.asyncProperty(requestsFrom(BASES[channel](known)), async (input) => {
          const result = await call(channel, input);
          await settled();
          if (result.ok) {
            // Accepted: a valid answer (the router parsed it); state may change. An accepted
            // `lock:lock` is undone for the next input.
            await reopen();
            before = tableDigests(t.custodian.db);
            return;
          }
          const refused = expectTyped(result.error, input);
          const after = tableDigests(t.custodian.db);
          expectUnchanged(refused, before, after, input);
          before = after;
          if (refused === 'ERR-MFA-RATE-LIMITED' || t.custodian.lock.isLocked()) {
            t.clock.advanceSeconds(3_600);
            await reopen();
            before = tableDigests(t.custodian.db);
          }
        }),
        fuzzParams(RUNS_UNLOCKED),
      );
      // Whatever was recorded was appended to the chain, never written beside it.
      await settled();
      expect(await t.custodian.audit.verify()).toMatchObject({ ok: true });
    });
  });

  describe('with the desk locked', () => {
    it.each(CHANNELS.map((c) => [c]))('%s: only the lock-exempt channels answer; nothing else runs or changes', async (channel) => {
      t.custodian.lock.lock('manual');
      let before = tableDigests(t.custodian.db);
      await fc.assert(
        fc.asyncProperty(requestsFrom(BASES[channel](known)), async (input) => {
          const result = await call(channel, input);
          await settled();
          if (!LOCK_EXEMPT_CHANNELS.includes(channel)) {
            expect(result.ok ? 'answered' : result.error.code, describeInput(input)).toBe('ERR-LOCKED');
          }
          if (result.ok) {
            if (!t.custodian.lock.isLocked()) t.custodian.lock.lock('manual');
            before = tableDigests(t.custodian.db);
            return;
          }
          const refused = expectTyped(result.error, input);
          const after = tableDigests(t.custodian.db);
          expectUnchanged(refused, before, after, input);
          before = after;
        }),
        fuzzParams(RUNS_LOCKED),
      );
      await settled();
      expect(await t.custodian.audit.verify()).toMatchObject({ ok: true });
    });
  });
});
