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
