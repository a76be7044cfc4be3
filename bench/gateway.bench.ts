import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createCustodian, type Custodian } from '../src-main/composition';
import { systemClock } from '../src-main/clock';
import { loadConfig } from '../src-main/config';
import { openDatabase, type Database } from '../src-main/platform/db/database';
import type { SecretStore } from '../src-main/platform/keychain/secret-store';
import { median, result, type BenchResult } from './harness';

// Loopback only, fixed durations: every run stops by itself.
const CONNECTIONS = 50;
const DURATION_SECONDS = 3;
const ROUNDS = 5;
const WAITERS = 1000;

const body = JSON.stringify({
  requester: 'backup@db1',
  backupId: 'snap-2026-11-24',
  target: '/srv/restore/db',
  reason: 'bench',
  sensitivity: 'high',
});

/** The bench keeps the audit anchor in memory: it measures the gateway, not the keychain. */
function memorySecrets(): SecretStore {
  const map = new Map<string, string>();
  return {
    get: async (a) => map.get(a) ?? null,
    set: async (a, s) => void map.set(a, s),
    delete: async (a) => map.delete(a),
    probe: async () => undefined,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function custodianOn(dir: string, name: string): Promise<{ custodian: Custodian; port: number; key: string }> {
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: (c) => {
      c.dataDir = join(dir, name);
      c.gateway.port = port;
      // The bench measures throughput, not the limiter: one integration sends everything.
      c.gateway.rateLimit = { burst: 1_000_000, refillPerMinute: 10_000_000 };
      // The long-poll figure holds WAITERS connections at once, beyond the default cap.
      c.gateway.maxConnections = WAITERS * 2;
      c.database.synchronous = 'FULL';
    },
  });
  const db = openDatabase({ file: join(config.dataDir, 'custodian.db'), synchronous: 'FULL' });
  const custodian = createCustodian({ config, clock: systemClock, db, secrets: memorySecrets() });
  await custodian.start();
  const { key } = custodian.integrations.add('bench', 'bench');
  return { custodian, port, key };
}

/**
 * The baseline of issue #5: bare node:http that parses the same JSON and does the same database
 * writes (the request row and its hash-chained audit row in one IMMEDIATE transaction, WAL,
 * synchronous FULL), with no framework, no auth, no validation.
 *
 * `grouped` makes it commit the requests of one event-loop turn together, as the gateway does:
 * that baseline shows what the framework, the key check and validation cost once the fsync is
 * shared, rather than how much group commit saves.
 */
async function bareServer(dir: string, name: string, grouped = false): Promise<{ server: Server; port: number; db: Database; close: () => Promise<void> }> {
  const db = openDatabase({ file: join(dir, name, 'custodian.db'), synchronous: 'FULL' });
  db.prepare("INSERT INTO integrations (id, name, key_hash, created_at) VALUES ('bench', 'bench', 'x', 0)").run();
  const insertRequest = db.prepare(`INSERT INTO restore_requests (id, integration_id, requester, backup_id, target, sensitivity, reason, context, match_code, status, created_at, expires_at)
    VALUES (?, 'bench', ?, ?, ?, ?, ?, '{}', 42, 'pending', ?, ?)`);
  const head = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
  const insertAudit = db.prepare('INSERT INTO audit_log (id, content, prev_hash, hash) VALUES (?, ?, ?, ?)');
  type Body = { requester: string; backupId: string; target: string; sensitivity: string; reason: string };
  let n = 0;
  const writeOne = (b: Body): string => {
    const id = `req_${(n++).toString(36).padStart(12, '0')}`;
    const now = Date.now();
    insertRequest.run(id, b.requester, b.backupId, b.target, b.sensitivity, b.reason, now, now + 60_000);
    const h = head.get() as { id: number; hash: string } | undefined;
    // The same audit content the service writes: the same fields, so the same bytes to the WAL.
    const data = { backupId: b.backupId, integrationId: 'bench', requester: b.requester, sensitivity: b.sensitivity, target: b.target };
    const content = JSON.stringify([(h?.id ?? 0) + 1, new Date(now).toISOString(), 'restore_request_received', 'bench', id, '127.0.0.x', 'autocannon', data]);
    const prev = h?.hash ?? '0'.repeat(64);
    insertAudit.run((h?.id ?? 0) + 1, content, prev, createHash('sha256').update(`${prev}\n${content}`).digest('hex'));
    return id;
  };
  const write = db.transaction(writeOne);
  const writeMany = db.transaction((bodies: Body[]) => bodies.map(writeOne));
  let queue: { body: Body; res: ServerResponse }[] = [];
  const answer = (res: ServerResponse, id: string) => res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, status: 'pending', matchCode: 42 }));
  const flush = () => {
    const batch = queue;
    queue = [];
    const ids = writeMany.immediate(batch.map((q) => q.body));
    batch.forEach((q, i) => answer(q.res, ids[i] as string));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Body;
      if (!grouped) return answer(res, write.immediate(body));
      if (queue.push({ body, res }) === 1) setImmediate(flush);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    db,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          db.close();
          resolve();
        });
      }),
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

