import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MANAGE } from '../../src-shared/domain/policy';
import { createAppRouter } from '../../src-main/ipc/app-router';
import type { Custodian } from '../../src-main/composition';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { TwilioCredentialsStore, type TwilioCredentials } from '../../src-main/services/sms/twilio-credentials';
import { CodeScript } from '../fixtures/code-script';
import { oathtool } from '../fixtures/otp';
import { stepUp } from '../fixtures/step-up';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';

// Issue 12, "Send again" on an SMS enrollment: `factors:resend-code` through the real IPC router
// (sender check, lock gate, schema, handler, error mapping), the real composition on a real
// SQLite file and keychain, and the real `twilio` package talking to the loopback stand-in that
// checks each request against Twilio's OpenAPI description.

const DESKTOP: MfaContext = { source: 'desktop' };
const TO = '+905321234567';
const TO_TYPED = '+90 532 123 45 67';
const MASKED = '+90 ••• ••• •• 67';
const SENDER = '+14155552345';
const ORIGIN = 'http://127.0.0.1:5555';
const FRAME = { url: `${ORIGIN}/`, isMainFrame: true };

let t: TempCustodian | undefined;
let other: TempCustodian | undefined;
let standIn: TwilioStandIn | undefined;
afterEach(async () => {
  await other?.close();
  await t?.remove();
  await standIn?.close();
  t = undefined;
  other = undefined;
  standIn = undefined;
});

interface Desk {
  t: TempCustodian;
  standIn: TwilioStandIn;
  random: CodeScript;
  credentials: TwilioCredentials;
  totpCode: () => string;
  secret: string;
  call: (channel: string, payload?: unknown) => Promise<unknown>;
}

function routerFor(custodian: Custodian): (channel: string, payload?: unknown) => Promise<unknown> {
  const app = createAppRouter(custodian, 'chromium-host', (url) => url.origin === ORIGIN);
  return (channel, payload = {}) => app.handle(channel, payload, FRAME);
}

