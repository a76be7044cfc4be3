// npm start: builds quietly, then opens Electron where its binary exists; otherwise the Chromium
// host, with one line saying why.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * The build's whole output goes to a log file, and the terminal gets one line (issue 9: `npm
 * start` printed every chunk and warning). On failure the end of the log is shown as well.
 */
function build() {
  const log = join(root, '.cache', 'build.log');
  mkdirSync(dirname(log), { recursive: true });
  const started = Date.now();
  const fd = openSync(log, 'w');
  // Under `npm start` npm says where it lives; run the same npm rather than whichever is on PATH.
  const npm = process.env.npm_execpath;
  const args = ['run', 'build', '--silent'];
  const run = npm
    ? spawnSync(process.execPath, [npm, ...args], { cwd: root, stdio: ['ignore', fd, fd] })
    : spawnSync('npm', args, { cwd: root, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  // eslint-disable-next-line no-control-regex -- the colour codes are what is being removed
  const text = readFileSync(log, 'utf8').replace(/\u001b\[[0-9;]*m/g, '');
  const where = relative(process.cwd(), log) || log;
  if (run.status !== 0) {
    process.stderr.write(`${text.trimEnd().split('\n').slice(-40).join('\n')}\n`);
    process.stderr.write(`custodian: the build failed; its whole output is in ${where}\n`);
    process.exit(1);
  }
  const warnings = text.split('\n').filter((line) => /^\s*(\(!\)|\[[A-Z_]+\] |warning\b|WARN\b)/i.test(line)).length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const note = warnings === 0 ? '' : `, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  process.stderr.write(`custodian: built in ${seconds} s${note} (output in ${where})\n`);
}

build();

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
