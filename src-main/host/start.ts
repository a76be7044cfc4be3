import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { isAppError } from '../../src-shared/errors';
import { translator, errorMessage } from '../../src-shared/i18n';
import { openCustodian } from '../composition';
import { loadConfig } from '../config';
import { attachChromiumHost } from './chromium-host';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags';

/** `npm start` where no Electron binary exists: the same app in a Chromium app window. */
async function main(): Promise<void> {
  const config = loadConfig();
  const custodian = openCustodian({ config });
  await custodian.start();
  const headless = !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  const profile = mkdtempSync(join(tmpdir(), 'custodian-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless,
    args: [...CHROMIUM_ARGS, '--app=about:blank', '--window-size=1180,780'],
    viewport: null,
  });
  const host = await attachChromiumHost({ custodian, context, outDir: join(__dirname, '..') });
  await host.open();
  if (headless) {
    process.stderr.write('custodian: no display found; the Chromium host runs headless. Press Ctrl+C to stop.\n');
  }

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await host.close();
    await context.close().catch(() => undefined);
    await custodian.dispose();
    rmSync(profile, { recursive: true, force: true });
    process.exit(0);
  };
  context.on('close', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  const t = translator('en');
  const message = isAppError(error) ? errorMessage(t, error.code, error.details) : 'the Chromium host could not start';
  process.stderr.write(`custodian: ${message}\n`);
  process.exit(1);
});
