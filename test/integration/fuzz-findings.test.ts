import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, http, rawHttp, validRequest } from '../fixtures/gateway-client';
import { changedTables, tableDigests } from '../fixtures/fuzz';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

/**
 * What the property tests of issue 13, item 1 found, each pinned by an example (the properties
 * themselves live in fuzz-*.test.ts).
 */
let t: TempCustodian;
let port: number;
let key: string;

beforeEach(async () => {
  port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port) } });
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
});
afterEach(async () => {
  await t.remove();
});

describe('the gateway and an Expect header (found by fuzz-gateway)', () => {
  it('answers an expectation it does not know in the error contract, not with node’s bare 417, and stores nothing', async () => {
    const before = tableDigests(t.custodian.db);
    for (const expectation of ['FxbX', '', 'x-custom=1']) {
      const answer = await http({ port, path: '/v1/restore-requests', key, body: validRequest, headers: { expect: expectation } });
      expect(answer.status, expectation).toBe(400);
      expect(answer.json).toEqual({ error: { code: 'ERR-VALIDATION', message: 'The request is not valid: Expect.' } });
      expect(answer.headers['cache-control']).toBe('no-store');
    }
    // Before the Host check too: a page elsewhere learns nothing more from it.
    const raw = await rawHttp(port, `GET /v1/health HTTP/1.1\r\nHost: evil.example\r\nExpect: x\r\n\r\n`);
    expect(raw.status).toBe(400);
    expect(raw.json).toMatchObject({ error: { code: 'ERR-VALIDATION' } });
    expect(changedTables(before, tableDigests(t.custodian.db))).toEqual([]);
  });

  it('still lets a client that asks for 100-continue send its body', async () => {
    const answer = await http({ port, path: '/v1/restore-requests', key, body: validRequest, headers: { expect: '100-continue' } });
    expect(answer.status).toBe(202);
  });
});
