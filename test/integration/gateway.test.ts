import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../../src-shared/errors';
import type { Notifier } from '../../src-main/platform/notifier';
import { GatewayClient } from '../../src-main/cli/gateway-client';
import { BODY_LIMIT } from '../../src-main/gateway/gateway.server';
import { GatewayInstanceRepository } from '../../src-main/platform/db/repositories/gateway-instance.repository';
import { instanceProof, keyVerifier, proofMatches, serverKeyProof } from '../../src-main/services/gateway/gateway-proof';
import { freePort, http, rawHttp, validRequest, type HttpAnswer, type RawAnswer } from '../fixtures/gateway-client';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

let t: TempCustodian;
let port: number;
let key: string;
let notices: { title: string; body: string }[];

function expectError(answer: HttpAnswer, code: ErrorCode): void {
  expect(answer.status, answer.text).toBe(ERRORS[code].status);
  expect(answer.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(answer.text).not.toMatch(/at \w+ \(|\.ts:\d|node_modules/);
}

async function create(body: unknown = validRequest, k = key): Promise<HttpAnswer> {
  return http({ port, path: '/v1/restore-requests', key: k, body });
}

async function startWith(env: NodeJS.ProcessEnv = {}): Promise<void> {
  port = await freePort();
  notices = [];
  const notifier: Notifier = { notify: (n) => notices.push(n) };
  // A burst big enough for the many-waiters test; the rate-limit test reads it from the config.
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_GATEWAY_RATE_LIMIT_BURST: '400', ...env }, notifier });
  await t.custodian.start();
  expect(t.custodian.gateway.status).toEqual({ state: 'listening', port });
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
}

beforeEach(async () => {
  await startWith();
});
afterEach(async () => {
  await t.remove();
});

