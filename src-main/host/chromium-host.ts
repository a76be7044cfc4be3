import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Custodian } from '../composition';
import { createAppRouter } from '../ipc/app-router';
import { forwardEvents } from '../ipc/events';
import { serveRenderer, type StaticServer } from './static-server';

export interface ChromiumHostOptions {
  custodian: Custodian;
  context: BrowserContext;
  /** The electron-vite build output (`out/`). */
  outDir: string;
  /** A renderer server already started (`npm start` needs its URL to launch Chromium); the host closes it. */
  server?: StaticServer;
}

export interface ChromiumHost {
  url: string;
  open(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * The Chromium host of DESIGN.md: the built renderer in Chromium, the real composition root in
 * this process, and the preload's invoke/on bridged to the real IPC router through page
 * bindings. It runs the same handlers, API factory and renderer that Electron would.
 */
export async function attachChromiumHost(options: ChromiumHostOptions): Promise<ChromiumHost> {
  const { custodian, context, outDir } = options;
  const server = options.server ?? (await serveRenderer(join(outDir, 'renderer')));
  const appOrigin = server.origin;
  const router = createAppRouter(custodian, 'chromium-host', (url) => url.origin === appOrigin);


  await context.exposeBinding('__custodianInvoke', (source, channel: unknown, payload: unknown) =>
    router.handle(typeof channel === 'string' ? channel : '', payload, {
      url: source.frame.url(),
      isMainFrame: source.frame === source.page.mainFrame(),
    }),
  );
  await context.addInitScript({ path: join(outDir, 'host-preload', 'host-preload.js') });

  const stopEvents = forwardEvents(custodian, (event, payload) => {
    for (const page of context.pages()) {
      if (new URL(page.url()).origin !== appOrigin) continue;
      page
        .evaluate(([e, p]) => (globalThis as unknown as { __custodianEmit?: (e: string, p: unknown) => void }).__custodianEmit?.(e, p), [event, payload] as const)
        .catch(() => undefined);
    }
  });

  return {
    url: `${appOrigin}/`,
    async open() {
      const page = context.pages().find((p) => p.url() === 'about:blank') ?? (await context.newPage());
      await page.goto(`${appOrigin}/`);
      return page;
    },
    async close() {
      stopEvents();
      await server.close();
    },
  };
}
