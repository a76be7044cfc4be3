import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, isErrorCode, type ErrorCode } from '../../src-shared/errors';
import { STACK_TRACE, changedTables, describeInput, fuzzParams, nastyString, requestsFrom, tableDigests, unexpectedChanges } from '../fixtures/fuzz';
import { freePort, http, validRequest } from '../fixtures/gateway-client';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

/**
 * Issue 13, item 1: every gateway endpoint, fuzzed over real HTTP on loopback against a started
 * Custodian (real SQLite file, real keychain). Each answer is a success or a 4xx in the error
 * contract's shape (`{"error": {"code", "message"}}` with the code's own status, no stack); never a
 * 5xx. A refused request leaves every table as it was (a deny may add its audit row, see
 * fixtures/fuzz.ts). The raw part writes bytes node:http would never send over a net.Socket.
 *
 * Inputs: 250 per endpoint through node:http (6 endpoints and unknown routes: 1,750) and 750
 * raw byte streams: 2,500 in all.
 */
const RUNS_PER_ENDPOINT = 250;
const RUNS_RAW = 750;

let t: TempCustodian;
let port: number;
let key: string;
let otherKey: string;
let deniedId: string;

beforeAll(async () => {
  port = await freePort();
  // Commits without a sync: what a refusal changes is checked here, not what survives a power
  // cut (item 2). The rate limit is a typed refusal too, but a bucket this size lets the inputs reach the routes.
  t = tempCustodian({ env: { CUSTODIAN_DATABASE_SYNCHRONOUS: 'NORMAL', CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_GATEWAY_RATE_LIMIT_BURST: '1000000', CUSTODIAN_GATEWAY_RATE_LIMIT_REFILL_PER_MINUTE: '10000000' } });
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
  otherKey = t.custodian.integrations.add('borg-weekly', 'alice@corp').key;
  const created = await t.custodian.requests.create(t.custodian.integrations.authenticate(key), { ...validRequest, backupId: 'snap-old' });
  t.custodian.requests.deny(created.id, 'alice@corp');
  deniedId = created.id;
});
afterAll(async () => {
  await t.remove();
});

/** Percent-encodes what encodeURIComponent can, and a lone surrogate's UTF-16 unit as it stands. */
function encodePath(segment: string): string {
  try {
    return encodeURIComponent(segment);
  } catch {
    return [...segment].map((ch) => (/^[A-Za-z0-9_-]$/.test(ch) ? ch : `%${(ch.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`)).join('');
  }
}

/** A header value node:http will send (Latin-1 without controls); the raw part sends the rest. */
const headerValue = (value: string): string => value.replace(/[^\x20-\x7E\xA0-\xFF]/g, '?').slice(0, 8_000);

type Endpoint = 'health' | 'challenge' | 'instance' | 'create' | 'status' | 'redeem' | 'unknown';
const ENDPOINTS: readonly Endpoint[] = ['health', 'challenge', 'instance', 'create', 'status', 'redeem', 'unknown'];

const nonce = 'A'.repeat(43);
const BODIES: Record<Endpoint, Record<string, unknown>[]> = {
  health: [{}],
  challenge: [{ keyId: 'abcdefghijkl', nonce }],
  instance: [{ nonce }],
  create: [validRequest, { ...validRequest, context: { host: 'db1', job: 'nightly' } }, { requester: 'r', backupId: 'b', target: 't', reason: 'x' }],
  status: [{}],
  redeem: [{ token: 'rt_AAAAAAAAAAAAAAAA', requester: 'backup@db1' }],
  unknown: [{}],
};