describe('the gateway', () => {
  it('answers health without a key, on loopback only', async () => {
    const health = await http({ port, path: '/v1/health' });
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', service: 'custodian' });
  });

  it('stores a request pending with a match code, audits it, notifies and tells the desk', async () => {
    const changes: (string | null)[] = [];
    t.custodian.requests.onChanged((c) => changes.push(c.id));
    const answer = await create({ ...validRequest, context: { host: 'db1' } });
    expect(answer.status).toBe(202);
    const body = answer.json as { id: string; status: string; expiresAt: string; matchCode: number };
    expect(body).toEqual({ id: expect.stringMatching(/^req_/), status: 'pending', expiresAt: expect.any(String), matchCode: expect.any(Number) });
    expect(body.matchCode).toBeGreaterThanOrEqual(10);
    expect(body.matchCode).toBeLessThanOrEqual(99);
    // expiresAt = arrival + approvals.timeoutSeconds (60), on the injected clock.
    expect(Date.parse(body.expiresAt)).toBe(t.clock.now() + 60_000);
    expect(changes).toEqual([body.id]);
    // The whole text, so nothing else (the match code least of all) can be in it; a `not.toContain`
    // on a two-digit number would trip over the dates in the backup id.
    expect(notices).toEqual([{ title: 'Restore request from backup@db1', body: 'snap-2026-11-24 → /srv/restore/db (High), via restic-nightly' }]);

    const [view] = t.custodian.requests.list('pending', 10);
    expect(view).toMatchObject({ id: body.id, integrationName: 'restic-nightly', sensitivity: 'high', context: { host: 'db1' }, status: 'pending' });
    expect(view).not.toHaveProperty('matchCode');

    const audit = t.custodian.audit.list(10).entries;
    expect(audit[0]).toMatchObject({ event: 'restore_request_received', actor: 'restic-nightly', subject: body.id, source: '127.0.0.x' });
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('notifies once per second at most, and sums up the rest of a burst in one notice', async () => {
    for (let i = 0; i < 5; i += 1) await create(validRequest);
    expect(notices).toHaveLength(1);
    t.clock.advance(500);
    t.custodian.tick();
    expect(notices).toHaveLength(1);
    t.clock.advance(500);
    t.custodian.tick();
    expect(notices).toHaveLength(2);
    expect(notices[1]).toEqual({ title: 'More restore requests', body: '4 more restore requests arrived; the desk lists them all.' });
    t.clock.advance(2000);
    await create(validRequest);
    expect(notices[2]?.title).toBe('Restore request from backup@db1');
  });

  it('commits a burst of concurrent arrivals together, each answered only once it is stored', async () => {
    const other = new BetterSqlite3(t.dbFile, { readonly: true });
    const stored = other.prepare('SELECT COUNT(*) AS n FROM restore_requests WHERE id = ?');
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        create({ ...validRequest, backupId: `snap-${i}` }).then((answer) => {
          // Seen by another connection the moment the requester hears 202: durable before answered.
          const { id } = answer.json as { id: string };
          return { status: answer.status, id, seen: stored.get(id) };
        }),
      ),
    );
    other.close();
    expect(burst.every((b) => b.status === 202 && (b.seen as { n: number }).n === 1)).toBe(true);
    expect(new Set(burst.map((b) => b.id)).size).toBe(40);
    expect(t.custodian.requests.list('pending', 100)).toHaveLength(40);
    expect(t.custodian.audit.list(100).entries.filter((e) => e.event === 'restore_request_received')).toHaveLength(40);
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true, anchor: 'verified' });
  });

  it('stores an unknown or missing sensitivity as critical', async () => {
    await create({ ...validRequest, sensitivity: 'whatever' });
    const { sensitivity, ...noSensitivity } = validRequest;
    expect(sensitivity).toBe('high');
    await create(noSensitivity);
    expect(t.custodian.requests.list('pending', 10).map((r) => r.sensitivity)).toEqual(['critical', 'critical']);
  });

  describe('refuses, in the error contract’s shape', () => {
    it('a missing, malformed, unknown or revoked key with ERR-AUTH-INVALID-KEY', async () => {
      expectError(await create(validRequest, ''), 'ERR-AUTH-INVALID-KEY');
      expectError(await create(validRequest, 'nope'), 'ERR-AUTH-INVALID-KEY');
      expectError(await create(validRequest, key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA')), 'ERR-AUTH-INVALID-KEY');
      expectError(await http({ port, path: '/v1/restore-requests', body: validRequest, headers: { authorization: `Basic ${key}` } }), 'ERR-AUTH-INVALID-KEY');
      expect(t.custodian.requests.list('pending', 10)).toEqual([]);
    });

    it('a Host other than the loopback name and port (DNS rebinding) with ERR-HOST-FORBIDDEN', async () => {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.evil:${port}`]) {
        expectError(await http({ port, path: '/v1/health', headers: { host } }), 'ERR-HOST-FORBIDDEN');
      }
      expect((await http({ port, path: '/v1/health', headers: { host: `localhost:${port}` } })).status).toBe(200);
    });

    it('any request with an Origin header with ERR-ORIGIN-FORBIDDEN', async () => {
      expectError(await http({ port, path: '/v1/restore-requests', key, body: validRequest, headers: { origin: 'http://127.0.0.1:3000' } }), 'ERR-ORIGIN-FORBIDDEN');
      expectError(await http({ port, path: '/v1/health', headers: { origin: 'null' } }), 'ERR-ORIGIN-FORBIDDEN');
    });

    it('a body over 16 KiB with ERR-PAYLOAD-TOO-LARGE', async () => {
      const big = JSON.stringify({ ...validRequest, reason: 'x'.repeat(BODY_LIMIT) });
      expectError(await create(big), 'ERR-PAYLOAD-TOO-LARGE');
    });

    it('a body that is not JSON with ERR-UNSUPPORTED-MEDIA-TYPE', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        expectError(await http({ port, path: '/v1/restore-requests', key, body: JSON.stringify(validRequest), headers: { 'content-type': type } }), 'ERR-UNSUPPORTED-MEDIA-TYPE');
      }
    });

    it('unknown fields, missing fields, bad JSON and poisoned prototypes with ERR-VALIDATION', async () => {
      const unknown = await create({ ...validRequest, approve: true });
      expectError(unknown, 'ERR-VALIDATION');
      expect((unknown.json as { error: { message: string } }).error.message).toContain('approve');
      expectError(await create({ ...validRequest, requester: undefined }), 'ERR-VALIDATION');
      expectError(await create({ ...validRequest, target: '' }), 'ERR-VALIDATION');
      expectError(await create('{"requester":'), 'ERR-VALIDATION');
      expectError(await create('{"__proto__":{"x":1},"requester":"a","backupId":"b","target":"c","reason":"d"}'), 'ERR-VALIDATION');
      expectError(await create([validRequest]), 'ERR-VALIDATION');
      expectError(await http({ port, path: '/v1/restore-requests', key, method: 'POST', headers: { 'content-type': 'application/json' } }), 'ERR-VALIDATION');
      expect(t.custodian.requests.list('pending', 10)).toEqual([]);
      // Nothing was audited for refused input either: the only row is the integration's creation.
      expect(t.custodian.audit.list(10).total).toBe(1);
    });

    it('bidi controls, zero-width and control characters in any text field with ERR-VALIDATION naming it (issue 9)', async () => {
      const hidden = ['\u202E', '\u202A', '\u2066', '\u2069', '\u200E', '\u200F', '\u061C', '\u200B', '\u200D', '\u2060', '\uFEFF', '\u0000', '\u0007', '\u001B', '\u007F', '\u0085', '\u009B', '\n', '\u2028', '\uD800'];
      for (const c of hidden) {
        for (const field of ['requester', 'backupId', 'target', 'reason'] as const) {
          const answer = await create({ ...validRequest, [field]: `/home/alice/restore-tmp/${c}wodahs/cte/` });
          expectError(answer, 'ERR-VALIDATION');
          expect((answer.json as { error: { message: string } }).error.message, `${field} ${c.codePointAt(0)}`).toContain(field);
        }
        expectError(await create({ ...validRequest, sensitivity: `high${c}x` }), 'ERR-VALIDATION');
        expectError(await create({ ...validRequest, context: { [`host${c}x`]: 'db1' } }), 'ERR-VALIDATION');
        expectError(await create({ ...validRequest, context: { host: `db${c}1` } }), 'ERR-VALIDATION');
      }
      // The red team's own target, as JSON sends it.
      expectError(await create('{"requester":"a","backupId":"b","reason":"c","target":"/home/alice/restore-tmp/\\u202Ewodahs/cte/"}'), 'ERR-VALIDATION');
      expect(t.custodian.requests.list('pending', 10)).toEqual([]);
      // Text in any script still passes, right-to-left included.
      expect((await create({ ...validRequest, reason: 'استعادة الاختبار — Geri yükleme tatbikatı' })).status).toBe(202);
    });

    it('unknown paths and ids with ERR-NOT-FOUND', async () => {
      expectError(await http({ port, path: '/v1/nothing', key }), 'ERR-NOT-FOUND');
      expectError(await http({ port, path: '/v1/restore-requests/req_doesnotexist00', key }), 'ERR-NOT-FOUND');
      expectError(await http({ port, path: '/v1/restore-requests/..%2f..%2fetc', key }), 'ERR-NOT-FOUND');
    });

    describe('bytes fastify or node refuse before any route (issue 9), still in the contract’s shape', () => {
      const host = (): string => `Host: 127.0.0.1:${port}\r\n`;
      function expectRawError(answer: RawAnswer, code: ErrorCode): void {
        expect(answer.status, answer.head).toBe(ERRORS[code].status);
        expect(answer.json, answer.body).toEqual({ error: { code, message: expect.any(String) } });
        expect(answer.body).not.toMatch(/FST_|Bad Request|statusCode/);
      }

      it('an over-long id (FST_ERR_MAX_PARAM_LENGTH) with ERR-NOT-FOUND, never echoing it', async () => {
        const answer = await rawHttp(port, `GET /v1/restore-requests/${'a'.repeat(150)} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
        expectRawError(answer, 'ERR-NOT-FOUND');
        expect(answer.body).not.toContain('aaaa');
      });

      it('a bad percent-encoding (FST_ERR_BAD_URL) with ERR-VALIDATION, the Host checked first, never echoing it', async () => {
        const answer = await rawHttp(port, `GET /v1/restore-requests/%E0%A4%A HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
        expectRawError(answer, 'ERR-VALIDATION');
        expect(answer.body).not.toContain('%E0');
        expectRawError(await rawHttp(port, 'GET /v1/restore-requests/%E0%A4%A HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'), 'ERR-HOST-FORBIDDEN');
      });

      it('request smuggling, obs-fold, control characters and garbage with ERR-VALIDATION', async () => {
        const smuggled = `POST /v1/restore-requests HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
        const obsFold = `GET /v1/health HTTP/1.1\r\n${host()}X-Folded: a\r\n b\r\n\r\n`;
        const control = `GET /v1/health HTTP/1.1\r\n${host()}X-Control: a\x01b\r\n\r\n`;
        const badMethod = `G\x00T /v1/health HTTP/1.1\r\n${host()}\r\n`;
        for (const bytes of [smuggled, obsFold, control, badMethod, 'HELLO\r\n\r\n']) expectRawError(await rawHttp(port, bytes), 'ERR-VALIDATION');
        expect(t.custodian.requests.list('pending', 10)).toEqual([]);
      });

      it('headers over node’s limit with ERR-PAYLOAD-TOO-LARGE', async () => {
        expectRawError(await rawHttp(port, `GET /v1/health HTTP/1.1\r\n${host()}X-Big: ${'x'.repeat(20_000)}\r\n\r\n`), 'ERR-PAYLOAD-TOO-LARGE');
      });

      it('a missing Host with ERR-HOST-FORBIDDEN rather than an empty 400', async () => {
        expectRawError(await rawHttp(port, 'GET /v1/health HTTP/1.1\r\nConnection: close\r\n\r\n'), 'ERR-HOST-FORBIDDEN');
        expectRawError(await rawHttp(port, 'GET /v1/health HTTP/1.0\r\n\r\n'), 'ERR-HOST-FORBIDDEN');
        // And the gateway is still there.
        expect((await http({ port, path: '/v1/health' })).status).toBe(200);
      });
    });

    it('a redemption with ERR-RESTORE-TOKEN-INVALID until tokens are issued', async () => {
      expectError(await http({ port, path: '/v1/restore-tokens/redeem', key, body: { token: 'x'.repeat(43), requester: 'backup@db1' } }), 'ERR-RESTORE-TOKEN-INVALID');
    });
  });

  it('keeps integrations apart: another integration’s request is not found', async () => {
    const other = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
    const { id } = (await create()).json as { id: string };
    expectError(await http({ port, path: `/v1/restore-requests/${id}`, key: other }), 'ERR-NOT-FOUND');
    expect((await http({ port, path: `/v1/restore-requests/${id}`, key })).json).toMatchObject({ id, status: 'pending' });
  });

  it('revocation takes effect at once', async () => {
    const { id } = (await create()).json as { id: string };
    const [integration] = t.custodian.integrations.list();
    t.custodian.integrations.revoke(integration!.id, 'alice@corp');
    expectError(await create(), 'ERR-AUTH-INVALID-KEY');
    expectError(await http({ port, path: `/v1/restore-requests/${id}`, key }), 'ERR-AUTH-INVALID-KEY');
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'integration_revoked', actor: 'alice@corp' });
  });

  it('revocation and a mute by another process take effect at once, before any tick', async () => {
    const { id } = (await create()).json as { id: string };
    const [integration] = t.custodian.integrations.list();
    // Another process on the same data directory (the CLI, or `serve`): its own connection.
    const other = tempCustodian({ dir: t.dir });
    try {
      other.custodian.integrations.muteWithin(integration!.id, t.clock.now() + 60_000);
      const muted = await create();
      expectError(muted, 'ERR-RATE-LIMITED');
      expect(muted.headers['retry-after']).toBe('60');
      other.custodian.integrations.revoke(integration!.id, 'bob@corp');
      expectError(await create(), 'ERR-AUTH-INVALID-KEY');
      expectError(await http({ port, path: `/v1/restore-requests/${id}`, key }), 'ERR-AUTH-INVALID-KEY');
      expect(t.custodian.requests.list('pending', 10).map((r) => r.id)).toEqual([id]);
    } finally {
      await other.close();
    }
  });

  it('rate-limits each integration with a token bucket and Retry-After', async () => {
    const limit = t.config.gateway.rateLimit.burst;
    const other = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
    for (let i = 0; i < limit; i += 1) expect((await http({ port, path: '/v1/health/x', key })).status).toBe(404);
    const limited = await create();
    expectError(limited, 'ERR-RATE-LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another integration has its own bucket.
    expect((await create(validRequest, other)).status).toBe(202);
    // The bucket refills on the injected clock.
    t.clock.advanceSeconds(Number(limited.headers['retry-after']));
    expect((await create()).status).toBe(202);
  });

  describe('long-polling', () => {
    it('answers at once when not waiting, and wakes on a deny', async () => {
      const { id } = (await create()).json as { id: string };
      expect((await http({ port, path: `/v1/restore-requests/${id}?waitSeconds=0`, key })).json).toMatchObject({ status: 'pending' });
      const poll = http({ port, path: `/v1/restore-requests/${id}?waitSeconds=60`, key });
      await until(() => t.custodian.requests.waiting === 1);
      t.custodian.requests.deny(id, 'alice@corp');
      const answer = await poll;
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ id, status: 'denied', decidedAt: expect.any(String) });
      expect(t.custodian.requests.waiting).toBe(0);
    });

    it('wakes on expiry, moved by the injected clock and one sweeper tick', async () => {
      const { id } = (await create()).json as { id: string };
      const poll = http({ port, path: `/v1/restore-requests/${id}?waitSeconds=60`, key });
      await until(() => t.custodian.requests.waiting === 1);
      t.clock.advanceSeconds(59);
      t.custodian.tick();
      expect(t.custodian.requests.waiting).toBe(1);
      t.clock.advanceSeconds(1);
      t.custodian.tick();
      expect((await poll).json).toMatchObject({ id, status: 'expired' });
      expect(t.custodian.requests.list('history', 10)[0]).toMatchObject({ id, status: 'expired' });
      expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'restore_request_expired', subject: id, actor: 'system' });
      // A decision on an expired request is refused with its own code.
      expect(() => t.custodian.requests.deny(id, 'alice@corp')).toThrow(expect.objectContaining({ code: 'ERR-RESTORE-EXPIRED' }));
    });

    it('answers pending when its wait runs out, and caps the wait at 60 s', async () => {
      // Requests outlive the wait here, so it is the cap that answers, not an expiry.
      await t.remove();
      await startWith({ CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '600' });
      const { id } = (await create()).json as { id: string };
      const short = http({ port, path: `/v1/restore-requests/${id}?waitSeconds=5`, key });
      const capped = http({ port, path: `/v1/restore-requests/${id}?waitSeconds=3600`, key });
      await until(() => t.custodian.requests.waiting === 2);
      t.clock.advanceSeconds(5);
      t.custodian.tick();
      expect((await short).json).toMatchObject({ id, status: 'pending' });
      t.clock.advanceSeconds(54);
      t.custodian.tick();
      expect(t.custodian.requests.waiting).toBe(1);
      t.clock.advanceSeconds(1);
      t.custodian.tick();
      const answer = await capped;
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ id, status: 'pending', decidedAt: null });
      expect(t.custodian.requests.waiting).toBe(0);
    });

    it('holds hundreds of waiters without a timer each, and releases a waiter when its requester hangs up', async () => {
      const { id } = (await create()).json as { id: string };
      const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const hangUps = Array.from({ length: 300 }, () => new AbortController());
      const polls = hangUps.map((c) => http({ port, path: `/v1/restore-requests/${id}?waitSeconds=60`, key, signal: c.signal }).catch(() => null));
      await until(() => t.custodian.requests.waiting === 300);
      // No timer per waiter: a handful of sockets' own timeouts at most, never one per request.
      expect(timers() - before).toBeLessThan(10);
      for (const c of hangUps.slice(0, 100)) c.abort();
      await until(() => t.custodian.requests.waiting === 200);
      t.custodian.requests.deny(id, 'alice@corp');
      const answers = await Promise.all(polls);
      expect(answers.filter((a) => a?.status === 200 && (a.json as { status: string }).status === 'denied')).toHaveLength(200);
      expect(t.custodian.requests.waiting).toBe(0);
    });

    it('rejects a bad waitSeconds with ERR-VALIDATION', async () => {
      const { id } = (await create()).json as { id: string };
      expectError(await http({ port, path: `/v1/restore-requests/${id}?waitSeconds=soon`, key }), 'ERR-VALIDATION');
      expectError(await http({ port, path: `/v1/restore-requests/${id}?waitSeconds=-1`, key }), 'ERR-VALIDATION');
      expectError(await http({ port, path: `/v1/restore-requests/${id}?token=x`, key }), 'ERR-VALIDATION');
    });
  });

  describe('deny and report', () => {
    it('denies, flags the integration, denies its other pending requests and mutes it', async () => {
      const first = ((await create()).json as { id: string }).id;
      const second = ((await create({ ...validRequest, backupId: 'snap-2' })).json as { id: string }).id;
      const poll = http({ port, path: `/v1/restore-requests/${second}?waitSeconds=60`, key });
      await until(() => t.custodian.requests.waiting === 1);

      const reported = t.custodian.requests.report(first, 'alice@corp');
      expect(reported).toMatchObject({ id: first, status: 'denied', reported: true, decidedBy: 'alice@corp' });
      expect((await poll).json).toMatchObject({ id: second, status: 'denied' });
      expect(t.custodian.requests.list('pending', 10)).toEqual([]);

      const events = t.custodian.audit.list(10).entries.map((e) => `${e.event}:${e.subject}`);
      expect(events.slice(0, 3)).toEqual([
        `integration_muted:${reported.integrationId}`,
        `restore_request_denied:${second}`,
        `restore_request_reported:${first}`,
      ]);

      // Muted: new requests are refused with ERR-RATE-LIMITED for reportMuteMinutes (20).
      const muted = await create();
      expectError(muted, 'ERR-RATE-LIMITED');
      expect(Number(muted.headers['retry-after'])).toBe(20 * 60);
      t.clock.advanceSeconds(20 * 60);
      expect((await create()).status).toBe(202);
    });

    it('also denies an arrival accepted a moment before the report but not yet committed', async () => {
      const first = ((await create()).json as { id: string }).id;
      const integration = t.custodian.integrations.authenticate(key);
      // Queued for the next group commit when the approver reports.
      const inFlight = t.custodian.requests.create(integration, { ...validRequest, backupId: 'snap-late' });
      t.custodian.requests.report(first, 'alice@corp');
      const late = await inFlight;
      expect(t.custodian.requests.get(late.id)).toMatchObject({ status: 'denied', reported: false });
      expect(t.custodian.requests.list('pending', 10)).toEqual([]);
    });

    it('refuses a second decision with ERR-RESTORE-ALREADY-DECIDED', async () => {
      const { id } = (await create()).json as { id: string };
      t.custodian.requests.deny(id, 'alice@corp');
      expect(() => t.custodian.requests.deny(id, 'alice@corp')).toThrow(expect.objectContaining({ code: 'ERR-RESTORE-ALREADY-DECIDED' }));
      expect(() => t.custodian.requests.report(id, 'alice@corp')).toThrow(expect.objectContaining({ code: 'ERR-RESTORE-ALREADY-DECIDED' }));
    });
  });

  it('the audit chain still verifies after all of it', async () => {
    const { id } = (await create()).json as { id: string };
    t.custodian.requests.report(id, 'alice@corp');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true, anchor: 'verified' });
  });
});

