import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayClient, GatewayError } from '../../src-main/cli/gateway-client';
import { freePort, validRequest } from '../fixtures/gateway-client';
import { startStranger, type Stranger } from '../fixtures/stranger';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// The CLI's gateway client against a real gateway on loopback (issue 9): the key travels only
// on a connection whose server has just proven itself.
let t: TempCustodian;
let port: number;
let key: string;
let client: GatewayClient;
let stranger: Stranger | undefined;
/** What reached the real gateway, in order: `METHOD path` plus whether a key came with it. */
let seen: string[];

beforeEach(async () => {
  port = await freePort();
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port) } });
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
  client = new GatewayClient(port, key);
  seen = [];
  t.custodian.gateway.nodeServer.prependListener('request', (req) => {
    seen.push(`${req.method} ${req.url}${req.headers.authorization ? ' +key' : ''}`);
  });
});
afterEach(async () => {
  client.close();
  await stranger?.stop();
  stranger = undefined;
  await t.remove();
});

describe('the gateway client', () => {
  it('proves the server once, then sends the key on that same connection', async () => {
    const created = (await client.post('/v1/restore-requests', validRequest)) as { id: string };
    await client.get(`/v1/restore-requests/${created.id}`);
    expect(seen).toEqual(['POST /v1/auth/challenge', 'POST /v1/restore-requests +key', `GET /v1/restore-requests/${created.id} +key`]);
  });

  it('proves the server again before sending the key on a new connection', async () => {
    const { id } = (await client.post('/v1/restore-requests', validRequest)) as { id: string };
    // The proven connection is cut (a restart, a crash, the server's keep-alive running out).
    t.custodian.gateway.nodeServer.closeAllConnections();
    await client.get(`/v1/restore-requests/${id}`);
    expect(seen).toEqual(['POST /v1/auth/challenge', 'POST /v1/restore-requests +key', 'POST /v1/auth/challenge', `GET /v1/restore-requests/${id} +key`]);
  });

  it('hangs up for good when closed: a long-poll in flight fails, nothing reconnects, and its waiter is released', async () => {
    const { id } = (await client.post('/v1/restore-requests', validRequest)) as { id: string };
    const poll = client.get(`/v1/restore-requests/${id}?waitSeconds=60`).then(
      () => 'answered',
      () => 'failed',
    );
    while (t.custodian.requests.waiting === 0) await new Promise((resolve) => setImmediate(resolve));
    // Before, the client took its own hang-up for a reset connection: it proved the server again
    // and asked again, so the requester was still waiting (issue 13, the soak's no-waiter check).
    client.close();
    expect(await poll).toBe('failed');
    await expect(client.get(`/v1/restore-requests/${id}`)).rejects.toThrow(/no Custodian gateway answers/);
    const connections = (): Promise<number> => new Promise((resolve, reject) => t.custodian.gateway.nodeServer.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    while ((await connections()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(t.custodian.requests.waiting).toBe(0);
    expect(seen).toEqual(['POST /v1/auth/challenge', 'POST /v1/restore-requests +key', `GET /v1/restore-requests/${id}?waitSeconds=60 +key`]);
  });

  it('sends nothing secret to a stranger that took the port after the server went away', async () => {
    const { id } = (await client.post('/v1/restore-requests', validRequest)) as { id: string };
    // Custodian stops (or is crashed), and another user's process binds the port at once.
    await t.close();
    stranger = await startStranger(port);
    await expect(client.get(`/v1/restore-requests/${id}?waitSeconds=60`)).rejects.toMatchObject({ code: 'ERR-GATEWAY-UNVERIFIED' });
    const log = stranger.received();
    expect(log).toContain('/v1/auth/challenge');
    expect(log).not.toMatch(/authorization/i);
    expect(log).not.toContain(key.slice('cst_'.length + 13));
    expect(log).not.toContain(id);
  });

  it('says a revoked key is dead without ever sending it', async () => {
    const [integration] = t.custodian.integrations.list();
    t.custodian.integrations.revoke(integration!.id, 'alice@corp');
    const error = await client.post('/v1/restore-requests', validRequest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'ERR-AUTH-INVALID-KEY', message: 'The API key is missing or not valid.' });
    expect(seen).toEqual(['POST /v1/auth/challenge']);
  });
});
