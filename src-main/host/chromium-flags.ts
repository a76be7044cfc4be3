/**
 * Debian's Chromium as root on a closed network: without the background-networking flags it
 * keeps trying to reach Google's hosts; without --no-sandbox it refuses to run as root.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const CHROMIUM_PATH = process.env.CUSTODIAN_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The size the window opens at: the layout's reference width (issue 9 checks 1180 and 800). */
export const APP_WINDOW = { width: 1180, height: 780 };

/**
 * `npm start`'s Chromium as an app window rather than a browser (issue 9): `--app` opens the URL
 * in a window with no tabs and no address bar (`--app=about:blank` left Playwright's start page
 * in a tabbed window), and `--test-type` drops the infobars: "unsupported command-line flag:
 * --no-sandbox", which running as root needs, and Playwright's automation notice. Measured on
 * Debian's Chromium 156 under Xvfb: 143 px of browser rows before, 56 px (the infobar) with
 * `--app` alone or with `--disable-infobars`, none with `--test-type`.
 */
export function appWindowArgs(url: string): string[] {
  return [...CHROMIUM_ARGS, `--app=${url}`, '--test-type', `--window-size=${APP_WINDOW.width},${APP_WINDOW.height}`];
}