/** SMS on, Twilio pointed at the stand-in, an admin with a TOTP factor (so MFA is on). */
async function desk(): Promise<Desk> {
  const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
  standIn = await startTwilioStandIn({ accountSid: credentials.accountSid, authToken: credentials.authToken });
  const random = new CodeScript(21);
  t = tempCustodian({ env: { CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl, MFA_METHODS: 'totp,sms' }, random });
  await new TwilioCredentialsStore(t.custodian.secrets).write(credentials);
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  const e = await mfa.startEnrollment({ label: 'Authenticator', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await mfa.revealSecret(e.factor.id, DESKTOP);
  const temp = t;
  const totpCode = (): string => oathtool(secret, temp.clock.now());
  await mfa.confirmEnrollment(e.factor.id, totpCode(), DESKTOP);
  return { t, standIn, random, credentials, totpCode, secret, call: routerFor(t.custodian) };
}

/** Starts an SMS enrollment over IPC, after the chain it takes; returns the pending factor's id. */
async function startSms(d: Desk, code = '100001'): Promise<string> {
  d.t.clock.advanceSeconds(30);
  await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
  d.random.next(code);
  const enrolled = (await d.call('factors:enroll', { label: 'Work phone', type: 'sms', phone: TO_TYPED })) as { ok: boolean; data: { factor: { id: string } } };
  if (!enrolled.ok) throw new Error(`enroll failed: ${JSON.stringify(enrolled)}`);
  return enrolled.data.factor.id;
}

function resentRows(d: Desk): { subject: string; content: string }[] {
  return d.t.custodian.db.prepare("SELECT subject, content FROM audit_log WHERE event = 'mfa_setup_code_resent' ORDER BY id").all() as { subject: string; content: string }[];
}

describe('factors:resend-code (issue 12, "Send again" on an SMS enrollment)', () => {
  it('sends a new code to the same number without another chain; the new code confirms, the old one no longer does', async () => {
    const d = await desk();
    const factorId = await startSms(d, '100001');
    d.t.clock.advanceSeconds(31);
    d.random.next('200002');
    // The grant the enrollment took is used up: a resend asks for none.
    const resent = await d.call('factors:resend-code', { factorId });
    expect(resent).toEqual({ ok: true, data: { sent: { digits: 6, resendAfter: new Date(d.t.clock.now() + 30_000).toISOString() } } });
    expect(d.standIn.received.map((m) => ({ to: m.to, body: m.body }))).toEqual([
      { to: TO, body: 'Custodian code: 100001' },
      { to: TO, body: 'Custodian code: 200002' },
    ]);
    expect(d.standIn.violations).toEqual([]);
    expect(JSON.stringify(resent)).not.toContain(TO.slice(3));

    // Audited, with the number masked and no code.
    const rows = resentRows(d);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.subject).toBe(factorId);
    expect(rows[0]?.content).toContain(MASKED);
    for (const secret of ['200002', TO, TO.slice(3)]) expect(rows[0]?.content).not.toContain(secret);

    // Only the latest code is good.
    expect(await d.call('factors:confirm', { factorId, code: '100001' })).toMatchObject({ ok: false, error: { code: 'ERR-MFA-INVALID' } });
    expect(await d.call('factors:confirm', { factorId, code: '200002' })).toMatchObject({ ok: true, data: { factor: { id: factorId, state: 'active' } } });
  });

  it('counts resends with the first send: the fourth within 10 minutes is ERR-MFA-RATE-LIMITED with its wait, and sends nothing', async () => {
    const d = await desk();
    const factorId = await startSms(d); // send 1 of 3
    d.t.clock.advanceSeconds(31);
    expect(await d.call('factors:resend-code', { factorId })).toMatchObject({ ok: true }); // 2
    d.t.clock.advanceSeconds(31);
    // The third fills the window: its countdown runs to when the first send leaves it.
    const third = (await d.call('factors:resend-code', { factorId })) as { ok: true; data: { sent: { resendAfter: string } } };
    expect(Date.parse(third.data.sent.resendAfter)).toBe(d.t.clock.now() + 538_000);
    d.t.clock.advanceSeconds(20);
    const sent = d.standIn.requestCount;
    expect(await d.call('factors:resend-code', { factorId })).toMatchObject({
      ok: false,
      error: { code: 'ERR-MFA-RATE-LIMITED', details: { retryAfterSeconds: 518 } },
    });
    expect(d.standIn.requestCount).toBe(sent);
    expect(resentRows(d)).toHaveLength(2);
    // The factor is still pending and its last code still confirms it.
    expect(await d.call('factors:confirm', { factorId, code: d.standIn.lastCode() })).toMatchObject({ ok: true, data: { factor: { state: 'active' } } });
  });

  it('refuses an active, unknown, lapsed or TOTP factor, a malformed id, and a locked desk, sending nothing', async () => {
    const d = await desk();
    const factorId = await startSms(d);
    const sent = d.standIn.requestCount;
    const refusal = async (payload: unknown) => {
      const answer = (await d.call('factors:resend-code', payload)) as { ok: boolean; error?: { code: string; details?: unknown } };
      return answer.ok ? 'ok' : answer.error?.code;
    };

    expect(await refusal({ factorId: 'f_aaaaaaaaaaaaaaaa' })).toBe('ERR-NOT-FOUND');
    expect(await refusal({ factorId: 'not an id' })).toBe('ERR-VALIDATION');
    expect(await refusal({})).toBe('ERR-VALIDATION');
    expect(await refusal({ factorId, phone: '+905321234568' })).toBe('ERR-VALIDATION');

    // Confirmed: nothing to resend.
    const confirmed = (await d.call('factors:confirm', { factorId, code: d.standIn.lastCode() })) as { ok: boolean };
    expect(confirmed.ok).toBe(true);
    expect(await refusal({ factorId })).toBe('ERR-MFA-FACTOR-ALREADY-ACTIVE');
    expect(d.standIn.requestCount).toBe(sent);

    // A pending TOTP factor has nothing to send.
    d.t.clock.advanceSeconds(30);
    await stepUp(d.t.custodian, MANAGE.enroll, () => d.totpCode());
    const totp = (await d.call('factors:enroll', { label: 'Tablet' })) as { data: { factor: { id: string } } };
    expect(await d.call('factors:resend-code', { factorId: totp.data.factor.id })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field: 'factorId' } } });

    // Locked: the router's gate refuses before anything runs.
    d.t.custodian.lock.lock('manual');
    expect(await refusal({ factorId })).toBe('ERR-LOCKED');
    d.t.clock.advanceSeconds(30);
    await d.t.custodian.lock.unlock(d.totpCode(), DESKTOP);

    // Lapsed: after its 10 minutes the enrollment is swept, its secret with it.
    const lapsing = await startSms(d);
    const before = d.standIn.requestCount;
    d.t.clock.advanceSeconds(601);
    expect(await refusal({ factorId: lapsing })).toBe('ERR-MFA-EXPIRED');
    expect(await refusal({ factorId: lapsing })).toBe('ERR-NOT-FOUND');
    expect(d.standIn.requestCount).toBe(before);
    expect(resentRows(d)).toEqual([]);
  });

  it('says why when Twilio refuses (ERR-SMS-AUTH), keeps the enrollment, and counts no send', async () => {
    const d = await desk();
    const factorId = await startSms(d);
    const store = new TwilioCredentialsStore(d.t.custodian.secrets);
    await store.write({ ...d.credentials, authToken: randomBytes(16).toString('hex') });
    // More refused sends than the limit allows: none of them was a send.
    for (let i = 0; i < 3; i += 1) {
      const answer = await d.call('factors:resend-code', { factorId });
      expect(answer).toMatchObject({ ok: false, error: { code: 'ERR-SMS-AUTH' } });
      expect(JSON.stringify(answer)).not.toContain(d.credentials.accountSid);
    }
    expect(d.t.custodian.mfa.listFactors().factors.find((f) => f.id === factorId)?.state).toBe('pending');
    expect(resentRows(d)).toEqual([]);
    await store.write(d.credentials);
    d.random.next('300003');
    expect(await d.call('factors:resend-code', { factorId })).toMatchObject({ ok: true });
    expect(await d.call('factors:resend-code', { factorId })).toMatchObject({ ok: true });
    expect(await d.call('factors:confirm', { factorId, code: d.standIn.lastCode() })).toMatchObject({ ok: true });
  });

  it('refuses to resend when MFA_METHODS turns SMS off after the enrollment started', async () => {
    const d = await desk();
    const factorId = await startSms(d);
    // A second Custodian on the same data directory, with SMS off, as after a restart.
    other = tempCustodian({ dir: d.t.dir, env: { CUSTODIAN_SMS_TWILIO_BASE_URL: d.standIn.baseUrl, MFA_METHODS: 'totp' } });
    // On the first one's time, a step on (its codes so far are used), and unlocked as a window would be.
    other.clock.advanceSeconds((d.t.clock.now() - other.clock.now()) / 1000 + 30);
    await other.custodian.lock.unlock(oathtool(d.secret, other.clock.now()), DESKTOP);
    const sent = d.standIn.requestCount;
    expect(await routerFor(other.custodian)('factors:resend-code', { factorId })).toMatchObject({
      ok: false,
      error: { code: 'ERR-MFA-METHOD-DISABLED', details: { method: 'sms' } },
    });
    expect(d.standIn.requestCount).toBe(sent);
  });
});
