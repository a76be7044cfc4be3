import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sensitivity } from '../../src-shared/domain/restore-request';
import { BACKUP_STEP, type ChainAttemptView, type FactorChallenge } from '../../src-shared/domain/policy';
import type { Custodian } from '../../src-main/composition';
import type { StepContext } from '../../src-main/services/chain/chain-ports';
import { TwilioCredentialsStore } from '../../src-main/services/sms/twilio-credentials';
import { PUSHES_PER_WINDOW } from '../../src-main/services/mfa/methods/push.method';
import { failsWith } from '../fixtures/fails-with';
import { oathtool } from '../fixtures/otp';
import { spawnCli } from '../fixtures/run-cli';
import { stepUp } from '../fixtures/step-up';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';
import { TestRandom } from '../../src-main/random';

const DESKTOP: StepContext = { source: 'desktop' };
const ADMIN = { actor: 'alice@corp', source: 'desktop' };
const SENDER = '+14155552345';
const PHONE = '+90 532 123 45 67';

let t: TempCustodian | undefined;
let standIn: TwilioStandIn | undefined;

afterEach(async () => {
  await t?.remove();
  t = undefined;
  await standIn?.close();
  standIn = undefined;
});

interface Desk {
  c: Custodian;
  t: TempCustodian;
  totpId: string;
  pushId: string;
  totpCode(): string;
  /** The backup codes the first factor brought. */
  backupCodes: string[];
}

/**
 * A desk with MFA on: a TOTP factor, then a push factor enrolled (after a step-up) and confirmed
 * by answering its first push, as the window does.
 */
const notices: { title: string; body: string }[] = [];

