import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../src-shared/errors';
import { catalogs } from '../../src-shared/i18n';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter, type IpcRouter } from '../../src-main/ipc/ipc-router';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { loadTwilio, rebasedRequestClient, smsError as mapError } from '../../src-main/platform/sms/twilio-sms-sender';
import { TWILIO_CREDENTIALS_ACCOUNT, TwilioCredentialsStore, type TwilioCredentials } from '../../src-main/services/sms/twilio-credentials';
import { failsWith } from '../fixtures/fails-with';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';
import { oathtool } from '../fixtures/otp';
import { stepUp } from '../fixtures/step-up';
import { MANAGE, SMS_CONFIGURE_PURPOSE } from '../../src-shared/domain/policy';

// Runs inside scripts/with-keyring.sh: the real keychain, a real SQLite file, the real `twilio`
// package talking HTTP to a stand-in that checks each request against Twilio's OpenAPI description.

const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
const TO = '+905321234567';
const TO_TYPED = '+90 532 123 45 67';
const SENDER = '+14155552345';

function freshCredentials(): TwilioCredentials {
  return { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
}

let t: TempCustodian | undefined;
let standIn: TwilioStandIn | undefined;
afterEach(async () => {
  await t?.remove();
  await standIn?.close();
  t = undefined;
  standIn = undefined;
});

function desk(env: NodeJS.ProcessEnv = {}): { t: TempCustodian; router: IpcRouter } {
  t = tempCustodian({ env });
  const custodian = t.custodian;
  const router = createIpcRouter({
    handlers: createHandlers(custodian, 'chromium-host'),
    isTrustedUrl: (url) => url.origin === 'http://127.0.0.1:5555',
    language: () => custodian.settings.get().language,
  });
  return { t, router };
}

const phones = new WeakMap<TempCustodian, Map<string, string>>();

/**
 * A grant for `sms:configure` (issue 12: changing the credentials takes a chain at the critical
 * policy, which asks for two factors), as the window gets one: an approver with two
 * authenticators, enrolled the first time, passes the chain in the next time step.
 */
async function grant(temp: TempCustodian): Promise<void> {
  const ctx = { source: 'desktop' };
  let secrets = phones.get(temp);
  const code = (id: string): string => oathtool(secrets?.get(id) ?? '', temp.clock.now());
  if (secrets === undefined) {
    const { mfa } = temp.custodian;
    secrets = new Map();
    phones.set(temp, secrets);
    mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, ctx);
    for (const label of ['Phone', 'Tablet']) {
      if (secrets.size > 0) {
        temp.clock.advanceSeconds(30);
        await stepUp(temp.custodian, MANAGE.enroll, code, { ctx });
      }
      const enrollment = await mfa.startEnrollment({ label, digits: 6, period: 30, algorithm: 'SHA1' }, ctx);
      secrets.set(enrollment.factor.id, await mfa.revealSecret(enrollment.factor.id, ctx));
      await mfa.confirmEnrollment(enrollment.factor.id, code(enrollment.factor.id), ctx);
    }
  }
  temp.clock.advanceSeconds(30);
  await stepUp(temp.custodian, SMS_CONFIGURE_PURPOSE, code, { ctx });
}

/** Whatever crossed a boundary must not hold a credential, the message body or the whole number. */
function expectNothingSensitive(thing: unknown, credentials: TwilioCredentials): void {
  const text = isAppError(thing) ? JSON.stringify({ message: thing.message, details: thing.details, stack: thing.stack }) : JSON.stringify(thing);
  for (const secret of [credentials.authToken, credentials.accountSid, TO, TO.slice(1), catalogs.en.sms.testBody, 'Authorization', 'Basic ']) {
    expect(text).not.toContain(secret);
  }
}

