import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { systemClock } from '../src-main/clock';
import { createCustodian } from '../src-main/composition';
import { loadConfig } from '../src-main/config';
import { attachChromiumHost } from '../src-main/host/chromium-host';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src-main/host/chromium-flags';
import { openDatabase } from '../src-main/platform/db/database';
import { median, MemorySecretStore, result, type BenchResult } from './harness';

/**
 * Issue 13, item 8: the Approvals screen with 1,000 pending requests, made through the gateway,
 * in the built renderer on the Chromium host (as the e2e specs run it). Two figures, each beside
 * the same screen with 10 requests in the same run:
 * - time to first render: from the click on Approvals to the frame after the list shows every
 *   request (the IPC read of the lists included), between two `performance` marks;
 * - frame time while the countdowns run: requestAnimationFrame deltas over `FRAME_SECONDS`.
 */
const MANY = 1000;
const FEW = 10;
const ROUNDS = 3;
const FRAME_SECONDS = 3;

const REQUEST = { requester: 'backup@db1', backupId: 'snap-2026-11-24', target: '/srv/restore/db', reason: 'bench', sensitivity: 'high' };

function post(port: number, key: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/restore-requests', agent: false, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${key}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The page's globals, typed here: the bench compiles without the DOM library. */
interface PageElement {
  click(): void;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}
interface PageGlobals {
  document: { querySelector(selector: string): PageElement | null };
  requestAnimationFrame(callback: (at: number) => void): number;
}

interface Screen {
  firstRenderMs: number;
  frameP50Ms: number;
  frameP99Ms: number;
  /** Cards in the DOM once rendered: the window, not the list. */
  cardsInDom: number;
}

async function measure(count: number, rounds: number): Promise<Screen[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-ui-'));
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: (c) => {
      c.dataDir = dir;
      c.gateway.port = port;
      c.gateway.rateLimit = { burst: count * 2, refillPerMinute: 60_000 };
      c.approvals.timeoutSeconds = 3600;
    },
  });
  const custodian = createCustodian({ config, clock: systemClock, db: openDatabase({ file: join(dir, 'custodian.db'), synchronous: 'FULL' }), secrets: new MemorySecretStore() });
  await custodian.start();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const { key } = custodian.integrations.add('bench-fleet', 'bench@corp');
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const i = next++;
          const status = await post(port, key, { ...REQUEST, backupId: `snap-${i}` });
          if (status !== 202) throw new Error(`the gateway answered ${status}`);
        }
      }),
    );
    const out: Screen[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const context = await browser.newContext({ viewport: { width: 1180, height: 780 } });
      const host = await attachChromiumHost({ custodian, context, outDir: join(__dirname, '..') });
      const page = await host.open();
      await page.getByTestId('nav-settings').click();
      await page.getByTestId('language-select').waitFor();
      const firstRenderMs = await page.evaluate(
        (expected) =>
          new Promise<number>((resolve) => {
            const { document, requestAnimationFrame } = globalThis as unknown as PageGlobals;
            performance.mark('approvals-open');
            document.querySelector('[data-testid="nav-approvals"]')?.click();
            const look = (): void => {
              const list = document.querySelector('[data-testid="request-list"]');
              if (list?.getAttribute('data-count') !== String(expected) || !list.querySelector('[data-testid="request-card"]')) return void requestAnimationFrame(look);
              // The frame after the one that holds the list: it has been painted.
              requestAnimationFrame(() => {
                performance.mark('approvals-first-render');
                resolve(performance.measure('approvals-first-render', 'approvals-open', 'approvals-first-render').duration);
              });
            };
            requestAnimationFrame(look);
          }),
        count,
      );
      const frames = await page.evaluate(
        (seconds) =>
          new Promise<number[]>((resolve) => {
            const { requestAnimationFrame } = globalThis as unknown as PageGlobals;
            const deltas: number[] = [];
            let last = performance.now();
            const end = last + seconds * 1000;
            const step = (at: number): void => {
              deltas.push(at - last);
              last = at;
              if (at < end) requestAnimationFrame(step);
              else resolve(deltas);
            };
            requestAnimationFrame(step);
          }),
        FRAME_SECONDS,
      );
      const cardsInDom = await page.getByTestId('request-card').count();
      frames.sort((a, b) => a - b);
      out.push({
        firstRenderMs,
        frameP50Ms: frames[Math.floor(frames.length / 2)] ?? 0,
        frameP99Ms: frames[Math.min(frames.length - 1, Math.floor(frames.length * 0.99))] ?? 0,
        cardsInDom,
      });
      await context.close();
      await host.close();
    }
    return out;
  } finally {
    await browser.close();
    await custodian.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench` can include these (one group, `approvals-ui`); they need the built renderer. */
export async function approvalsUiBenchmarks(): Promise<BenchResult[]> {
  const many = await measure(MANY, ROUNDS);
  const few = await measure(FEW, ROUNDS);
  const pick = (screens: Screen[], k: keyof Screen): number => median(screens.map((s) => s[k]));
  const baselineName = `the same screen with ${FEW} pending requests, same run`;
  return [
    result(`Approvals screen, ${MANY} pending: time to first render (click to the painted list)`, 'ms', { value: pick(many, 'firstRenderMs'), baseline: pick(few, 'firstRenderMs') }, null, baselineName),
    result(`Approvals screen, ${MANY} pending: frame time p50 while the countdowns run`, 'ms', { value: pick(many, 'frameP50Ms'), baseline: pick(few, 'frameP50Ms') }, null, baselineName),
    result(`Approvals screen, ${MANY} pending: frame time p99 while the countdowns run`, 'ms', { value: pick(many, 'frameP99Ms'), baseline: pick(few, 'frameP99Ms') }, null, baselineName),
    result(`Approvals screen, ${MANY} pending: request cards in the DOM (windowed)`, 'cards', { value: pick(many, 'cardsInDom'), baseline: pick(few, 'cardsInDom') }, null, baselineName),
  ];
}