async function desk(env: NodeJS.ProcessEnv = {}, clock: 'fixed' | 'following' = 'fixed', seed?: number): Promise<Desk> {
  notices.length = 0;
  t = tempCustodian({ env, clock, notifier: { notify: (n) => notices.push(n) }, ...(seed === undefined ? {} : { random: new TestRandom(seed) }) });
  const temp = t;
  const c = t.custodian;
  c.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  // A push factor is never the first: the lock screen takes a code, which a push cannot give.
  const pushOn = env.MFA_METHODS === undefined || env.MFA_METHODS.includes('push');
  await failsWith(c.mfa.startEnrollment({ label: 'This desk', type: 'push' }, DESKTOP), pushOn ? 'ERR-MFA-CODE-FACTOR-REQUIRED' : 'ERR-MFA-METHOD-DISABLED');
  expect(c.mfa.listFactors().factors).toEqual([]);
  const e = await c.mfa.startEnrollment({ label: 'Authenticator', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await c.mfa.revealSecret(e.factor.id, DESKTOP);
  const totpCode = (): string => oathtool(secret, temp.clock.now());
  const { backupCodes } = await c.mfa.confirmEnrollment(e.factor.id, totpCode(), DESKTOP);
  // A shell on the real clock will share a 'following' directory: that clock is never moved, so
  // the step-up takes the next time step's code (within the ±1 window).
  if (clock === 'following') await stepUp(c, 'factors:enroll', () => oathtool(secret, temp.clock.now() + 30_000));
  else {
    temp.clock.advanceSeconds(30);
    await stepUp(c, 'factors:enroll', () => totpCode());
  }
  const push = await c.mfa.startEnrollment({ label: 'This desk', type: 'push' }, DESKTOP);
  expect(push.factor).toMatchObject({ type: 'push', state: 'pending' });
  expect(push.push?.number).toBeGreaterThanOrEqual(10);
  // Confirming before the push is answered says so, and counts no attempt.
  await failsWith(c.mfa.confirmEnrollment(push.factor.id, String(push.push?.number), DESKTOP), 'ERR-MFA-PUSH-PENDING');
  const [prompt] = c.push.pending();
  expect(prompt).toMatchObject({ factorId: push.factor.id, purpose: 'factors:enroll', sensitivity: null });
  expect(await c.push.answer(prompt?.id ?? '', push.push?.number ?? 0, DESKTOP)).toEqual({ outcome: 'approved' });
  await c.mfa.confirmEnrollment(push.factor.id, String(push.push?.number), DESKTOP);
  if (clock === 'fixed') temp.clock.advanceSeconds(30);
  return { c, t, totpId: e.factor.id, pushId: push.factor.id, totpCode, backupCodes: backupCodes ?? [] };
}

/** The low policy as one step: the push factor only. */
function pushOnlyAtLow(d: Desk): void {
  d.c.policies.save({ ...d.c.policies.get('low'), requiredSteps: 1, mode: 'fixed', eligible: { by: 'ids', ids: [d.pushId] } }, ADMIN);
}

/** The failed attempts counted now for the profile (one budget per profile). */
function failures(c: Custodian): number {
  const row = c.db.prepare('SELECT failures FROM mfa_attempts').get() as { failures: number } | undefined;
  return row?.failures ?? 0;
}

function events(c: Custodian): string[] {
  return c.audit
    .list(500)
    .entries.map((e) => e.event)
    .reverse();
}

async function pushStep(d: Desk, sensitivity: Sensitivity = 'low'): Promise<{ view: ChainAttemptView; challenge: Extract<FactorChallenge, { kind: 'push' }> }> {
  const view = d.c.chain.start(`test:${sensitivity}`, sensitivity, DESKTOP);
  const challenge = await d.c.chain.challenge(view.attemptId, DESKTOP);
  if (challenge.kind !== 'push') throw new Error(`expected a push, got ${challenge.kind}`);
  return { view, challenge };
}

describe('push factors (issue 12)', () => {
  it('raises a push the window lists with three distinct numbers; the right pick passes the step once', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view, challenge } = await pushStep(d);
    const prompts = d.c.push.pending();
    expect(prompts).toHaveLength(1);
    const prompt = prompts[0];
    if (!prompt) throw new Error('no prompt');
    expect(prompt).toMatchObject({ factorId: d.pushId, factorLabel: 'This desk', purpose: 'test:low', sensitivity: 'low', source: 'desktop', startedBy: 'alice@corp' });
    expect(new Set(prompt.choices).size).toBe(3);
    expect(prompt.choices).toContain(challenge.number);
    // The window never learns which number is right: the prompt carries the three only.
    expect(Object.keys(prompt).sort()).toEqual(['choices', 'createdAt', 'expiresAt', 'factorId', 'factorLabel', 'id', 'purpose', 'request', 'sensitivity', 'source', 'startedBy']);

    // Not answered yet: nothing is counted and nothing changes, however often the step asks.
    const before = events(d.c).length;
    for (let i = 0; i < 5; i += 1) await failsWith(d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP), 'ERR-MFA-PUSH-PENDING');
    expect(events(d.c).length).toBe(before);
    expect(d.c.chain.attempt(view.attemptId).position).toBe(0);

    expect(await d.c.push.answer(prompt.id, challenge.number, DESKTOP)).toEqual({ outcome: 'approved' });
    expect(d.c.push.pending()).toEqual([]);
    // Answered once: a second answer (another window) finds nothing waiting.
    await failsWith(d.c.push.answer(prompt.id, challenge.number, DESKTOP), 'ERR-NOT-FOUND');
    const done = await d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP);
    expect(done.status).toBe('completed');
    expect(d.c.chain.consumeGrant('test:low', 'low')).toBe(true);
    expect(events(d.c)).toEqual(expect.arrayContaining(['mfa_push_approved', 'mfa_chain_completed']));
    const approved = d.c.audit.list(50).entries.find((e) => e.event === 'mfa_push_approved');
    expect(approved?.data).toMatchObject({ factorId: d.pushId, purpose: 'test:low', sensitivity: 'low', startedBy: 'alice@corp', answeredFrom: 'desktop' });
    expect(JSON.stringify(approved?.data)).not.toContain(`:${challenge.number}`);
  });

  it('a push raises one desktop notice naming the factor, never the number; while locked it names nothing', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    notices.length = 0;
    const { challenge } = await pushStep(d);
    expect(notices).toEqual([{ title: 'Push approval waiting', body: 'This desk: pick the number shown where it was started, or deny it.' }]);
    expect(JSON.stringify(notices)).not.toContain(String(challenge.number));
    // Asked again by the tick (another process's commit seen): no second notice for the same push.
    d.c.tick();
    expect(notices).toHaveLength(1);
    d.c.lock.lock('manual');
    await pushStep(d);
    expect(notices[1]).toEqual({ title: 'Push approval waiting', body: 'Unlock Custodian to answer it.' });
  });

  it('a wrong pick fails the step, resets the chain and counts a failed attempt', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view, challenge } = await pushStep(d);
    const prompt = d.c.push.pending()[0];
    const wrong = prompt?.choices.find((n) => n !== challenge.number) ?? 0;
    expect(await d.c.push.answer(prompt?.id ?? '', wrong, DESKTOP)).toEqual({ outcome: 'mismatched' });
    // A number the prompt never offered is refused and changes nothing.
    await failsWith(d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP), 'ERR-MFA-INVALID');
    expect(d.c.chain.attempt(view.attemptId).position).toBe(0);
    expect(failures(d.c)).toBe(1);
    expect(events(d.c)).toEqual(expect.arrayContaining(['mfa_push_mismatched', 'mfa_chain_step_failed', 'mfa_chain_reset']));
  });

  it('refuses a number the prompt did not offer, and another profile-less or unknown push', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { challenge } = await pushStep(d);
    const prompt = d.c.push.pending()[0];
    const offered = new Set(prompt?.choices);
    const other = [...Array(90).keys()].map((i) => i + 10).find((n) => !offered.has(n)) ?? 0;
    await failsWith(d.c.push.answer(prompt?.id ?? '', other, DESKTOP), 'ERR-VALIDATION');
    await failsWith(d.c.push.answer('pu_aaaaaaaaaaaaaaaa', challenge.number, DESKTOP), 'ERR-NOT-FOUND');
    expect(d.c.push.pending()).toHaveLength(1);
  });

  it('deny and report fails the step without counting an attempt, and records a security event', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view, challenge } = await pushStep(d);
    const prompt = d.c.push.pending()[0];
    expect(d.c.push.deny(prompt?.id ?? '', DESKTOP)).toEqual({ outcome: 'denied' });
    await failsWith(d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP), 'ERR-MFA-PUSH-DENIED');
    expect(failures(d.c)).toBe(0);
    expect(d.c.chain.attempt(view.attemptId).position).toBe(0);
    const denied = d.c.audit.list(50).entries.find((e) => e.event === 'mfa_push_denied');
    expect(denied?.data).toMatchObject({ reported: true, purpose: 'test:low', factorId: d.pushId });
    const failed = d.c.audit.list(50).entries.find((e) => e.event === 'mfa_chain_step_failed');
    expect(failed?.data).toMatchObject({ reason: 'denied' });
    // Reported once: the same denial submitted again is a replay, and that one counts.
    await failsWith(d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP), 'ERR-MFA-REPLAYED');
    expect(failures(d.c)).toBe(1);
  });

  it('a push ignored until its timeout fails with ERR-MFA-EXPIRED and counts once; the sweep records it', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view, challenge } = await pushStep(d);
    const prompt = d.c.push.pending()[0];
    d.t.clock.advanceSeconds(61);
    expect(d.c.push.pending()).toEqual([]);
    await failsWith(d.c.push.answer(prompt?.id ?? '', challenge.number, DESKTOP), 'ERR-MFA-EXPIRED');
    // The window's tick records it as ignored, and counts it (the chain ran out with it).
    d.c.tick();
    d.c.tick();
    expect(events(d.c).filter((e) => e === 'mfa_push_expired')).toHaveLength(1);
    expect(failures(d.c)).toBe(1);
    await failsWith(d.c.chain.verifyStep(view.attemptId, d.pushId, String(challenge.number), DESKTOP), 'ERR-MFA-EXPIRED');
    expect(failures(d.c)).toBe(1);
  });

  it('a backup code stands in for a push step: the step passes, its push leaves the window and is never counted as ignored', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view } = await pushStep(d);
    expect(view.backupAllowed).toBe(true);
    expect(d.c.push.pending()).toHaveLength(1);
    const done = await d.c.chain.verifyStep(view.attemptId, BACKUP_STEP, d.backupCodes[0] ?? '', DESKTOP);
    expect(done).toMatchObject({ status: 'completed', backupUsed: true });
    // Nobody is asked to answer for a step already decided.
    expect(d.c.push.pending()).toEqual([]);
    // Past the push's time, the sweep finds nothing ignored: the completed chain counts nothing.
    d.t.clock.advanceSeconds(61);
    d.c.tick();
    expect(events(d.c)).not.toContain('mfa_push_expired');
    expect(failures(d.c)).toBe(0);
    expect(d.c.chain.consumeGrant('test:low', 'low')).toBe(true);
  });

  it('a wrong backup code in place of a push step resets the chain, withdraws the push and counts once', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const { view } = await pushStep(d);
    await failsWith(d.c.chain.verifyStep(view.attemptId, BACKUP_STEP, 'ZZZZZZZZ', DESKTOP), 'ERR-MFA-INVALID');
    expect(d.c.push.pending()).toEqual([]);
    expect(failures(d.c)).toBe(1);
    d.t.clock.advanceSeconds(61);
    d.c.tick();
    expect(events(d.c)).not.toContain('mfa_push_expired');
    expect(failures(d.c)).toBe(1);
  });

  it('binds an answer to its attempt: an approved push serves no other chain', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    const first = await pushStep(d);
    const prompt = d.c.push.pending()[0];
    await d.c.push.answer(prompt?.id ?? '', first.challenge.number, DESKTOP);
    const other = d.c.chain.start('test:low', 'low', DESKTOP);
    await failsWith(d.c.chain.verifyStep(other.attemptId, d.pushId, String(first.challenge.number), DESKTOP), 'ERR-MFA-INVALID');
    // The first chain still gets its own.
    expect((await d.c.chain.verifyStep(first.view.attemptId, d.pushId, String(first.challenge.number), DESKTOP)).status).toBe('completed');
  });

  it('a new push supersedes the waiting one; at most five pushes per ten minutes per factor', async () => {
    const d = await desk();
    pushOnlyAtLow(d);
    // The enrollment raised one push already.
    for (let i = 1; i < PUSHES_PER_WINDOW; i += 1) {
      await pushStep(d);
      expect(d.c.push.pending()).toHaveLength(1);
    }
    const view = d.c.chain.start('test:low', 'low', DESKTOP);
    const refused = await failsWith(d.c.chain.challenge(view.attemptId, DESKTOP), 'ERR-MFA-RATE-LIMITED');
    expect(Number(refused.details?.retryAfterSeconds)).toBeGreaterThan(0);
    d.t.clock.advanceSeconds(10 * 60);
    await pushStep(d);
  });

  it('critical accepts no push step by default; MFA_METHODS without push refuses it', async () => {
    const d = await desk();
    expect(d.c.policies.get('critical').eligible).toEqual({ by: 'types', types: ['totp'] });
    expect(d.c.policies.eligible(d.c.policies.get('critical')).map((f) => f.type)).toEqual(['totp']);
    expect(d.c.policies.eligible(d.c.policies.get('high')).map((f) => f.type).sort()).toEqual(['push', 'totp']);
    await t?.remove();
    const off = await desk({ MFA_METHODS: 'totp' }).catch((error: unknown) => error);
    expect(off).toMatchObject({ code: 'ERR-MFA-METHOD-DISABLED' });
  });

  it('never leaves push factors alone: the TOTP factor beside a push factor cannot be disabled', async () => {
    const d = await desk();
    await stepUp(d.c, `factors:disable:${d.totpId}`, () => d.totpCode());
    await failsWith(d.c.mfa.disableFactor(d.totpId, DESKTOP), 'ERR-MFA-CODE-FACTOR-REQUIRED');
    expect(d.c.mfa.listFactors().factors.find((f) => f.id === d.totpId)?.state).toBe('active');
  });

  it('a chain started in a shell is answered through the shared database, as a window does', async () => {
    const d = await desk({}, 'following');
    pushOnlyAtLow(d);
    const shell = spawnCli(['verify', '--sensitivity', 'low'], { CUSTODIAN_DATA_DIR: d.t.dir, CUSTODIAN_KEYCHAIN_SERVICE: d.t.config.keychain.service });
    const number = await waitFor(() => /pick (\d{2}) there/.exec(shell.stdoutSoFar())?.[1]);
    const prompt = await waitFor(() => d.c.push.pending()[0]);
    expect(prompt).toMatchObject({ source: 'cli', purpose: 'test:low' });
    expect(await d.c.push.answer(prompt.id, Number(number), DESKTOP)).toEqual({ outcome: 'approved' });
    const run = await shell.done;
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('chain completed: 1 of 1 steps passed');
  });
});