describe('Twilio credentials in the keychain', () => {
  it('round-trip through the keychain, come back masked, and are never in the database file or the audit log', async () => {
    const { t: temp, router } = desk();
    const credentials = freshCredentials();
    await grant(temp);
    const saved = await router.handle('sms:set-config', credentials, APP);
    expect(saved).toEqual({
      ok: true,
      data: { configured: true, accountSidLast4: credentials.accountSid.slice(-4), senderKind: 'phone', senderMasked: '+1 ••• ••• ••45', authTokenSet: true },
    });
    // A second reader on the same keychain (another process) sees exactly what was entered.
    const other = new TwilioCredentialsStore(new KeytarSecretStore({ service: temp.config.keychain.service, timeoutMs: 5000 }));
    expect(await other.read()).toEqual(credentials);

    const got = await router.handle('sms:get-config', {}, APP);
    expect(got).toEqual(saved);
    expect(JSON.stringify(got)).not.toContain(credentials.authToken);

    const rows = [...temp.custodian.audit.export()].filter((row) => row.event.startsWith('sms_'));
    expect(rows).toMatchObject([
      { event: 'sms_credentials_set', subject: 'twilio', data: { accountSidLast4: credentials.accountSid.slice(-4), sender: '+1 ••• ••• ••45', senderKind: 'phone', tokenReplaced: false } },
    ]);
    for (const secret of [credentials.authToken, credentials.accountSid, credentials.sender]) expect(JSON.stringify(rows)).not.toContain(secret);

    await temp.close();
    const bytes = ['', '-wal', '-shm'].map((s) => (existsSync(temp.dbFile + s) ? readFileSync(temp.dbFile + s).toString('latin1') : '')).join('');
    expect(bytes.length).toBeGreaterThan(1000);
    for (const secret of [credentials.authToken, credentials.accountSid, credentials.sender, credentials.sender.slice(1)]) expect(bytes).not.toContain(secret);
  });

  it('takes a grant from a critical chain (sms:configure): without one nothing is stored, and one serves one save', async () => {
    const { t: temp, router } = desk();
    const credentials = freshCredentials();
    expect(await router.handle('sms:set-config', credentials, APP)).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    await grant(temp);
    expect(await router.handle('sms:set-config', credentials, APP)).toMatchObject({ ok: true, data: { configured: true } });
    expect(await router.handle('sms:set-config', freshCredentials(), APP)).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    const store = new TwilioCredentialsStore(new KeytarSecretStore({ service: temp.config.keychain.service, timeoutMs: 5000 }));
    expect(await store.read()).toEqual(credentials);
  });

  it('keeps the saved token when it is left out for the same account, and asks for it for another account', async () => {
    const { t: temp, router } = desk();
    const credentials = freshCredentials();
    // The first save must carry a token: there is none to keep.
    await grant(temp);
    const first = await router.handle('sms:set-config', { accountSid: credentials.accountSid, sender: SENDER }, APP);
    expect(first).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field: 'authToken' } } });
    expect(await temp.custodian.sms.config()).toMatchObject({ configured: false });

    await grant(temp);

    await router.handle('sms:set-config', credentials, APP);
    const service = `MG${randomBytes(16).toString('hex')}`;
    await grant(temp);
    const changed = await router.handle('sms:set-config', { accountSid: credentials.accountSid, sender: service }, APP);
    expect(changed).toMatchObject({ ok: true, data: { senderKind: 'messaging-service', senderMasked: `MG…${service.slice(-4)}` } });
    const store = new TwilioCredentialsStore(new KeytarSecretStore({ service: temp.config.keychain.service, timeoutMs: 5000 }));
    expect(await store.read()).toEqual({ ...credentials, sender: service });

    await grant(temp);

    const otherAccount = await router.handle('sms:set-config', { accountSid: freshCredentials().accountSid, sender: SENDER }, APP);
    expect(otherAccount).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field: 'authToken' } } });
    expect(await store.read()).toEqual({ ...credentials, sender: service });

    const events = [...temp.custodian.audit.export()].filter((row) => row.event.startsWith('sms_'));
    expect(events.map((row) => [row.event, row.data.tokenReplaced])).toEqual([
      ['sms_credentials_set', false],
      ['sms_credentials_changed', false],
    ]);
  });

  it('puts the keychain back when the audit row cannot be written (no row, no change)', async () => {
    const { t: temp } = desk();
    const first = freshCredentials();
    await grant(temp);
    await temp.custodian.sms.setConfig(first, 'alice@corp');
    // The audit row for the change cannot be committed (the grant still can be used up).
    await grant(temp);
    temp.custodian.db.exec(
      "CREATE TEMP TRIGGER refuse_sms_row BEFORE INSERT ON main.audit_log WHEN NEW.content LIKE '%sms_credentials%' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    await failsWith(temp.custodian.sms.setConfig(freshCredentials(), 'alice@corp'), 'ERR-AUDIT-UNAVAILABLE');
    temp.custodian.db.exec('DROP TRIGGER refuse_sms_row;');
    const store = new TwilioCredentialsStore(new KeytarSecretStore({ service: temp.config.keychain.service, timeoutMs: 5000 }));
    expect(await store.read()).toEqual(first);
  });

  it('treats a keychain entry garbled outside Custodian as not set up', async () => {
    const { t: temp } = desk();
    await temp.custodian.secrets.set(TWILIO_CREDENTIALS_ACCOUNT, '{"v":1,"accountSid":"nope"}');
    expect(await temp.custodian.sms.config()).toMatchObject({ configured: false });
    await failsWith(temp.custodian.sms.sendTest(TO, 'alice@corp'), 'ERR-SMS-NOT-CONFIGURED');
  });
});

