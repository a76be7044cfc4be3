import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Custodian } from '../composition';
import { attachChromiumHost, type ChromiumHost } from './chromium-host';
import { appWindowArgs, CHROMIUM_PATH } from './chromium-flags';
import { serveRenderer } from './static-server';

export interface AppWindowOptions {
  custodian: Custodian;
  /** The build output (`out/`): the renderer and the host preload. */
  outDir: string;
  headless: boolean;
  /** Chromium's environment (its DISPLAY); this process's by default. */
  env?: NodeJS.ProcessEnv;
}

export interface AppWindow {
  context: BrowserContext;
  page: Page;
  host: ChromiumHost;
  /** Closes the window, the renderer server and the throwaway profile; not the services. */
  close(): Promise<void>;
}

/**
 * `npm start`'s window where no Electron binary exists (issue 9): Chromium as an app window, on
 * a profile of its own that is thrown away on close, showing the real renderer bridged to the
 * real IPC router.
 */
export async function openAppWindow(options: AppWindowOptions): Promise<AppWindow> {
  const { custodian, outDir, headless } = options;
  const profile = mkdtempSync(join(tmpdir(), 'custodian-chromium-'));
  // Chromium opens the app's URL as it starts, before the preload's bindings exist: that first
  // load gets an empty placeholder, and the app loads once they are in place.
  let attached: () => void = () => undefined;
  const placeholderUntil = new Promise<void>((resolve) => (attached = resolve));
  const server = await serveRenderer(join(outDir, 'renderer'), { placeholderUntil });
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless,
      args: appWindowArgs(`${server.origin}/`),
      viewport: null,
      ...(options.env ? { env: options.env } : {}),
    });
    const host = await attachChromiumHost({ custodian, context, outDir, server });
    attached();
    await placeholderUntil;
    const [first] = context.pages();
    let page: Page;
    if (first) {
      await first.reload();
      page = first;
    } else {
      page = await host.open();
    }
    const browser = context;
    return {
      context: browser,
      page,
      host,
      async close() {
        await host.close();
        await browser.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // Nothing half-started stays behind: the browser, the server, the profile.
    await context?.close().catch(() => undefined);
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