async function load(port: number, headers: Record<string, string>): Promise<Load> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/restore-requests`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`the bench load failed: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function throughput(dir: string): Promise<BenchResult[]> {
  const subject: Load[] = [];
  const baseline: Load[] = [];
  const groupedBaseline: Load[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const runSubject = async () => {
      const s = await custodianOn(dir, `gw-${round}`);
      subject.push(await load(s.port, { authorization: `Bearer ${s.key}` }));
      await s.custodian.dispose();
    };
    const runBaseline = async () => {
      const b = await bareServer(dir, `bare-${round}`);
      baseline.push(await load(b.port, {}));
      await b.close();
      const g = await bareServer(dir, `bare-grouped-${round}`, true);
      groupedBaseline.push(await load(g.port, {}));
      await g.close();
    };
    // Alternating order, as compare() does, so drift hits both sides alike.
    if (round % 2 === 0) {
      await runSubject();
      await runBaseline();
    } else {
      await runBaseline();
      await runSubject();
    }
  }
  const pick = (xs: Load[], k: keyof Load) => median(xs.map((x) => x[k]));
  return [
    result(`POST /v1/restore-requests, ${CONNECTIONS} connections, synchronous FULL`, 'requests/s', { value: pick(subject, 'rps'), baseline: pick(baseline, 'rps') }, 0.7, 'bare node:http, same JSON parse and same writes in one transaction'),
    result(`POST /v1/restore-requests against a bare server that also commits in groups`, 'requests/s', { value: pick(subject, 'rps'), baseline: pick(groupedBaseline, 'rps') }, null, 'bare node:http, same writes, committed in groups as the gateway does'),
    result('POST /v1/restore-requests latency p50', 'ms', { value: pick(subject, 'p50'), baseline: pick(baseline, 'p50') }, null, 'bare node:http p50'),
    result('POST /v1/restore-requests latency p99', 'ms', { value: pick(subject, 'p99'), baseline: pick(baseline, 'p99') }, null, 'bare node:http p99'),
  ];
}

function heap(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** Several full collections (npm run bench passes --expose-gc), so only live memory is counted. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i += 1) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Opens `WAITERS` long-polls (or held requests) and measures memory while they wait. */
async function holdOpen(port: number, path: string, headers: Record<string, string>, waiting: () => number): Promise<{ bytes: number; answers: Promise<void>[]; agent: Agent }> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  await settle();
  const before = heap();
  const answers = Array.from(
    { length: WAITERS },
    () =>
      new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => resolve());
        req.end();
      }),
  );
  while (waiting() < WAITERS) await new Promise((resolve) => setTimeout(resolve, 20));
  await settle();
  return { bytes: heap() - before, answers, agent };
}

async function longPollMemory(dir: string): Promise<BenchResult> {
  const s = await custodianOn(dir, 'poll');
  const integration = s.custodian.integrations.authenticate(s.key);
  const created = await s.custodian.requests.create(integration, JSON.parse(body));
  const subject = await holdOpen(s.port, `/v1/restore-requests/${created.id}?waitSeconds=60`, { authorization: `Bearer ${s.key}` }, () => s.custodian.requests.waiting);
  s.custodian.requests.deny(created.id, 'bench');
  await Promise.all(subject.answers);
  subject.agent.destroy();
  await s.custodian.dispose();

  // The baseline: bare node:http holding the same number of GETs open, doing nothing else.
  const held: ServerResponse[] = [];
  const bare = createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const { port } = bare.address() as AddressInfo;
  const baseline = await holdOpen(port, '/wait', {}, () => held.length);
  for (const res of held) res.end('{}');
  await Promise.all(baseline.answers);
  baseline.agent.destroy();
  await new Promise((resolve) => bare.close(resolve));

  return result(`memory per waiting long-poll, ${WAITERS} at once (client sockets included)`, 'KiB', { value: subject.bytes / WAITERS / 1024, baseline: baseline.bytes / WAITERS / 1024 }, null, 'bare node:http holding the same requests open');
}

export async function gatewayBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-gw-'));
  try {
    return [...(await throughput(dir)), await longPollMemory(dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