describe('the IPC channels refuse bad input before any service runs', () => {
  const good = (): TwilioCredentials => freshCredentials();
  it.each([
    ['a SID that is not AC + 32 hex', { ...good(), accountSid: 'AC123' }, 'accountSid'],
    ['an API key SID for the account SID', { ...good(), accountSid: `SK${'a'.repeat(32)}` }, 'accountSid'],
    ['a token of the wrong length', { ...good(), authToken: 'abc' }, 'authToken'],
    ['the SID pasted as the token', (() => { const c = good(); return { ...c, authToken: c.accountSid }; })(), 'authToken'],
    ['a national sender number', { ...good(), sender: '0532 123 45 67' }, 'sender'],
    ['a sender with a bidi override', { ...good(), sender: '+1 415 \u202e5452 555' }, 'sender'],
    ['an extra field', { ...good(), baseUrl: 'http://evil.example' }, 'request'],
  ])('sms:set-config refuses %s with ERR-VALIDATION, stores nothing and says no secret', async (_name, payload, field) => {
    const { t: temp, router } = desk();
    const result = await router.handle('sms:set-config', payload, APP);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('ERR-VALIDATION');
    if (field !== 'request') expect(result.error.details?.field).toBe(field);
    expect(JSON.stringify(result)).not.toContain((payload as TwilioCredentials).authToken);
    expect(await temp.custodian.secrets.get(TWILIO_CREDENTIALS_ACCOUNT)).toBeNull();
    expect(temp.custodian.audit.head()).toBeNull();
  });

  it.each([
    ['a national number', '0532 123 45 67'],
    ['a fictional 555 number', '+1 555 555 5555'],
    ['a number with hidden reordering', '+90 532 123 \u202e76 54\u202c'],
    ['letters', 'call me'],
    ['a number', 905321234567],
  ])('sms:test refuses %s, and Twilio hears nothing', async (_name, to) => {
    const credentials = freshCredentials();
    standIn = await startTwilioStandIn(credentials);
    const { t: temp, router } = desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl });
    await grant(temp);
    await temp.custodian.sms.setConfig(credentials, 'alice@corp');
    const result = await router.handle('sms:test', { to }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION', details: { field: 'to' } } });
    expect(standIn.requestCount).toBe(0);
  });
});

