// npm start: Electron where its binary exists; otherwise the Chromium host, with one line saying why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const path = require('electron'); // the package exports the binary's path, or throws
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const electron = electronBinary();
let child;
if (electron) {
  const binding = join(root, '.electron-native', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binding)) spawnSync('bash', [join(root, 'scripts', 'rebuild-electron.sh')], { stdio: 'inherit' });
  child = spawn(electron, [root], { stdio: 'inherit' });
} else {
  process.stderr.write('custodian: no Electron binary is installed here, so the app opens in a Chromium window (the Chromium host).\n');
  child = spawn(process.execPath, [join(root, 'out', 'main', 'chromium-host.js')], { stdio: 'inherit' });
}
child.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