/** One request to an endpoint: mostly its own method, path and body, each part possibly fuzzed. */
function requestFor(endpoint: Endpoint) {
  const method = fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE') });
  const path = (() => {
    switch (endpoint) {
      case 'health':
        return fc.constantFrom('/v1/health', '/v1/health?x=1', '/v1/health/', '/V1/HEALTH', '/v1//health');
      case 'challenge':
        return fc.constant('/v1/auth/challenge');
      case 'instance':
        return fc.constant('/v1/auth/instance');
      case 'create':
        return fc.constantFrom('/v1/restore-requests', '/v1/restore-requests?waitSeconds=5', '/v1/restore-requests/');
      case 'status':
        return fc
          .tuple(fc.oneof(fc.constant(deniedId), fc.constant('req_AAAAAAAAAAAA'), nastyString), fc.option(fc.oneof(nastyString, fc.constantFrom('0', '-1', '60', '1e3', 'NaN', '0x10', ' 1', '1.5', '99999999999999999999'))))
          .map(([id, wait]) => `/v1/restore-requests/${encodePath(id)}${wait === null ? '' : `?waitSeconds=${encodePath(wait)}`}`);
      case 'redeem':
        return fc.constant('/v1/restore-tokens/redeem');
      case 'unknown':
        return nastyString.map((s) => `/${encodePath(s)}`);
      default:
        throw new Error(endpoint satisfies never);
    }
  })();
  const bodyText = fc.oneof(
    { weight: 6, arbitrary: requestsFrom(BODIES[endpoint]).map((b) => ({ json: b })) },
    { weight: 1, arbitrary: nastyString.map((s) => ({ text: s })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '{"requester":"x",}', 'null', '""', '1e309', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', `{"a":${'['.repeat(5000)}`).map((s) => ({ text: s })) },
  );
  const credential = fc.oneof(
    { weight: 6, arbitrary: fc.constant(key) },
    { weight: 1, arbitrary: fc.constant(otherKey) },
    { weight: 2, arbitrary: fc.option(nastyString.map(headerValue)) },
    { weight: 1, arbitrary: fc.constant(`${key.slice(0, -2)}AA`) },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/jsonx', 'APPLICATION/JSON', '*/*') },
    { weight: 1, arbitrary: nastyString.map(headerValue) },
  );
  const extraHeaders = fc.option(
    fc.dictionary(
      fc.constantFrom('idempotency-key', 'x-forwarded-for', 'user-agent', 'origin', 'host', 'content-encoding', 'accept', 'expect'),
      nastyString.map(headerValue),
      { maxKeys: 3 },
    ),
  );
  return fc.record({ method, path, body: bodyText, credential, contentType, extraHeaders, withBody: fc.boolean() });
}

/** JSON as a client would send it: a BigInt as its digits, undefined and NaN as JSON has them. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

function defaultMethod(endpoint: Endpoint): string {
  return endpoint === 'health' || endpoint === 'status' || endpoint === 'unknown' ? 'GET' : 'POST';
}

/**
 * The answer is a success, or the error contract: a known code, its own status, a message, no
 * other field, no stack; never a 5xx. Returns the refusal's code, or null for a success.
 */
function expectContract(status: number, text: string, what: () => string): ErrorCode | null {
  if (status >= 500 || status < 200) expect.fail(`status ${status} (${text.slice(0, 200)}) for ${what()}`);
  if (STACK_TRACE.test(text)) expect.fail(`a stack in ${text.slice(0, 300)} for ${what()}`);
  if (status < 400) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    expect.fail(`status ${status} without a JSON body (${text.slice(0, 200)}) for ${what()}`);
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  const code = error?.code;
  if (!isErrorCode(code) || ERRORS[code].status !== status || typeof error?.message !== 'string' || Object.keys(body as object).length !== 1) {
    expect.fail(`status ${status} with ${text.slice(0, 200)} for ${what()}`);
  }
  return code;
}

function expectUnchanged(refused: ErrorCode, before: Map<string, string>, after: Map<string, string>, what: () => string): void {
  const changed = unexpectedChanges(refused, changedTables(before, after));
  if (changed.length > 0) expect.fail(`${refused} for ${what()} changed ${changed.join(', ')}`);
}

/** A request's audit row may follow its answer by a turn of the event loop (a group commit). */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('every gateway endpoint, fuzzed over HTTP (issue 13, item 1)', () => {
  it.each(ENDPOINTS.map((e) => [e]))('%s: a success or the error contract, never a 5xx; a refusal changes nothing', async (endpoint) => {
    let before = tableDigests(t.custodian.db);
    await fc.assert(
      fc.asyncProperty(requestFor(endpoint), async (r) => {
        const method = r.method ?? defaultMethod(endpoint);
        const sendsBody = r.withBody || method === 'POST';
        const body = !sendsBody || method === 'GET' || method === 'HEAD' ? undefined : 'json' in r.body ? toJson(r.body.json) : r.body.text;
        const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': r.contentType } : {}), ...(r.extraHeaders ?? {}) };
        if (r.credential !== null) headers.authorization = `Bearer ${r.credential}`;
        const answer = await http({ port, method, path: r.path, ...(body !== undefined ? { body } : {}), headers });
        await settled();
        const what = () => `${method} ${r.path.slice(0, 120)} ${describeInput(headers)} ${describeInput(body)}`;
        // HEAD answers carry no body: only the status can be checked.
        if (method === 'HEAD' && answer.status < 500) return;
        const refused = expectContract(answer.status, answer.text, what);
        const after = tableDigests(t.custodian.db);
        if (refused !== null) expectUnchanged(refused, before, after, what);
        before = after;
      }),
      fuzzParams(RUNS_PER_ENDPOINT),
    );
    await settled();
    expect(await t.custodian.audit.verify()).toMatchObject({ ok: true });
  }, 120_000);
});

// --- Raw bytes over a net.Socket ---

interface RawResult {
  text: string;
}

/** Writes `bytes`, half-closes, and reads whatever comes back until the server closes. */
function rawExchange(bytes: Buffer): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset is an answer too (the server may cut a connection it cannot parse).
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1') }));
    socket.end(bytes);
  });
}

const CRLF = '\r\n';
const rawMethod = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('get', 'G ET', '', 'PRI', 'CONNECT', 'BREW', 'POST\u0000', 'DELETE', 'X'.repeat(300)) });
const rawTarget = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/v1/health', '/v1/restore-requests', '/v1/restore-tokens/redeem', '/v1/auth/challenge', '/v1/restore-requests/req_AAAAAAAAAAAA') },
  { weight: 2, arbitrary: fc.constantFrom('*', 'http://evil.example/v1/health', '//', '/%', '/%zz', '/v1/restore-requests/%ff%fe', '/\u0000', '/ /', '', '/v1/health#frag', `/${'a'.repeat(70_000)}`, '/v1/restore-requests/req_AAAAAAAAAAAA?waitSeconds=-1') },
  { weight: 1, arbitrary: nastyString.map((s) => `/v1/restore-requests/${s}`) },
);
const rawVersion = fc.oneof({ weight: 5, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', '', 'HTTP/1.1 extra', 'http/1.1', 'HTTP/1.1\u0000') });
const rawHeader = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('Accept: */*', 'User-Agent: fuzz', 'Connection: close', 'Connection: keep-alive', 'Expect: 100-continue') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Content-Length: -1',
      'Content-Length: abc',
      'Content-Length: 1e3',
      'Content-Length: 99999999999999999999',
      'Content-Length: 5\r\nContent-Length: 6',
      'Content-Length: 0',
      'Content-Length: 100000',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked',
      'Transfer-Encoding: chunked\r\nContent-Length: 4',
      'Transfer-Encoding: xchunked',
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Content-Type: application/json; charset=utf-16',
      'Content-Type:',
      'Content-Encoding: gzip',
      'Host: evil.example',
      'Origin: null',
      'Authorization: Bearer',
      'Authorization: Basic Zm9vOmJhcg==',
      'X-Folded: a\r\n b',
      'NoColonHere',
      ' Leading: space',
      'Bad Name: x',
      'Bad\u0000Name: x',
      'X-Nul: a\u0000b',
      'X-CR: a\rb',
      ': empty-name',
      `X-Huge: ${'h'.repeat(20_000)}`,
      `X-Huger: ${'h'.repeat(70_000)}`,
      Array.from({ length: 300 }, (_, i) => `X-Many-${i}: ${i}`).join(CRLF),
      'X-Unicode: \u202E\u200B\uFEFF',
    ),
  },
  { weight: 1, arbitrary: nastyString.map((s) => `X-Fuzz: ${s}`) },
);
const rawBody = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(JSON.stringify(validRequest), '{"token":"x","requester":"y"}', '{}', '') },
  { weight: 3, arbitrary: fc.constantFrom('{', 'not json', '{"__proto__":{"admin":true}}', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\nabc\r\n', '5\r\nab\r\n', 'ffffffffffffffff\r\n', '0\r\n\r\n', '3;ext=\u0000\r\nabc\r\n0\r\n\r\n', `${'['.repeat(8_000)}`) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
);

const rawRequest = fc
  .record({
    method: rawMethod,
    target: rawTarget,
    version: rawVersion,
    host: fc.oneof({ weight: 5, arbitrary: fc.constant('own') }, { weight: 1, arbitrary: fc.constantFrom('none', 'twice', 'evil') }),
    auth: fc.boolean(),
    headers: fc.array(rawHeader, { maxLength: 3 }),
    body: rawBody,
    // How the body is encoded: its bytes as UTF-8 (a lone surrogate becomes U+FFFD) or Latin-1.
    latin1: fc.boolean(),
  })
  .map((r) => {
    const host = r.host === 'own' ? [`Host: 127.0.0.1:${port}`] : r.host === 'twice' ? [`Host: 127.0.0.1:${port}`, `Host: 127.0.0.1:${port}`] : r.host === 'evil' ? ['Host: evil.example'] : [];
    const head = [`${r.method} ${r.target} ${r.version}`.replace(/ +$/, ''), ...host, ...(r.auth ? [`Authorization: Bearer ${key}`] : []), ...r.headers].join(CRLF);
    return { ...r, bytes: Buffer.concat([Buffer.from(`${head}${CRLF}${CRLF}`, 'latin1'), Buffer.from(r.body, r.latin1 ? 'latin1' : 'utf8')]) };
  });

describe('raw malformed HTTP over a socket (issue 13, item 1)', () => {
  it('answers every byte stream in the error contract or closes it; never a 5xx, a stack or a change', async () => {
    let before = tableDigests(t.custodian.db);
    await fc.assert(
      fc.asyncProperty(rawRequest, async (r) => {
        const { text } = await rawExchange(r.bytes);
        await settled();
        const what = () => describeInput(r.bytes.toString('latin1'));
        if (STACK_TRACE.test(text)) expect.fail(`a stack in ${text.slice(0, 300)} for ${what()}`);
        // Every response in the stream (a pipelined request may get two): its status and body.
        const responses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/g)];
        if (text.length > 0 && responses.length === 0) expect.fail(`no HTTP response in ${describeInput(text)} for ${what()}`);
        let refused: ErrorCode | null = null;
        let accepted = false;
        for (const [whole, status, head] of responses) {
          // An interim answer (100 Continue) carries no body; the final one follows it.
          if (Number(status) < 200) continue;
          const start = (text.indexOf(whole) + whole.length);
          const length = Number(/content-length: (\d+)/i.exec(head ?? '')?.[1] ?? 0);
          const code = expectContract(Number(status), text.slice(start, start + length), what);
          if (code === null) accepted = true;
          else refused ??= code;
        }
        const after = tableDigests(t.custodian.db);
        // Nothing parsed as a request, or refused: nothing changes (a malformed stream never
        // reaches a service, so not even an audit row).
        if (!accepted) expectUnchanged(refused ?? 'ERR-VALIDATION', before, after, what);
        before = after;
      }),
      fuzzParams(RUNS_RAW),
    );
    await settled();
    expect(await t.custodian.audit.verify()).toMatchObject({ ok: true });
  }, 120_000);
});
