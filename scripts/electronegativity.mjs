// @ts-check
// Doyensec's Electronegativity over the app's sources (issue 13, item 6), run by `npm test`:
// exits 1 on any finding that JUSTIFIED below does not name, on a justification that no longer
// matches a finding (so a fixed finding drops its excuse), and on a file it could not parse (a
// file it did not check). README, "Electron checks", says why each justified finding stays.
//
// Why not its CLI: `electronegativity` 1.10.3 requires `commander` without declaring it, and
// gets this project's commander 14, whose API it does not know ("version is not a function").
// Its runner is the same scan without the argument parsing.
//
// Why the sources and not out/: the bundle calls `new electron.BrowserWindow(...)`, which its
// checks do not recognise, and its parser fails on class private fields in the bundled chunks.
// The sources are copied to a scratch directory first so that out/, .tsbuild/, test reports
// and node_modules never enter the scan.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** @type {(options: Record<string, unknown>) => Promise<{ issues: Finding[]; errors: { file: string; message: string; tolerable: boolean }[] }>} */
const run = require('@doyensec/electronegativity/dist/runner.js');

/** @typedef {{ id: string; file: string; location: { line: number; column: number }; description: string; severity: { name: string }; confidence: { name: string }; manualReview: boolean }} Finding */

/** What is scanned: everything that ships, and the manifest it reads the Electron version from. */
const SCANNED = ['src-main', 'src-renderer', 'src-shared', 'bin', 'package.json', 'package-lock.json'];

/**
 * Each finding that stays, by check and file, with how many it covers (a second window in the
 * same file is a new finding) and the one-line reason; README, "Electron checks", has the rest.
 * @type {{ id: string; file: string; count: number; why: string }[]}
 */
export const JUSTIFIED = [
  {
    id: 'ELECTRON_VERSION_JSON_CHECK',
    file: 'package.json',
    count: 1,
    why: 'informational: names the Electron version (from package.json) the other checks assume',
  },
  {
    id: 'CONTEXT_ISOLATION_JS_CHECK',
    file: 'src-main/electron/main-window.ts',
    count: 1,
    why: 'the options come from mainWindowOptions() (contextIsolation: true), which the check cannot follow; window-options.test.ts asserts them',
  },
  {
    id: 'SANDBOX_JS_CHECK',
    file: 'src-main/electron/main-window.ts',
    count: 1,
    why: 'sandbox: true in mainWindowOptions(), and app.enableSandbox() in index.ts; window-options.test.ts asserts it',
  },
  {
    id: 'AUXCLICK_JS_CHECK',
    file: 'src-main/electron/main-window.ts',
    count: 1,
    why: 'a middle click opens a window through the window-open handler, which denies every one (main-window.ts and the app-wide web-contents-created handler); navigation is refused as well',
  },
  {
    id: 'PRELOAD_JS_CHECK',
    file: 'src-main/electron/main-window.ts',
    count: 1,
    why: 'reviewed: the preload exposes one typed window.custodian through contextBridge, one function per operation, no ipcRenderer (preload-api.test.ts)',
  },
  {
    id: 'CSP_GLOBAL_CHECK',
    file: 'src-main/electron/main-window.ts',
    count: 1,
    why: '"failed to parse": the header is the RENDERER_CSP constant, which the check cannot evaluate; electron-checks.test.ts keeps it equal to the meta CSP the check does evaluate',
  },
  {
    id: 'CSP_GLOBAL_CHECK',
    file: 'src-renderer/index.html',
    count: 1,
    why: "\"maybe weak\": script-src 'self' is weak where the origin serves JSONP or uploaded files; ours is the app's own bundle, with no inline script and no remote origin",
  },
];

/**
 * Checks left out, each for a reason that has nothing to do with this app's code.
 * AvailableSecurityFixesGlobalCheck asks the network for the latest Electron releases: offline it
 * says nothing, online its answer changes with each Electron release, so it cannot gate a build;
 * keeping Electron current is the dependency updates' job.
 */
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

/**
 * Scans `input` (a directory laid out like the repository) and compares with `justified`.
 * @param {string} input
 * @param {typeof JUSTIFIED} justified
 */
export async function scan(input, justified) {
  const result = await run({
    input,
    isRelative: true,
    customScan: [],
    excludeFromScan: EXCLUDED_CHECKS.map((check) => check.toLowerCase()),
    parserPlugins: [],
    isVerbose: false,
  });
  const problems = [];
  for (const error of result.errors) {
    if (!error.tolerable) problems.push(`could not parse ${relative(input, error.file)}: ${error.message}`);
  }
  const found = new Map();
  for (const issue of result.issues) {
    const file = issue.file.split(sep).join('/');
    const key = `${issue.id} ${file}`;
    found.set(key, [...(found.get(key) ?? []), issue]);
  }
  for (const [key, issues] of found) {
    const entry = justified.find((j) => `${j.id} ${j.file}` === key);
    if (!entry || issues.length > entry.count) {
      for (const issue of issues.slice(entry?.count ?? 0)) {
        problems.push(
          `${issue.id} at ${issue.file}:${issue.location.line}:${issue.location.column} (${issue.severity.name}, ${issue.confidence.name}): ${issue.description}`,
        );
      }
    }
  }
  for (const entry of justified) {
    const count = found.get(`${entry.id} ${entry.file}`)?.length ?? 0;
    if (count < entry.count) problems.push(`justified but no longer found, drop it here and in the README: ${entry.id} in ${entry.file}`);
  }
  return { problems, findings: result.issues.length };
}

const invokedAsScript = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedAsScript) {
  const scratch = mkdtempSync(join(tmpdir(), 'custodian-electronegativity-'));
  try {
    for (const entry of SCANNED) {
      if (existsSync(join(root, entry))) cpSync(join(root, entry), join(scratch, entry), { recursive: true });
    }
    const { problems, findings } = await scan(scratch, JUSTIFIED);
    if (problems.length > 0) {
      console.error(`electronegativity: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(`electronegativity: ${findings} finding(s), each justified in README "Electron checks"`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
