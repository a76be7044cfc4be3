import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MANAGE } from '../../src-shared/domain/policy';
import { isAppError } from '../../src-shared/errors';
import { createAppRouter } from '../../src-main/ipc/app-router';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { TwilioCredentialsStore, type TwilioCredentials } from '../../src-main/services/sms/twilio-credentials';
import { CodeScript } from '../fixtures/code-script';
import { diskBack, diskFull } from '../fixtures/disk-full';
import { failsWith } from '../fixtures/fails-with';
import { oathtool } from '../fixtures/otp';
import { CLI, runCli, spawnCli, type CliRun } from '../fixtures/run-cli';
import { stepUp } from '../fixtures/step-up';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';

// Issue 12, SMS factors: the real SmsMethod in the real composition, a real SQLite file, the real
// keychain (scripts/with-keyring.sh) and the real `twilio` package talking to the loopback
// stand-in, which checks every request against Twilio's OpenAPI description.

const DESKTOP: MfaContext = { source: 'desktop' };
const ACTOR = { actor: 'alice@corp', source: 'desktop' };
const TO = '+905321234567';
const TO_TYPED = '+90 532 123 45 67';
const MASKED = '+90 ••• ••• •• 67';
const SENDER = '+14155552345';

let t: TempCustodian | undefined;
let standIn: TwilioStandIn | undefined;
afterEach(async () => {
  await t?.remove();
  await standIn?.close();
  t = undefined;
  standIn = undefined;
});

interface Desk {
  t: TempCustodian;
  standIn: TwilioStandIn;
  random: CodeScript;
  credentials: TwilioCredentials;
  /** The TOTP factor's current code. */
  totpCode: () => string;
  totpId: string;
}

/** A desk with SMS turned on, Twilio set up against the stand-in, and a first (TOTP) factor. */
/**
 * The environment of a shell on the desk's data directory, its keychain and the stand-in. The
 * shell runs on real time, not on the test's advances: two steps either side let codes of later
 * time steps pass.
 */
function shellEnv(d: Desk): NodeJS.ProcessEnv {
  return {
    CUSTODIAN_DATA_DIR: d.t.dir,
    CUSTODIAN_KEYCHAIN_SERVICE: d.t.config.keychain.service,
    CUSTODIAN_SMS_TWILIO_BASE_URL: d.standIn.baseUrl,
    MFA_METHODS: 'totp,sms',
    CUSTODIAN_MFA_WINDOW_STEPS: '2',
  };
}

