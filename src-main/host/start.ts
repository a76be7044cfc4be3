import { join } from 'node:path';
import { isAppError } from '../../src-shared/errors';
import { translator, errorMessage } from '../../src-shared/i18n';
import { openCustodian } from '../composition';
import { loadConfig } from '../config';
import { openAppWindow } from './app-window';

/** `npm start` where no Electron binary exists: the same app in a Chromium app window. */
async function main(): Promise<void> {
  const config = loadConfig();
  const custodian = openCustodian({ config });
  await custodian.start();
  const headless = !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  let window;
  try {
    window = await openAppWindow({ custodian, outDir: join(__dirname, '..'), headless });
  } catch (error) {
    await custodian.dispose();
    throw error;
  }
  if (headless) {
    process.stderr.write('custodian: no display found; the Chromium host runs headless. Press Ctrl+C to stop.\n');
  }

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await window.close();
    await custodian.dispose();
    process.exit(0);
  };
  window.context.on('close', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  const t = translator('en');
  const message = isAppError(error) ? errorMessage(t, error.code, error.details) : 'the Chromium host could not start';
  process.stderr.write(`custodian: ${message}\n`);
  process.exit(1);
});