describe('Idempotency-Key on POST /v1/restore-requests (issue 9)', () => {
  const withKey = (idempotencyKey: string, body: unknown = validRequest, k = key): Promise<HttpAnswer> =>
    http({ port, path: '/v1/restore-requests', key: k, body, headers: { 'idempotency-key': idempotencyKey } });
  const rows = (): number => (t.custodian.db.prepare('SELECT COUNT(*) FROM restore_requests').pluck().get() as number);

  it('answers 20 retries of one key with the same request, stored, audited and announced once', async () => {
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < 20; i += 1) answers.push(await withKey('9d3f6c1e-retry-me'));
    expect(answers.every((a) => a.status === 202 && a.text === answers[0]?.text)).toBe(true);
    expect(rows()).toBe(1);
    expect(t.custodian.audit.list(50).entries.filter((e) => e.event === 'restore_request_received')).toHaveLength(1);
    expect(notices).toHaveLength(1);
  });

  it('holds under concurrency: 20 racing POSTs with one key make one row', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => withKey('racing-key')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((a) => (a.json as { id: string }).id)).size).toBe(1);
    expect(rows()).toBe(1);
  });

  it('holds across processes: two connections racing one key make one row', async () => {
    const other = tempCustodian({ dir: t.dir });
    try {
      const here = t.custodian.integrations.authenticate(key);
      const there = other.custodian.integrations.authenticate(key);
      const created = await Promise.all([
        t.custodian.requests.create(here, validRequest, {}, 'cross-process'),
        other.custodian.requests.create(there, validRequest, {}, 'cross-process'),
      ]);
      expect(created[0]).toEqual(created[1]);
      expect(rows()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('refuses the same key with a different request with ERR-IDEMPOTENCY-CONFLICT, and keeps integrations apart', async () => {
    const first = await withKey('shared-key');
    expectError(await withKey('shared-key', { ...validRequest, target: '/etc' }), 'ERR-IDEMPOTENCY-CONFLICT');
    const other = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
    const theirs = await withKey('shared-key', validRequest, other);
    expect(theirs.status).toBe(202);
    expect((theirs.json as { id: string }).id).not.toBe((first.json as { id: string }).id);
    expect(rows()).toBe(2);
  });

  it('keeps only a hash of the key, scoped to the integration', async () => {
    const { id } = (await withKey('my-secret-looking-key')).json as { id: string };
    const stored = t.custodian.db.prepare('SELECT idempotency_key AS k FROM restore_requests WHERE id = ?').get(id) as { k: string };
    expect(stored.k).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(t.custodian.audit.export())).not.toContain('my-secret-looking-key');
  });

  it('refuses a malformed key with ERR-VALIDATION', async () => {
    for (const bad of ['has space', 'x'.repeat(256), 'ünïcode']) {
      const answer = await withKey(bad);
      expectError(answer, 'ERR-VALIDATION');
      expect((answer.json as { error: { message: string } }).error.message).toContain('Idempotency-Key');
    }
    expect(rows()).toBe(0);
  });

  it('lets the key name a new request once the first one’s lifetime is over', async () => {
    const first = ((await withKey('daily-drill')).json as { id: string }).id;
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    const second = ((await withKey('daily-drill')).json as { id: string }).id;
    expect(second).not.toBe(first);
    expect((await withKey('daily-drill')).json).toMatchObject({ id: second });
  });
});

describe('the connection cap (issue 9)', () => {
  it('lets slow-header sockets beyond the cap neither starve a legitimate POST nor cut a waiting long-poll', async () => {
    await t.remove();
    await startWith({ CUSTODIAN_GATEWAY_MAX_CONNECTIONS: '8' });
    const server = t.custodian.gateway.nodeServer;
    const { id } = (await create()).json as { id: string };
    const poll = http({ port, path: `/v1/restore-requests/${id}?waitSeconds=60`, key });
    await until(() => t.custodian.requests.waiting === 1);

    let accepted = 0;
    server.on('connection', () => (accepted += 1));
    // A slowloris: headers begun, never finished.
    const slow = Array.from({ length: 40 }, () => {
      const socket = connect(port, '127.0.0.1');
      const state = { closed: false };
      socket.on('error', () => undefined);
      socket.on('close', () => (state.closed = true));
      socket.write(`POST /v1/restore-requests HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`);
      return { socket, state };
    });
    // Every slow socket has reached the server, or been turned away by it.
    await until(() => accepted + slow.filter((s) => s.state.closed).length >= 40);

    // The real tool, with its handshake: it gets its 202.
    const client = new GatewayClient(port, key);
    try {
      expect(await client.post('/v1/restore-requests', { ...validRequest, backupId: 'snap-legit' })).toMatchObject({ status: 'pending' });
    } finally {
      client.close();
    }
    const open = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(open).toBeLessThanOrEqual(8);
    await until(() => slow.filter((s) => !s.state.closed).length <= 7);

    // The long-poll was being answered, so it was never the one to make room.
    t.custodian.requests.deny(id, 'alice@corp');
    expect((await poll).json).toMatchObject({ id, status: 'denied' });
    for (const s of slow) s.socket.destroy();
  });
});

describe('the handshake (issue 9): the server proves itself before a client sends its key', () => {
  const nonce = (): string => randomBytes(32).toString('base64url');

  it('answers a challenge with an HMAC under the key’s verifier, bound to both nonces and the port', async () => {
    const keyId = key.split('_')[1] as string;
    const clientNonce = nonce();
    const answer = await http({ port, path: '/v1/auth/challenge', body: { keyId, nonce: clientNonce } });
    expect(answer.status, answer.text).toBe(200);
    const { serverNonce, proof } = answer.json as { serverNonce: string; proof: string };
    expect(answer.json).toEqual({ keyId, serverNonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), proof: expect.any(String) });
    const verifier = keyVerifier(key);
    expect(proofMatches(serverKeyProof(verifier, keyId, { clientNonce, serverNonce, port }), proof)).toBe(true);
    // Worth nothing for another exchange, another port or another key.
    expect(proofMatches(serverKeyProof(verifier, keyId, { clientNonce: nonce(), serverNonce, port }), proof)).toBe(false);
    expect(proofMatches(serverKeyProof(verifier, keyId, { clientNonce, serverNonce, port: port + 1 }), proof)).toBe(false);
    const other = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
    expect(proofMatches(serverKeyProof(keyVerifier(other), keyId, { clientNonce, serverNonce, port }), proof)).toBe(false);
    // The same client nonce twice still gets a fresh server nonce, so no proof is ever repeated.
    const again = (await http({ port, path: '/v1/auth/challenge', body: { keyId, nonce: clientNonce } })).json as { serverNonce: string; proof: string };
    expect(again.serverNonce).not.toBe(serverNonce);
    expect(again.proof).not.toBe(proof);
    // Nothing was written for a challenge: it is no event, and the key never travelled.
    expect(t.custodian.audit.list(10).total).toBe(2);
  });

  it('refuses an unknown or revoked key id with ERR-AUTH-INVALID-KEY, and a malformed challenge with ERR-VALIDATION', async () => {
    expectError(await http({ port, path: '/v1/auth/challenge', body: { keyId: '000000000000', nonce: nonce() } }), 'ERR-AUTH-INVALID-KEY');
    expectError(await http({ port, path: '/v1/auth/challenge', body: { keyId: 'nope', nonce: nonce() } }), 'ERR-VALIDATION');
    expectError(await http({ port, path: '/v1/auth/challenge', body: { keyId: key.split('_')[1], nonce: 'short' } }), 'ERR-VALIDATION');
    expectError(await http({ port, path: '/v1/auth/challenge', body: { keyId: key.split('_')[1], nonce: nonce(), key } }), 'ERR-VALIDATION');
    const [integration] = t.custodian.integrations.list();
    t.custodian.integrations.revoke(integration!.id, 'alice@corp');
    expectError(await http({ port, path: '/v1/auth/challenge', body: { keyId: key.split('_')[1], nonce: nonce() } }), 'ERR-AUTH-INVALID-KEY');
  });

  it('answers an instance challenge with an HMAC under this database’s own secret', async () => {
    const clientNonce = nonce();
    const answer = await http({ port, path: '/v1/auth/instance', body: { nonce: clientNonce } });
    expect(answer.status, answer.text).toBe(200);
    const { serverNonce, proof } = answer.json as { serverNonce: string; proof: string };
    const secret = new GatewayInstanceRepository(t.custodian.db).secret();
    expect(proofMatches(instanceProof(secret, { clientNonce, serverNonce, port }), proof)).toBe(true);
    // Another data directory has another secret.
    const elsewhere = tempCustodian();
    try {
      expect(proofMatches(instanceProof(new GatewayInstanceRepository(elsewhere.custodian.db).secret(), { clientNonce, serverNonce, port }), proof)).toBe(false);
    } finally {
      await elsewhere.remove();
    }
  });
});

