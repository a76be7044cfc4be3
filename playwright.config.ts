import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './src-main/host/chromium-flags';
import { electronBinary } from './test/e2e/electron-binary';
import type { LauncherOptions } from './test/e2e/fixtures';

// One set of specs, two launchers (DESIGN.md "test/"): the Chromium host always, and the real
// Electron app wherever its binary is installed.
const projects = [{ name: 'chromium-host', use: { launcher: 'chromium-host' as const } }];
if (electronBinary()) projects.push({ name: 'electron', use: { launcher: 'electron' as never } });

export default defineConfig<LauncherOptions>({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  use: {
    headless: true,
    viewport: { width: 1180, height: 780 },
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    trace: 'off',
  },
  projects,
});
