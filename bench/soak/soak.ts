import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { approvePurpose } from '../../src-shared/domain/approval';
import { MANAGE } from '../../src-shared/domain/policy';
import { isAppError } from '../../src-shared/errors';
import type { Clock } from '../../src-main/clock';
import { GatewayClient, GatewayError } from '../../src-main/cli/gateway-client';
import { createCustodian, type Custodian } from '../../src-main/composition';
import { loadConfig, type Config } from '../../src-main/config';
import { openDatabase } from '../../src-main/platform/db/database';
import type { SecretStore } from '../../src-main/platform/keychain/secret-store';
import { totpCode, type TotpParams } from '../../src-main/services/mfa/totp';
import { MemorySecretStore, result, type BenchResult } from '../harness';

/**
 * Issue 13, item 7: the soak. One Custodian (real SQLite file, synchronous FULL, the real gateway
 * on loopback) under `clients` autocannon connections creating requests and reading their status,
 * `longPollers` requesters each waiting on its own pending request (`?waitSeconds=`), an approver
 * passing a step-up chain and approving through the real ApprovalService, and each requester
 * collecting its token and redeeming it through the gateway, all at once for `durationSeconds`.
 *
 * What must hold: every answer is a success or the typed rate-limit answer (429 with
 * ERR-RATE-LIMITED); no socket error or time-out; every approval and redeem succeeds; the RSS peak
 * of the last window is within 10 % of the first window's; no long-poll waiter is left once every
 * requester hung up. Latency and throughput are printed beside the bare health endpoint's, loaded
 * the same way on the same gateway in the same run.
 */