describe('the gateway port', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
  });

  it('held by another program is a clear state, not a crash', async () => {
    const p = await freePort();
    // Reads and drops what it gets, so the gateway's health probe sees a port held by a stranger.
    blocker = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => blocker!.listen(p, '127.0.0.1', resolve));
    const c = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(p) } });
    await c.custodian.start();
    // What holds it is named where /proc tells: here, this very test process.
    expect(c.custodian.gateway.status).toMatchObject({ state: 'port-in-use', port: p, holder: { pid: process.pid } });
    await c.remove();
  });

  it('held by another Custodian is "elsewhere", and a commit there wakes a waiter here', async () => {
    const p = await freePort();
    const first = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(p) } });
    await first.custodian.start();
    const k = first.custodian.integrations.add('restic', 'alice@corp').key;
    // A second process on the same data directory: same file, its own connection.
    const second = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(p) }, dir: first.dir });
    await second.custodian.start();
    expect(second.custodian.gateway.status).toEqual({ state: 'elsewhere', port: p });

    const { id } = (await http({ port: p, path: '/v1/restore-requests', key: k, body: validRequest })).json as { id: string };
    const poll = http({ port: p, path: `/v1/restore-requests/${id}?waitSeconds=60`, key: k });
    await until(() => first.custodian.requests.waiting === 1);
    second.custodian.requests.deny(id, 'bob@corp');
    // The first process notices through PRAGMA data_version on its next tick.
    first.custodian.tick();
    expect((await poll).json).toMatchObject({ id, status: 'denied' });
    await second.close();
    await first.remove();
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