describe('disabling a factor drops what its method kept (issue 12)', () => {
  it("a disabled push factor's waiting push leaves the window; a disabled SMS factor's code and sends leave the database", async () => {
    const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
    standIn = await startTwilioStandIn({ accountSid: credentials.accountSid, authToken: credentials.authToken });
    const twilio = standIn;
    const d = await desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl });
    await new TwilioCredentialsStore(d.c.secrets).write(credentials);
    await stepUp(d.c, 'factors:enroll', () => d.totpCode());
    const sms = await d.c.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: PHONE }, DESKTOP);
    await d.c.mfa.confirmEnrollment(sms.factor.id, twilio.lastCode() ?? '', DESKTOP);
    d.t.clock.advanceSeconds(30);
    // The push factor first at low, the TOTP factor after it: disabling the push factor leaves
    // the policy satisfiable.
    d.c.policies.save({ ...d.c.policies.get('low'), requiredSteps: 1, mode: 'fixed', eligible: { by: 'ids', ids: [d.pushId, d.totpId] } }, ADMIN);
    await pushStep(d);
    expect(d.c.push.pending()).toHaveLength(1);
    const rows = (table: string, id: string): number => (d.c.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE factor_id = ?`).get(id) as { n: number }).n;
    // The confirming code's HMAC (used) and its send are kept with the SMS factor.
    expect(rows('sms_codes', sms.factor.id)).toBe(1);
    expect(rows('sms_sends', sms.factor.id)).toBe(1);
    for (const id of [d.pushId, sms.factor.id]) {
      await stepUp(d.c, `factors:disable:${id}`, () => d.totpCode());
      await d.c.mfa.disableFactor(id, DESKTOP);
      d.t.clock.advanceSeconds(30);
    }
    expect(d.c.push.pending()).toEqual([]);
    expect(rows('sms_codes', sms.factor.id)).toBe(0);
    expect(rows('sms_sends', sms.factor.id)).toBe(0);
  });
});

describe('a chain mixing TOTP, SMS and push (issue 12)', () => {
  for (const mode of ['fixed', 'random'] as const) {
    it(`passes in ${mode} order, each step with its own method`, async () => {
      const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
      standIn = await startTwilioStandIn({ accountSid: credentials.accountSid, authToken: credentials.authToken });
      const d = await desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl }, 'fixed', 7);
      const twilio = standIn;
      await new TwilioCredentialsStore(d.c.secrets).write(credentials);
      await stepUp(d.c, 'factors:enroll', () => d.totpCode());
      const sms = await d.c.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: PHONE }, DESKTOP);
      await d.c.mfa.confirmEnrollment(sms.factor.id, twilio.lastCode() ?? '', DESKTOP);
      d.t.clock.advanceSeconds(30);
      // Medium's default order is fixed and high's random: neither change is a weakening.
      const sensitivity = mode === 'fixed' ? 'medium' : 'high';
      d.c.policies.save(
        { ...d.c.policies.get(sensitivity), requiredSteps: 3, eligible: mode === 'fixed' ? { by: 'ids', ids: [d.totpId, sms.factor.id, d.pushId] } : { by: 'types', types: ['totp', 'sms', 'push'] } },
        ADMIN,
      );
      let view = d.c.chain.start(`test:${sensitivity}`, sensitivity, DESKTOP);
      expect(view.mode).toBe(mode);
      expect(new Set(view.steps.map((s) => s.type))).toEqual(new Set(['totp', 'sms', 'push']));
      if (mode === 'fixed') expect(view.steps.map((s) => s.type)).toEqual(['totp', 'sms', 'push']);
      const challenges: string[] = [];
      while (view.status === 'open') {
        const step = view.steps[view.position];
        if (!step) throw new Error('no step');
        const challenge = await d.c.chain.challenge(view.attemptId, DESKTOP);
        challenges.push(challenge.kind);
        let code: string;
        switch (challenge.kind) {
          case 'code':
            code = d.totpCode();
            break;
          case 'sent':
            code = twilio.lastCode() ?? '';
            break;
          case 'push': {
            const prompt = d.c.push.pending()[0];
            await d.c.push.answer(prompt?.id ?? '', challenge.number, DESKTOP);
            code = String(challenge.number);
            break;
          }
        }
        view = await d.c.chain.verifyStep(view.attemptId, step.id, code, DESKTOP);
      }
      expect(view.status).toBe('completed');
      expect(challenges.sort()).toEqual(['code', 'push', 'sent']);
      const passed = d.c.audit
        .list(100)
        .entries.filter((e) => e.event === 'mfa_chain_step_passed' && e.data.attemptId === view.attemptId)
        .map((e) => e.data.factorId);
      expect(passed.sort()).toEqual([d.totpId, sms.factor.id, d.pushId].sort());
    });
  }
});

async function waitFor<T>(read: () => T | undefined | null): Promise<T> {
  for (let i = 0; i < 400; i += 1) {
    const value = read();
    if (value !== undefined && value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('timed out waiting');
}