describe('the Twilio sender, through the real twilio package, against the spec-faithful stand-in', () => {
  async function configured(options: { standInToken?: string; invalidTo?: string[]; env?: NodeJS.ProcessEnv; sender?: string } = {}) {
    const credentials = { ...freshCredentials(), ...(options.sender ? { sender: options.sender } : {}) };
    standIn = await startTwilioStandIn({
      accountSid: credentials.accountSid,
      authToken: options.standInToken ?? credentials.authToken,
      ...(options.invalidTo ? { invalidTo: options.invalidTo } : {}),
    });
    const { t: temp, router } = desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl, ...options.env });
    await grant(temp);
    await temp.custodian.sms.setConfig(credentials, 'alice@corp');
    return { credentials, temp, router, standIn };
  }

  it('sends a test message: the stand-in saw a spec-valid request with the right Basic auth, and the audit row is masked', async () => {
    const { credentials, temp, router, standIn: twilioSide } = await configured();
    const result = await router.handle('sms:test', { to: TO_TYPED }, APP);
    expect(result).toMatchObject({ ok: true, data: { toMasked: '+90 ••• ••• •• 67' } });
    expect(twilioSide.violations).toEqual([]);
    expect(twilioSide.received).toEqual([
      { accountSid: credentials.accountSid, to: TO, from: SENDER, messagingServiceSid: null, body: catalogs.en.sms.testBody, sid: expect.stringMatching(/^SM[0-9a-f]{32}$/) },
    ]);
    expect(result.ok && 'sid' in result.data ? result.data.sid : null).toBe(twilioSide.received[0]?.sid);
    const row = [...temp.custodian.audit.export()].find((r) => r.event === 'sms_test_sent');
    expect(row).toMatchObject({ actor: 'alice@corp', data: { to: '+90 ••• ••• •• 67', messageSid: twilioSide.received[0]?.sid } });
    expectNothingSensitive([...temp.custodian.audit.export()], credentials);
  });

  it('sends in the approver’s language, and through a Messaging Service when that is the sender', async () => {
    const service = `MG${randomBytes(16).toString('hex')}`;
    const { temp, standIn: twilioSide } = await configured({ sender: service });
    temp.custodian.settings.setLanguage('tr', 'alice@corp');
    await temp.custodian.sms.sendTest(TO, 'alice@corp');
    expect(twilioSide.violations).toEqual([]);
    expect(twilioSide.received).toMatchObject([{ to: TO, from: null, messagingServiceSid: service, body: catalogs.tr.sms.testBody }]);
  });

  it('maps Twilio’s 20003 (bad credentials) to ERR-SMS-AUTH with a clear message and nothing sensitive', async () => {
    const { credentials, temp, router, standIn: twilioSide } = await configured({ standInToken: randomBytes(16).toString('hex') });
    const result = await router.handle('sms:test', { to: TO }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SMS-AUTH', message: catalogs.en.errors['ERR-SMS-AUTH'] } });
    expect(twilioSide.requestCount).toBe(1);
    expect(twilioSide.violations).toEqual([]);
    expect(twilioSide.received).toEqual([]);
    expectNothingSensitive(result, credentials);
    const error = await failsWith(temp.custodian.sms.sendTest(TO, 'alice@corp'), 'ERR-SMS-AUTH');
    expectNothingSensitive(error, credentials);
    const failed = [...temp.custodian.audit.export()].filter((r) => r.event === 'sms_test_failed');
    expect(failed.map((r) => r.data)).toEqual([
      { to: '+90 ••• ••• •• 67', error: 'ERR-SMS-AUTH' },
      { to: '+90 ••• ••• •• 67', error: 'ERR-SMS-AUTH' },
    ]);
  });

  it('maps Twilio’s 21211 (invalid To) to ERR-SMS-INVALID-NUMBER without repeating the number', async () => {
    const { credentials, temp, router, standIn: twilioSide } = await configured({ invalidTo: [TO] });
    const result = await router.handle('sms:test', { to: TO }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SMS-INVALID-NUMBER', message: catalogs.en.errors['ERR-SMS-INVALID-NUMBER'] } });
    expect(twilioSide.requestCount).toBe(1);
    expect(twilioSide.violations).toEqual([]);
    expectNothingSensitive(result, credentials);
    // The message is the approver's language, Turkish included.
    temp.custodian.settings.setLanguage('tr', 'alice@corp');
    const turkish = await router.handle('sms:test', { to: TO }, APP);
    expect(turkish).toMatchObject({ ok: false, error: { code: 'ERR-SMS-INVALID-NUMBER', message: catalogs.tr.errors['ERR-SMS-INVALID-NUMBER'] } });
  });

  it('calls a closed port ERR-SMS-UNAVAILABLE', async () => {
    const credentials = freshCredentials();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { t: temp, router } = desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: `http://127.0.0.1:${port}` });
    await grant(temp);
    await temp.custodian.sms.setConfig(credentials, 'alice@corp');
    const result = await router.handle('sms:test', { to: TO }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SMS-UNAVAILABLE' } });
    expectNothingSensitive(result, credentials);
  });

  it('gives up on a Twilio that does not answer after sms.timeoutMs: ERR-SMS-UNAVAILABLE', async () => {
    const { credentials, router, standIn: twilioSide } = await configured({ env: { CUSTODIAN_SMS_TIMEOUT_MS: '300' } });
    twilioSide.hang(true);
    const result = await router.handle('sms:test', { to: TO }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SMS-UNAVAILABLE' } });
    expect(twilioSide.requestCount).toBe(1);
    expectNothingSensitive(result, credentials);
  });

  it('says ERR-SMS-NOT-CONFIGURED before the credentials are entered, and sends nothing', async () => {
    standIn = await startTwilioStandIn(freshCredentials());
    const { router } = desk({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl });
    const result = await router.handle('sms:test', { to: TO }, APP);
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR-SMS-NOT-CONFIGURED' } });
    expect(standIn.requestCount).toBe(0);
  });

  it('never sends the credentials anywhere but the configured base', async () => {
    const client = await rebasedRequestClient('http://127.0.0.1:9', { timeoutMs: 500 });
    const error = await client
      .request({ method: 'post', uri: 'https://evil.example/2010-04-01/Accounts/AC/Messages.json', username: 'AC', password: 'secret' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR-SMS-UNAVAILABLE' });
  });

  it('maps Twilio’s other refusals and its outages by code and status only', async () => {
    const module = await loadTwilio();
    const smsError = (error: unknown) => mapError(error, module);
    const rest = (statusCode: number, code: number) =>
      new module.RestException({ statusCode, body: { code, message: `The 'From' number ${SENDER} is not a valid number`, more_info: 'x' } });
    expect(smsError(rest(400, 21606))).toMatchObject({ code: 'ERR-SMS-REJECTED', details: { twilioCode: 21606 } });
    expect(smsError(rest(401, 20003)).code).toBe('ERR-SMS-AUTH');
    expect(smsError(rest(400, 21211)).code).toBe('ERR-SMS-INVALID-NUMBER');
    expect(smsError(rest(503, 20503)).code).toBe('ERR-SMS-UNAVAILABLE');
    expect(smsError(rest(429, 20429)).code).toBe('ERR-SMS-UNAVAILABLE');
    expect(JSON.stringify(smsError(rest(400, 21606)))).not.toContain(SENDER);
    expect(smsError(new Error('socket hang up with Authorization: Basic QUM6c2VjcmV0'))).toEqual(new AppError('ERR-SMS-UNAVAILABLE'));
  });
});

describe('the stand-in itself fails loudly on what the spec does not allow', () => {
  /** Sends a raw request, as a buggy client would. */
  function raw(base: string, path: string, headers: Record<string, string>, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it.each([
    ['an unknown form field', 'application/x-www-form-urlencoded', 'To=%2B905321234567&From=%2B14155552345&Body=hi&Priority=high', /Priority: not a field/],
    ['a To that is not E.164', 'application/x-www-form-urlencoded', 'To=05321234567&From=%2B14155552345&Body=hi', /To: not an E.164/],
    ['no sender', 'application/x-www-form-urlencoded', 'To=%2B905321234567&Body=hi', /From or MessagingServiceSid/],
    ['no To', 'application/x-www-form-urlencoded', 'From=%2B14155552345&Body=hi', /To: required/],
    ['a JSON body', 'application/json', '{"To":"+905321234567"}', /Content-Type application\/json/],
  ])('records %s as a violation and answers 400', async (_name, contentType, body, pattern) => {
    const credentials = freshCredentials();
    standIn = await startTwilioStandIn(credentials);
    const auth = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
    const status = await raw(standIn.baseUrl, `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`, { Authorization: auth, 'Content-Type': contentType }, body);
    expect(status).toBe(400);
    expect(standIn.violations).toEqual([expect.stringMatching(pattern)]);
    expect(standIn.received).toEqual([]);
  });

  it('records a request without Basic auth, a wrong path and another account’s path', async () => {
    const credentials = freshCredentials();
    standIn = await startTwilioStandIn(credentials);
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const auth = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
    const good = 'To=%2B905321234567&From=%2B14155552345&Body=hi';
    expect(await raw(standIn.baseUrl, `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`, form, good)).toBe(400);
    expect(await raw(standIn.baseUrl, `/2010-04-01/Accounts/${credentials.accountSid}/Messages`, { ...form, Authorization: auth }, good)).toBe(400);
    expect(await raw(standIn.baseUrl, `/2010-04-01/Accounts/AC${'0'.repeat(32)}/Messages.json`, { ...form, Authorization: auth }, good)).toBe(400);
    expect(standIn.violations).toEqual([
      expect.stringMatching(/no HTTP Basic/),
      expect.stringMatching(/no such path/),
      expect.stringMatching(/another account/),
    ]);
    // And the same request done right is accepted.
    expect(await raw(standIn.baseUrl, `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`, { ...form, Authorization: auth }, good)).toBe(201);
    expect(standIn.received).toHaveLength(1);
  });
});