export interface SoakOptions {
  durationSeconds: number;
  clients: number;
  longPollers: number;
  /** The health-endpoint baseline's length, run before the soak. */
  baselineSeconds: number;
  /** How long each long-poll waits (the gateway allows up to 60). */
  waitSeconds: number;
  /** The first and the last window of this length are compared for RSS growth. */
  rssWindowSeconds: number;
  /** TOTP factors the approver holds: each gives about one approval per 30 s time step. */
  factors: number;
  /** The keychain the Custodian uses; the benchmarks' in-memory one unless given. */
  secrets?: (config: Config) => SecretStore;
  /** Progress lines (stderr in `npm run soak`). */
  log?: (line: string) => void;
  /**
   * Test-only: called with the Custodian before it starts, to plant a fault the soak must catch
   * (test/integration/soak.test.ts plants a long-poll waiter that ignores its requester's hang-up).
   */
  tamper?: (custodian: Custodian) => void;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'secrets' | 'log' | 'tamper'> = {
  durationSeconds: 60,
  clients: 50,
  longPollers: 500,
  baselineSeconds: 10,
  waitSeconds: 20,
  rssWindowSeconds: 10,
  factors: 20,
};

/** RSS may grow by less than this between the first and the last window (issue 13, item 7). */
export const RSS_GROWTH_LIMIT = 0.1;

export interface SoakReport {
  options: Omit<SoakOptions, 'secrets' | 'log' | 'tamper'>;
  results: BenchResult[];
  counts: {
    responses: number;
    byStatus: Record<string, number>;
    socketErrors: number;
    timeouts: number;
    longPollAnswers: number;
    requestsCreatedByPollers: number;
    approvals: number;
    redeems: number;
    chainStarts: number;
    /** Requesters that gave up before the soak stopped, and every requester failure by call and kind. */
    requestersLost: number;
    requesterErrors: Record<string, number>;
    /** Long-poll waiters when every requester hung up, those that could not have run out by the check, and those left. */
    waitersAtHangUp: number;
    waitersDueAfterCheck: number;
    waitersLeft: number;
    /** The load connections' errors by kind (a time-out is autocannon's 10 s), and the seconds into the soak of the first and the last. */
    loadErrors: Record<string, number>;
    loadErrorsAt: [number, number] | null;
  };
  /** The event loop's delay while the soak ran (the server, the clients and the approver share it). */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rss: { firstWindowPeakMiB: number; lastWindowPeakMiB: number; growth: number; samples: number };
  /** [seconds into the soak, MiB live after a full collection], with --expose-gc only. */
  liveHeapMiB: [number, number][];
  /** Empty when every invariant held. */
  failures: string[];
}

const BODY = { requester: 'backup@db1', backupId: 'snap-2026-11-24', target: '/srv/restore/db', reason: 'soak' };
const DESKTOP = { source: 'desktop' } as const;
const PERIOD_MS = 30_000;
/** Load connections per integration, and long-pollers per integration: each integration is a backup tool. */
const CLIENTS_PER_INTEGRATION = 5;
const POLLERS_PER_INTEGRATION = 10;

/** Real time plus an offset the setup moves forward (enrolling factors uses fresh time steps). */
class OffsetClock implements Clock {
  #offset = 0;
  now(): number {
    return Date.now() + this.#offset;
  }
  advance(ms: number): void {
    this.#offset += ms;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The typed rate-limit answer (DESIGN.md "Error contract"), and nothing else, is an allowed refusal. */
function isTypedRateLimit(status: number, body: string): boolean {
  if (status !== 429) return false;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return parsed.error?.code === 'ERR-RATE-LIMITED' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

/** The approver's view of what the TOTP factors have used: factor id -> its secret and last step. */
interface Approver {
  params: Map<string, TotpParams>;
  lastStep: Map<string, number>;
  windowSteps: number;
}

/** A factor's code of the earliest time step it may still use now, or null when it is spent until the next step. */
function nextCode(approver: Approver, factorId: string, now: number): { code: string; step: number } | null {
  const params = approver.params.get(factorId);
  if (!params) return null;
  const current = Math.floor(now / PERIOD_MS);
  const step = Math.max((approver.lastStep.get(factorId) ?? -1) + 1, current - approver.windowSteps);
  // Codes a little ahead are accepted (the window), but the verifier's clock reads a moment later.
  if (step > current + approver.windowSteps) return null;
  return { code: totpCode(params, step * PERIOD_MS), step };
}

/** The profile and its TOTP factors, enrolled through the services as the window does it. */
async function enrollApprover(c: Custodian, clock: OffsetClock, count: number): Promise<Approver> {
  const approver: Approver = { params: new Map(), lastStep: new Map(), windowSteps: c.config.mfa.windowSteps };
  c.mfa.initProfile({ displayName: 'Soak', principal: 'soak@corp', role: 'security-admin' }, DESKTOP);
  const use = (factorId: string): string => {
    const next = nextCode(approver, factorId, clock.now());
    if (!next) throw new Error('the setup ran out of time steps');
    approver.lastStep.set(factorId, next.step);
    return next.code;
  };
  for (let i = 0; i < count; i += 1) {
    // A fresh time step for every chain: each factor is used once per step at most. The window's
    // every call counts as activity (the idle lock); so do the setup's.
    clock.advance(PERIOD_MS);
    c.lock.touch();
    if (i > 0) {
      let view = c.chain.start(MANAGE.enroll, 'critical', DESKTOP);
      while (view.status === 'open') {
        const step = view.steps[view.position];
        if (!step) throw new Error('an open chain without a current step');
        view = await c.chain.verifyStep(view.attemptId, step.id, use(step.id), DESKTOP);
      }
    }
    const enrollment = await c.mfa.startEnrollment({ label: `Phone ${i + 1}`, digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
    const secret = new URL(enrollment.uri).searchParams.get('secret') ?? '';
    approver.params.set(enrollment.factor.id, { secret, digits: 6, period: 30, algorithm: 'SHA1' });
    await c.mfa.confirmEnrollment(enrollment.factor.id, use(enrollment.factor.id), DESKTOP);
  }
  return approver;
}

export async function runSoak(input: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const options: SoakOptions = { ...SOAK_DEFAULTS, ...input };
  const log = options.log ?? (() => undefined);
  const failures: string[] = [];
  const fail = (what: string): void => {
    // One line per kind of failure is enough to act on; the counts say how many.
    if (failures.length < 50 && !failures.includes(what)) failures.push(what);
  };

  const dir = mkdtempSync(join(tmpdir(), 'custodian-soak-'));
  const port = await freePort();
  const clock = new OffsetClock();
  const config = loadConfig({
    env: {},
    overrides: (c) => {
      c.dataDir = dir;
      c.gateway.port = port;
      c.keychain.service = `custodian-soak-${dir.split('-').pop() ?? 'x'}`;
      // Each load connection sends as fast as it is answered, faster than an integration may:
      // beyond 30/s per integration the limiter answers (the typed 429, which the soak allows).
      c.gateway.rateLimit = { burst: 30, refillPerMinute: 1_800 };
      // Every requester holds a connection: the cap (512 by default) must leave room for them all.
      c.gateway.maxConnections = Math.max(c.gateway.maxConnections, 2 * (options.clients + options.longPollers));
      c.database.synchronous = 'FULL';
    },
  });
  const secrets = options.secrets?.(config) ?? new MemorySecretStore();
  const db = openDatabase({ file: join(dir, 'custodian.db'), synchronous: 'FULL' });
  const c = createCustodian({ config, clock, db, secrets });
  options.tamper?.(c);
  const clients: GatewayClient[] = [];
  const counts: SoakReport['counts'] = {
    responses: 0,
    byStatus: {},
    socketErrors: 0,
    timeouts: 0,
    longPollAnswers: 0,
    requestsCreatedByPollers: 0,
    approvals: 0,
    redeems: 0,
    chainStarts: 0,
    requestersLost: 0,
    requesterErrors: {},
    waitersAtHangUp: 0,
    waitersDueAfterCheck: 0,
    waitersLeft: 0,
    loadErrors: {},
    loadErrorsAt: null,
  };
  const kindOf = (error: unknown): string => {
    if (error instanceof GatewayError) return error.code;
    if (error instanceof Error) return `${error.constructor.name}${typeof (error as NodeJS.ErrnoException).code === 'string' ? ` ${(error as NodeJS.ErrnoException).code as string}` : ''}`;
    return typeof error;
  };
  const seen = (status: number): void => {
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
  };

  try {
    await c.start();
    if (c.gateway.status.state !== 'listening') throw new Error(`the gateway did not start: ${JSON.stringify(c.gateway.status)}`);
    log(`enrolling ${options.factors} factors`);
    const approver = await enrollApprover(c, clock, options.factors);

    // --- The baseline: the bare health endpoint, the same connections, on the same gateway.
    log(`baseline: GET /v1/health, ${options.clients} connections, ${options.baselineSeconds} s`);
    const baseline = await autocannon({
      url: `http://127.0.0.1:${port}/v1/health`,
      connections: options.clients,
      duration: options.baselineSeconds,
    });
    if (baseline.errors > 0 || baseline.non2xx > 0) fail(`the health baseline had ${baseline.errors} errors and ${baseline.non2xx} non-2xx answers`);

    // --- The soak.
    const loadKeys = Array.from({ length: Math.ceil(options.clients / CLIENTS_PER_INTEGRATION) }, (_, i) => c.integrations.add(`soak-load-${i}`, 'soak-tool@corp').key);
    const pollKeys = Array.from({ length: Math.ceil(options.longPollers / POLLERS_PER_INTEGRATION) }, (_, i) => c.integrations.add(`soak-poll-${i}`, 'soak-tool@corp').key);
    let stopped = false;
    let started = performance.now();
    const elapsed = (): number => (performance.now() - started) / 1000;
    const rssSamples: { at: number; rss: number }[] = [];

    // The load: autocannon per integration; each connection creates a request, then reads it.
    const latencies: number[] = [];
    const checkAnswer = (status: number, body: string): void => {
      if (status >= 200 && status < 300) return;
      if (isTypedRateLimit(status, body)) return;
      fail(`load: HTTP ${status} ${body.slice(0, 200)}`);
    };
    const startLoad = (): Promise<autocannon.Result>[] => loadKeys.map((key, i) => {
      const connections = Math.min(CLIENTS_PER_INTEGRATION, options.clients - i * CLIENTS_PER_INTEGRATION);
      let instance: autocannon.Instance | undefined;
      const done = new Promise<autocannon.Result>((resolve, reject) => {
        instance = autocannon(
          {
            url: `http://127.0.0.1:${port}`,
            connections,
            duration: options.durationSeconds,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            requests: [
              {
                method: 'POST',
                path: '/v1/restore-requests',
                body: JSON.stringify({ ...BODY, sensitivity: 'low' }),
                onResponse: (status, body, context) => {
                  checkAnswer(status, body);
                  (context as { id?: string }).id = status === 202 ? (JSON.parse(body) as { id: string }).id : undefined;
                },
              },
              {
                method: 'GET',
                setupRequest: (req, context) => {
                  const id = (context as { id?: string }).id;
                  return { ...req, path: id === undefined ? '/v1/health' : `/v1/restore-requests/${id}` };
                },
                onResponse: (status, body) => checkAnswer(status, body),
              },
            ],
          },
          (error, r) => (error ? reject(error) : resolve(r)),
        );
      });
      instance?.on('reqError', (error: unknown) => {
        const kind = kindOf(error) === 'Error' && error instanceof Error ? error.message : kindOf(error);
        counts.loadErrors[kind] = (counts.loadErrors[kind] ?? 0) + 1;
        const at = Math.round(elapsed() * 10) / 10;
        counts.loadErrorsAt = counts.loadErrorsAt ? [counts.loadErrorsAt[0], at] : [at, at];
      });
      instance?.on('response', (_client, status, _bytes, ms) => {
        latencies.push(ms);
        seen(status);
      });
      return done;
    });

    // The requesters, as `custodian request --wait` is: the CLI's own GatewayClient (the
    // handshake, then the key on one kept connection), each creating a high request, waiting on
    // it and redeeming the token it collects. Each request carries an Idempotency-Key, as a
    // retrying tool sends it.
    const waitingFor = new Map<string, { matchCode: string; expiresAt: number; taken: boolean }>();
    /** Each requester's long-poll in flight: when its wait runs out on the Custodian's clock. */
    const polling = new Map<GatewayClient, number>();
    const call = async (what: string, run: () => Promise<unknown>): Promise<unknown> => {
      for (;;) {
        try {
          const answer = await run();
          seen(200);
          return answer;
        } catch (error) {
          if (stopped) throw error;
          if (error instanceof GatewayError && error.code === 'ERR-RATE-LIMITED') {
            seen(429);
            await sleep((error.retryAfterSeconds ?? 1) * 1000);
            continue;
          }
          counts.socketErrors += error instanceof GatewayError ? 0 : 1;
          const kind = `${what}: ${kindOf(error)}`;
          counts.requesterErrors[kind] = (counts.requesterErrors[kind] ?? 0) + 1;
          fail(`${what}: ${error instanceof GatewayError ? error.code : error instanceof Error ? error.message : String(error)}`);
          throw error;
        }
      }
    };
    const poller = async (client: GatewayClient): Promise<void> => {
      const longPoll = async (id: string): Promise<unknown> => {
        polling.set(client, clock.now() + options.waitSeconds * 1000);
        try {
          return await client.get(`/v1/restore-requests/${id}?waitSeconds=${options.waitSeconds}`);
        } finally {
          polling.delete(client);
        }
      };
      while (!stopped) {
        const created = (await call('create', () => client.post('/v1/restore-requests', { ...BODY, sensitivity: 'high' }, { idempotencyKey: randomUUID() }))) as {
          id: string;
          matchCode: number;
          expiresAt: string;
        };
        counts.requestsCreatedByPollers += 1;
        waitingFor.set(created.id, { matchCode: String(created.matchCode), expiresAt: Date.parse(created.expiresAt), taken: false });
        try {
          for (;;) {
            const status = (await call('long-poll', () => longPoll(created.id))) as { status: string; token?: string };
            counts.longPollAnswers += 1;
            if (status.status === 'pending' && !stopped) continue;
            if (status.status === 'approved') {
              if (typeof status.token !== 'string') fail('an approved request was answered without its token on the first read');
              else {
                const token = status.token;
                await call('redeem', () => client.post('/v1/restore-tokens/redeem', { token, requester: BODY.requester }));
                counts.redeems += 1;
              }
            }
            break;
          }
        } finally {
          waitingFor.delete(created.id);
        }
      }
    };
    const pollers = Array.from({ length: options.longPollers }, (_, i) => {
      const client = new GatewayClient(port, pollKeys[Math.floor(i / POLLERS_PER_INTEGRATION)] as string);
      clients.push(client);
      // A requester cut off at the end is the soak stopping, not a failure; one that gave up
      // before is lost (its error is counted by kind in `call`).
      return poller(client).catch(() => {
        if (!stopped) counts.requestersLost += 1;
      });
    });
    // The requesters connect and wait before the load starts: under a saturating load, Node
    // accepts new connections about one per event-loop turn (see the report).
    for (let i = 0; i < 600 && c.requests.waiting < options.longPollers; i += 1) await sleep(100);

    // The approver: a chain for `approve:<id>` (high: one random TOTP step), then the approval.
    const approverLoop = async (): Promise<void> => {
      while (!stopped) {
        const now = clock.now();
        const entry = [...waitingFor].find(([, w]) => !w.taken && w.expiresAt - now > 15_000);
        if (!entry) {
          await sleep(100);
          continue;
        }
        const [id, wanted] = entry;
        wanted.taken = true;
        c.lock.touch();
        try {
          // The chain is drawn at random among the factors; one spent for this time step is
          // closed unanswered (as an approver closing the prompt) and a fresh chain drawn.
          let chain = null;
          let next = null;
          for (let draw = 0; draw < 4 && next === null; draw += 1) {
            chain = c.chain.start(approvePurpose(id), 'high', DESKTOP);
            counts.chainStarts += 1;
            next = nextCode(approver, chain.steps[0]?.id ?? '', clock.now());
          }
          if (!chain || !next) {
            wanted.taken = false;
            await sleep(500);
            continue;
          }
          const factorId = chain.steps[0]?.id ?? '';
          approver.lastStep.set(factorId, next.step);
          const passed = await c.chain.verifyStep(chain.attemptId, factorId, next.code, DESKTOP);
          if (passed.status !== 'completed') throw new Error(`the chain ended ${passed.status}`);
          c.approvals.approve(id, wanted.matchCode, DESKTOP);
          counts.approvals += 1;
        } catch (error) {
          fail(`approval: ${isAppError(error) ? error.code : error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(50);
      }
    };
    const approving = approverLoop();

    log(`soak: ${options.clients} clients, ${options.longPollers} long-pollers (${c.requests.waiting} waiting), approvals and redeems, ${options.durationSeconds} s`);
    started = performance.now();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const sampler = setInterval(() => rssSamples.push({ at: elapsed(), rss: process.memoryUsage().rss }), 500);
    // With --expose-gc (npm run soak passes it), the live heap after a full collection, every 5 s:
    // what tells a leak from a heap that has not been collected yet.
    const gc = (globalThis as { gc?: () => void }).gc;
    const liveHeap: { at: number; bytes: number }[] = [];
    const collector = gc
      ? setInterval(() => {
          gc();
          liveHeap.push({ at: elapsed(), bytes: process.memoryUsage().heapUsed });
        }, 5000)
      : undefined;
    const loadResults = await Promise.all(startLoad());
    const soakSeconds = elapsed();
    stopped = true;
    clearInterval(sampler);
    clearInterval(collector);
    loopDelay.disable();
    await approving;
    // Every requester hangs up, as Ctrl+C would: the gateway must release every waiter at once,
    // not when its wait runs out. So the waiters are counted once the gateway has seen every
    // connection close, and only those whose wait could not have run out by then prove anything.
    counts.waitersAtHangUp = c.requests.waiting;
    const hungUpAt = clock.now();
    const dueAt = [...polling.values()];
    for (const client of clients) client.close();
    await Promise.all(pollers);
    const openConnections = (): Promise<number> =>
      new Promise((resolve, reject) => c.gateway.nodeServer.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    for (let i = 0; i < 600 && (await openConnections()) > 0; i += 1) await sleep(50);
    // The close events of the last connections run a moment after they are counted off.
    await sleep(50);
    counts.waitersLeft = c.requests.waiting;
    const checkedAt = clock.now();
    counts.waitersDueAfterCheck = dueAt.filter((due) => due > checkedAt).length;
    if (counts.waitersLeft > 0) fail(`${counts.waitersLeft} long-poll waiters left after every requester hung up`);
    if (counts.waitersDueAfterCheck === 0 && counts.waitersAtHangUp > 0) {
      fail(`the no-waiter check proved nothing: every wait ran out in the ${checkedAt - hungUpAt} ms it took the gateway to see the hang-ups`);
    }

    for (const r of loadResults) {
      counts.socketErrors += r.errors - r.timeouts;
      counts.timeouts += r.timeouts;
    }
    if (counts.socketErrors > 0) fail(`${counts.socketErrors} socket errors`);
    if (counts.requestersLost > 0) fail(`${counts.requestersLost} requesters gave up: ${JSON.stringify(counts.requesterErrors)}`);
    if (counts.timeouts > 0) fail(`${counts.timeouts} time-outs`);
    counts.responses = latencies.length;
    if (counts.approvals === 0) fail('no approval went through');
    if (counts.redeems === 0) fail('no token was redeemed');

    const peak = (from: number, to: number): number => Math.max(0, ...rssSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.rss));
    const window = Math.min(options.rssWindowSeconds, soakSeconds / 3);
    const first = peak(0, window);
    const last = peak(soakSeconds - window, Infinity);
    const growth = first > 0 ? (last - first) / first : 0;
    if (growth >= RSS_GROWTH_LIMIT) fail(`RSS grew ${(growth * 100).toFixed(1)} % between the first and last ${window.toFixed(1)} s (limit ${RSS_GROWTH_LIMIT * 100} %)`);

    latencies.sort((a, b) => a - b);
    const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
    const ms = (nanoseconds: number): number => Math.round(nanoseconds / 1e5) / 10;
    const results = [
      result(
        `soak: gateway p50 latency, ${options.clients} clients + ${options.longPollers} long-pollers, approvals and redeems`,
        'ms',
        { value: percentile(latencies, 50), baseline: baseline.latency.p50 },
        null,
        `GET /v1/health, ${options.clients} connections, same gateway, same run`,
      ),
      result('soak: gateway p99 latency', 'ms', { value: percentile(latencies, 99), baseline: baseline.latency.p99 }, null, `GET /v1/health p99, same run`),
      result('soak: gateway throughput (load connections)', 'requests/s', { value: latencies.length / soakSeconds, baseline: baseline.requests.average }, null, `GET /v1/health, same run`),
    ];
    return {
      options: { ...SOAK_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'secrets' && k !== 'log' && k !== 'tamper')) } as SoakReport['options'],
      results,
      counts,
      eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
      rss: { firstWindowPeakMiB: mib(first), lastWindowPeakMiB: mib(last), growth: Math.round(growth * 1000) / 1000, samples: rssSamples.length },
      liveHeapMiB: liveHeap.map((h) => [Math.round(h.at), mib(h.bytes)]),
      failures,
    };
  } finally {
    for (const client of clients) client.close();
    await c.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

