import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, test as base, type Page } from '@playwright/test';
import { openCustodian } from '../../src-main/composition';
import { loadConfig } from '../../src-main/config';
import { attachChromiumHost } from '../../src-main/host/chromium-host';
import { electronBinary } from './electron-binary';
import { freePort } from '../fixtures/gateway-client';

export interface LauncherOptions {
  launcher: 'chromium-host' | 'electron';
  /** Extra environment for the app under test, set with `test.use({ appEnv })`. */
  appEnv: NodeJS.ProcessEnv;
}

export interface AppUnderTest {
  page: Page;
  launcher: LauncherOptions['launcher'];
  /** Closes the window and opens the app again on the same data directory. */
  restart(): Promise<Page>;
  /** The environment the app runs with (data dir, keychain service, a free gateway port), for a spec's own CLI runs. */
  env: NodeJS.ProcessEnv;
  gatewayPort: number;
}

const root = join(__dirname, '..', '..');

export const test = base.extend<LauncherOptions & { app: AppUnderTest }>({
  launcher: ['chromium-host', { option: true }],
  appEnv: [{}, { option: true }],
  app: async ({ launcher, appEnv, browser }, use) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'custodian-e2e-'));
    // A free port per test: never 8787, so runs never collide with each other or a real desk.
    const gatewayPort = await freePort();
    const env = {
      ...process.env,
      CUSTODIAN_DATA_DIR: dataDir,
      CUSTODIAN_KEYCHAIN_SERVICE: `custodian-e2e-${dataDir.slice(-6)}`,
      CUSTODIAN_GATEWAY_PORT: String(gatewayPort),
      ...appEnv,
    };
    let close: () => Promise<void> = async () => undefined;

    const launch = async (): Promise<Page> => {
      if (launcher === 'electron') {
        const app = await _electron.launch({ executablePath: electronBinary(), args: [root], env });
        close = () => app.close();
        return app.firstWindow();
      }
      // The Chromium host: the real composition root in this process, the built renderer in
      // Chromium, the preload bridged to the real IPC router.
      const custodian = openCustodian({ config: loadConfig({ env }) });
      await custodian.start();
      const context = await browser.newContext({ viewport: { width: 1180, height: 780 } });
      const host = await attachChromiumHost({ custodian, context, outDir: join(root, 'out') });
      close = async () => {
        await context.close();
        await host.close();
        await custodian.dispose();
      };
      return host.open();
    };

    const page = await launch();
    const handle: AppUnderTest = {
      page,
      launcher,
      env,
      gatewayPort,
      async restart() {
        await close();
        handle.page = await launch();
        return handle.page;
      },
    };
    await use(handle);
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  },
});

export { expect } from '@playwright/test';