async function desk(env: NodeJS.ProcessEnv = { MFA_METHODS: 'totp,sms' }, clock: 'fixed' | 'following' = 'fixed'): Promise<Desk> {
  const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
  standIn = await startTwilioStandIn({ accountSid: credentials.accountSid, authToken: credentials.authToken });
  const random = new CodeScript();
  t = tempCustodian({ env: { CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl, ...env }, random, clock });
  await new TwilioCredentialsStore(t.custodian.secrets).write(credentials);
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  const e = await mfa.startEnrollment({ label: 'Authenticator', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
  const temp = t;
  const totpCode = (): string => oathtool(secret, temp.clock.now());
  await mfa.confirmEnrollment(e.factor.id, totpCode(), DESKTOP);
  return { t, standIn, random, credentials, totpCode, totpId: e.factor.id };
}

/** Adds an SMS factor as an approver would: a chain for `factors:enroll`, the code from the message. */
async function enrollSms(d: Desk): Promise<string> {
  d.t.clock.advanceSeconds(30);
  await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
  const e = await d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP);
  const code = d.standIn.lastCode();
  if (!code) throw new Error('no code sent');
  await d.t.custodian.mfa.confirmEnrollment(e.factor.id, code, DESKTOP);
  return e.factor.id;
}

/** A fixed chain at `low`: the TOTP step, then the SMS step (saving more steps weakens nothing). */
function fixedTotpThenSms(d: Desk, smsId: string): void {
  d.t.custodian.policies.save(
    { sensitivity: 'low', mode: 'fixed', requiredSteps: 2, eligible: { by: 'ids', ids: [d.totpId, smsId] }, challengeTimeoutSeconds: 60 },
    ACTOR,
  );
}

function auditText(temp: TempCustodian): string {
  return JSON.stringify(temp.custodian.db.prepare('SELECT * FROM audit_log').all());
}

function fileBytes(temp: TempCustodian): string {
  return ['', '-wal', '-shm'].map((s) => (existsSync(temp.dbFile + s) ? readFileSync(temp.dbFile + s).toString('latin1') : '')).join('');
}

describe('SMS factors (issue 12)', () => {
  it('enrolls a number: the first code goes to it, the factor shows the number masked, and that code confirms it', async () => {
    const d = await desk();
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    d.random.next('402917');
    const e = await d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP);
    // The message went to the number, through Twilio's API as its spec describes, with the scripted code.
    expect(d.standIn.violations).toEqual([]);
    expect(d.standIn.received.map((m) => ({ to: m.to, from: m.from, body: m.body }))).toEqual([
      { to: TO, from: SENDER, body: 'Custodian code: 402917' },
    ]);
    expect(e.factor).toMatchObject({ type: 'sms', phoneMasked: MASKED, state: 'pending' });
    expect(e.secretMasked).toBe(MASKED);
    expect(e.sent).toEqual({ digits: 6, resendAfter: new Date(d.t.clock.now() + 30_000).toISOString() });
    expect(JSON.stringify(e)).not.toContain(TO.slice(3));

    const confirmed = await d.t.custodian.mfa.confirmEnrollment(e.factor.id, '402917', DESKTOP);
    expect(confirmed.factor).toMatchObject({ type: 'sms', state: 'active', phoneMasked: MASKED });
    expect(d.t.custodian.mfa.listFactors().factors.map((f) => f.type)).toEqual(['totp', 'sms']);
    const setup = d.t.custodian.db.prepare("SELECT content FROM audit_log WHERE event = 'mfa_setup_initiated' ORDER BY id DESC LIMIT 1").pluck().get() as string;
    expect(setup).toContain(MASKED);
  });

  it('refuses a wrong confirming code, and an enrollment with a number that is not one', async () => {
    const d = await desk();
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    await failsWith(d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: '+1 555 555 5555' }, DESKTOP), 'ERR-VALIDATION');
    d.random.next('111111');
    const e = await d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP);
    await failsWith(d.t.custodian.mfa.confirmEnrollment(e.factor.id, '111112', DESKTOP), 'ERR-MFA-INVALID');
    expect((await d.t.custodian.mfa.confirmEnrollment(e.factor.id, '111111', DESKTOP)).factor.state).toBe('active');
  });

  it('passes a fixed chain of a TOTP step then an SMS step, the SMS code sent when its step asks', async () => {
    const d = await desk();
    const smsId = await enrollSms(d);
    fixedTotpThenSms(d, smsId);
    const { chain } = d.t.custodian;
    d.t.clock.advanceSeconds(30);
    const started = chain.start('test:low', 'low', DESKTOP);
    expect(started.steps.map((s) => s.id)).toEqual([d.totpId, smsId]);
    expect(await chain.challenge(started.attemptId, DESKTOP)).toEqual({ kind: 'code', digits: 6 });
    const sentBefore = d.standIn.received.length;
    const afterTotp = await chain.verifyStep(started.attemptId, d.totpId, d.totpCode(), DESKTOP);
    expect(afterTotp).toMatchObject({ status: 'open', position: 1 });
    // Nothing is sent until the SMS step asks for its code.
    expect(d.standIn.received.length).toBe(sentBefore);
    d.random.next('580314');
    // In the approver's language.
    d.t.custodian.settings.setLanguage('tr', 'alice@corp');
    const challenge = await chain.challenge(started.attemptId, DESKTOP);
    expect(challenge).toMatchObject({ kind: 'sent', digits: 6 });
    expect(d.standIn.received.at(-1)?.body).toBe('Custodian kodu: 580314');
    expect(d.standIn.violations).toEqual([]);
    const done = await chain.verifyStep(started.attemptId, smsId, '580314', DESKTOP);
    expect(done.status).toBe('completed');
  });

  it('accepts a code once: the same code again is a replay', async () => {
    const d = await desk();
    const smsId = await enrollSms(d);
    const { chain } = d.t.custodian;
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    const first = chain.start('test:low', 'low', DESKTOP);
    await chain.challenge(first.attemptId, DESKTOP);
    const code = d.standIn.lastCode() ?? '';
    expect((await chain.verifyStep(first.attemptId, smsId, code, DESKTOP)).status).toBe('completed');
    const second = chain.start('test:low', 'low', DESKTOP);
    const replay = await chain.verifyStep(second.attemptId, smsId, code, DESKTOP).catch((e: unknown) => e);
    expect(isAppError(replay) && replay.code).toBe('ERR-MFA-REPLAYED');
    // The code row says when it was used, and that is all it keeps besides its HMAC.
    expect(d.t.custodian.db.prepare('SELECT used_at FROM sms_codes WHERE factor_id = ?').pluck().get(smsId)).toBe(d.t.clock.now());
  });

  it('leaves the code unused when its step is refused on a full disk (issue 13): the same code passes once space is back', async () => {
    const d = await desk();
    const smsId = await enrollSms(d);
    const { chain, db } = d.t.custodian;
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    const attempt = chain.start('test:low', 'low', DESKTOP);
    await chain.challenge(attempt.attemptId, DESKTOP);
    const code = d.standIn.lastCode() ?? '';
    diskFull(d.t.custodian);
    await failsWith(chain.verifyStep(attempt.attemptId, smsId, code, DESKTOP), 'ERR-AUDIT-UNAVAILABLE');
    expect(db.prepare('SELECT used_at FROM sms_codes WHERE factor_id = ?').pluck().get(smsId)).toBeNull();
    diskBack(d.t.custodian);
    expect((await chain.verifyStep(attempt.attemptId, smsId, code, DESKTOP)).status).toBe('completed');
  });

  it('refuses a code after its timeout (mfa.challengeTimeoutSeconds), at enrollment and in a chain', async () => {
    const d = await desk();
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    const e = await d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP);
    const late = d.standIn.lastCode() ?? '';
    d.t.clock.advanceSeconds(61);
    // The enrollment waits 10 minutes; its code only 60 seconds.
    await failsWith(d.t.custodian.mfa.confirmEnrollment(e.factor.id, late, DESKTOP), 'ERR-MFA-INVALID');
    // Resuming sends a new code; like starting, it takes a grant for `factors:enroll`.
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    const resumed = await d.t.custodian.mfa.resumeEnrollment(e.factor.id, DESKTOP);
    expect(resumed.sent).toMatchObject({ digits: 6 });
    await d.t.custodian.mfa.confirmEnrollment(e.factor.id, d.standIn.lastCode() ?? '', DESKTOP);

    const smsId = e.factor.id;
    const { chain } = d.t.custodian;
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    const first = chain.start('test:low', 'low', DESKTOP);
    await chain.challenge(first.attemptId, DESKTOP);
    const code = d.standIn.lastCode() ?? '';
    d.t.clock.advanceSeconds(61);
    // A new attempt, its step not yet challenged: the code sent 61 s ago is no longer good.
    const second = chain.start('test:low', 'low', DESKTOP);
    await failsWith(chain.verifyStep(second.attemptId, smsId, code, DESKTOP), 'ERR-MFA-INVALID');
  });

  it('sends at most 3 codes per 10 minutes per factor, then says when to retry, and sends again after', async () => {
    const d = await desk();
    const smsId = await enrollSms(d); // the confirming code was the first send
    const firstSend = d.t.clock.now();
    const { chain } = d.t.custodian;
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    const challengeAnew = () => chain.challenge(chain.start('test:low', 'low', DESKTOP).attemptId, DESKTOP);
    d.t.clock.advanceSeconds(60);
    expect(await challengeAnew()).toEqual({ kind: 'sent', digits: 6, resendAfter: new Date(d.t.clock.now() + 30_000).toISOString() });
    d.t.clock.advanceSeconds(60);
    // The third send fills the window: its countdown runs to when the first send leaves it.
    expect(await challengeAnew()).toEqual({ kind: 'sent', digits: 6, resendAfter: new Date(firstSend + 600_000).toISOString() });
    const sent = d.standIn.received.length;
    const refused = await failsWith(challengeAnew(), 'ERR-MFA-RATE-LIMITED');
    expect(refused.details).toEqual({ retryAfterSeconds: 480 });
    expect(d.standIn.received.length).toBe(sent);
    d.t.clock.advanceSeconds(479);
    await failsWith(challengeAnew(), 'ERR-MFA-RATE-LIMITED');
    d.t.clock.advanceSeconds(1);
    expect(await challengeAnew()).toMatchObject({ kind: 'sent' });
    expect(d.standIn.received.length).toBe(sent + 1);
  });

  it('counts sends in the database: six challenges at once from two processes send only the two left', async () => {
    const d = await desk();
    const smsId = await enrollSms(d); // one send of three
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    // A second Custodian on the same data directory, as `custodian verify` in a shell would be.
    const other = tempCustodian({ dir: d.t.dir, env: { CUSTODIAN_SMS_TWILIO_BASE_URL: d.standIn.baseUrl, MFA_METHODS: 'totp,sms' } });
    try {
      const sent = d.standIn.received.length;
      const challengeAnew = (c: typeof d.t.custodian) => c.chain.challenge(c.chain.start('test:low', 'low', DESKTOP).attemptId, DESKTOP);
      const results = await Promise.allSettled([d.t.custodian, other.custodian, d.t.custodian, other.custodian, d.t.custodian, other.custodian].map(challengeAnew));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of results) if (r.status === 'rejected') expect(isAppError(r.reason) && r.reason.code).toBe('ERR-MFA-RATE-LIMITED');
      expect(d.standIn.received.length).toBe(sent + 2);
    } finally {
      await other.close();
    }
  });

  it('surfaces a Twilio authentication error as ERR-SMS-AUTH, counting no send and leaving the chain as it was', async () => {
    const d = await desk();
    const smsId = await enrollSms(d);
    fixedTotpThenSms(d, smsId);
    const { chain } = d.t.custodian;
    d.t.clock.advanceSeconds(30);
    const attempt = chain.start('test:low', 'low', DESKTOP);
    await chain.verifyStep(attempt.attemptId, d.totpId, d.totpCode(), DESKTOP);
    const store = new TwilioCredentialsStore(d.t.custodian.secrets);
    await store.write({ ...d.credentials, authToken: randomBytes(16).toString('hex') });
    // More refused sends than the limit allows: a send Twilio refused was never a send.
    for (let i = 0; i < 4; i += 1) {
      const error = await failsWith(chain.challenge(attempt.attemptId, DESKTOP), 'ERR-SMS-AUTH');
      expect(JSON.stringify(error)).not.toContain(TO.slice(3));
    }
    expect(d.t.custodian.chain.attempt(attempt.attemptId)).toMatchObject({ status: 'open', position: 1 });
    await store.write(d.credentials);
    // Only the confirming send is counted so far: two more fit in the window.
    await chain.challenge(attempt.attemptId, DESKTOP);
    const done = await chain.verifyStep(attempt.attemptId, smsId, d.standIn.lastCode() ?? '', DESKTOP);
    expect(done.status).toBe('completed');
  });

  it('takes an enrollment back when its first code cannot be sent, saying why', async () => {
    const d = await desk();
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    await new TwilioCredentialsStore(d.t.custodian.secrets).write({ ...d.credentials, authToken: randomBytes(16).toString('hex') });
    await failsWith(d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP), 'ERR-SMS-AUTH');
    expect(d.t.custodian.mfa.listFactors().factors.map((f) => f.type)).toEqual(['totp']);
    const removed = d.t.custodian.db.prepare("SELECT subject FROM audit_log WHERE event = 'mfa_setup_removed'").pluck().all() as string[];
    expect(removed).toHaveLength(1);
    // Its HMAC key and number left the keychain with it.
    expect(await d.t.custodian.secrets.get(`${d.t.custodian.mfa.requireProfile().id}:${removed[0] ?? ''}`)).toBeNull();
  });

  it('keeps the code, the number and the HMAC key out of the database file, its WAL and the audit rows', async () => {
    const d = await desk();
    const smsId = await enrollSms(d);
    const { chain } = d.t.custodian;
    d.t.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 1, eligible: { by: 'ids', ids: [smsId] }, challengeTimeoutSeconds: 60 }, ACTOR);
    const attempt = chain.start('test:low', 'low', DESKTOP);
    d.random.next('739264');
    await chain.challenge(attempt.attemptId, DESKTOP);
    const stored = JSON.parse((await d.t.custodian.secrets.get(`${d.t.custodian.mfa.requireProfile().id}:${smsId}`)) ?? '{}') as { key: string; phone: string };
    expect(stored.phone).toBe(TO);
    const key = Buffer.from(stored.key, 'base64');
    const bytes = fileBytes(d.t);
    const audit = auditText(d.t);
    for (const secret of ['739264', TO, TO.slice(1), TO.slice(3), stored.key, key.toString('latin1'), key.toString('hex')]) {
      expect(bytes).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    await chain.verifyStep(attempt.attemptId, smsId, '739264', DESKTOP);
    expect(fileBytes(d.t)).not.toContain('739264');
    expect(auditText(d.t)).not.toContain('739264');
  });

  it('lists an SMS factor in the shell with its number masked (`custodian factors list`)', async () => {
    const d = await desk({ MFA_METHODS: 'totp,sms' }, 'following');
    const smsId = await enrollSms(d);
    await d.t.close();
    const env = { CUSTODIAN_DATA_DIR: d.t.dir, CUSTODIAN_KEYCHAIN_SERVICE: d.t.config.keychain.service, MFA_METHODS: 'totp,sms' };
    const run = runCli(['factors', 'list'], env);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`${smsId}  active   Work phone  (SMS to ${MASKED}; last used`);
    expect(run.stdout).toContain(`${d.totpId}  active   Authenticator  (SHA1, 6 digits, 30 s;`);
    const json = runCli(['factors', 'list', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ factors: [{ type: 'totp' }, { id: smsId, type: 'sms', phoneMasked: MASKED }] });
    expect(run.stdout + json.stdout).not.toContain(TO.slice(3));
  });

  it('enrolls an SMS factor over IPC (`factors:enroll` with type sms): no QR, the code sent, then confirmed', async () => {
    const d = await desk();
    const app = createAppRouter(d.t.custodian, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    const call = (channel: string, payload: unknown = {}) => app.handle(channel, payload, { url: 'http://127.0.0.1:5555/', isMainFrame: true });
    // A number that is not one is refused by the contract, naming the field, before anything is sent.
    const sent = d.standIn.requestCount;
    for (const phone of ['+1 555 555 5555', '0532 123 45 67', '+90 532 123 45 67 ext. 3']) {
      expect(await call('factors:enroll', { label: 'Work phone', type: 'sms', phone })).toMatchObject({
        ok: false,
        error: { code: 'ERR-VALIDATION', details: { field: 'phone' } },
      });
    }
    // TOTP fields do not go with an SMS request, nor a phone with a TOTP one.
    expect(await call('factors:enroll', { label: 'Work phone', type: 'sms', phone: TO_TYPED, digits: 6 })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    expect(await call('factors:enroll', { label: 'Work phone', phone: TO_TYPED })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    expect(d.standIn.requestCount).toBe(sent);

    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    d.random.next('640218');
    const enrolled = await call('factors:enroll', { label: 'Work phone', type: 'sms', phone: TO_TYPED });
    if (!enrolled.ok) throw new Error(`enroll failed: ${JSON.stringify(enrolled)}`);
    expect(Object.keys(enrolled.data).sort()).toEqual(['factor', 'qrDataUrl', 'secretMasked', 'sent']);
    expect(enrolled.data).toMatchObject({ qrDataUrl: '', factor: { type: 'sms', state: 'pending', phoneMasked: MASKED }, sent: { digits: 6 } });
    expect(JSON.stringify(enrolled.data)).not.toContain(TO.slice(3));
    expect(d.standIn.received.at(-1)).toMatchObject({ to: TO, body: 'Custodian code: 640218' });
    const factorId = (enrolled.data as { factor: { id: string } }).factor.id;
    expect(await call('factors:confirm', { factorId, code: '640218' })).toMatchObject({ ok: true, data: { factor: { id: factorId, state: 'active' } } });

    // A TOTP request without `type` (what the window sends) still enrolls an authenticator app.
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    const totp = await call('factors:enroll', { label: 'Tablet', digits: 8 });
    if (!totp.ok) throw new Error(`enroll failed: ${JSON.stringify(totp)}`);
    expect(Object.keys(totp.data).sort()).toEqual(['factor', 'qrDataUrl', 'secretMasked']);
    expect(totp.data).toMatchObject({ factor: { type: 'totp', digits: 8, state: 'pending' } });
  });

  it('enrolls an SMS factor from the shell (`factors enroll --sms`), and `verify --sensitivity` sends the SMS step its code', async () => {
    const d = await desk({ MFA_METHODS: 'totp,sms' }, 'following');
    await d.t.close();
    const env = shellEnv(d);
    const bad = runCli(['factors', 'enroll', '--label', 'Work phone', '--sms', '+1 555 555 5555'], env, '');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('The request is not valid: --sms.');
    expect(d.standIn.requestCount).toBe(0);

    d.t.clock.advanceSeconds(30);
    // Spawned, not run synchronously: the stand-in answers from this process's event loop.
    const run = await spawnCli(['factors', 'enroll', '--label', 'Work phone', '--sms', TO_TYPED], env, `${d.totpCode()}\n`).done;
    expect(run.stderr).toContain('this change takes a step-up chain');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`a code was sent to ${MASKED}`);
    expect(run.stdout).not.toContain(TO.slice(3));
    const smsId = /factor (\S+) is pending/.exec(run.stdout)?.[1] ?? '';
    const code = d.standIn.lastCode();
    expect(code).toMatch(/^\d{6}$/);
    const confirmed = runCli(['factors', 'confirm', smsId], env, `${code}\n`);
    expect(confirmed.stdout).toContain(`factor ${smsId} is active`);
    expect(confirmed.status).toBe(0);

    d.t.reopen();
    fixedTotpThenSms(d, smsId);
    await d.t.close();
    d.t.clock.advanceSeconds(30);
    const messages = d.standIn.received.length;
    const verified = await answerAfterSend(['verify', '--sensitivity', 'low'], env, d.standIn, messages, d.totpCode());
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain(`a code was sent to ${MASKED}`);
    expect(verified.stdout).toContain('chain completed: 2 of 2 steps passed');
    expect(d.standIn.received).toHaveLength(messages + 1);
    expect(d.standIn.violations).toEqual([]);
  });

  it('ends `verify --sensitivity` with exit 1 and Twilio\'s refusal when the SMS step cannot send its code', async () => {
    const d = await desk({ MFA_METHODS: 'totp,sms' }, 'following');
    const smsId = await enrollSms(d);
    fixedTotpThenSms(d, smsId);
    // The token changed at Twilio but not here: the stand-in answers 401 (Twilio's 20003).
    await new TwilioCredentialsStore(d.t.custodian.secrets).write({ ...d.credentials, authToken: randomBytes(16).toString('hex') });
    await d.t.close();
    const env = shellEnv(d);
    // enrollSms used the code of 30 s ahead; the shell (on real time) takes up to two steps ahead.
    d.t.clock.advanceSeconds(30);
    const run = await spawnCli(['verify', '--sensitivity', 'low'], env, `${d.totpCode()}\n`).done;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('step 2 (Work phone): Twilio refused the account SID or auth token.');
    expect(run.stdout).not.toContain('a code was sent');
    expect(run.stdout).not.toContain('chain completed');
  });

  it('refuses an SMS enrollment when MFA_METHODS turns SMS off', async () => {
    const d = await desk({ MFA_METHODS: 'totp,push' });
    d.t.clock.advanceSeconds(30);
    const sent = d.standIn.requestCount;
    await failsWith(d.t.custodian.mfa.startEnrollment({ label: 'Work phone', type: 'sms', phone: TO_TYPED }, DESKTOP), 'ERR-MFA-METHOD-DISABLED');
    expect(d.standIn.requestCount).toBe(sent);
    expect(d.t.custodian.mfa.listFactors().factors.map((f) => f.type)).toEqual(['totp']);
  });
});

/**
 * Runs a chain command whose first step is TOTP and second SMS, as a script would: the TOTP code
 * once the step list is out, the SMS code once the shell says it sent one and the stand-in has it.
 */
function answerAfterSend(args: string[], env: NodeJS.ProcessEnv, twilio: TwilioStandIn, messagesBefore: number, totpCode: string): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let step = 0;
  const listen = (): void => {
    if (step === 0 && /expires at/.test(stdout)) {
      step = 1;
      child.stdin.write(`${totpCode}\n`);
    }
    const code = twilio.received.length > messagesBefore ? twilio.lastCode() : null;
    if (step === 1 && /a code was sent to/.test(stdout) && code) {
      step = 2;
      child.stdin.end(`${code}\n`);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    listen();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}
