import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src-main/clock';
import { createCustodian } from '../src-main/composition';
import { loadConfig } from '../src-main/config';
import { databaseFile, openDatabase } from '../src-main/platform/db/database';
import { median, MemorySecretStore, result, type BenchResult } from './harness';

const SPAWNS = 11;

/** Wall time from spawn to exit of one `node ...args`, in seconds; a non-zero exit is an error. */
function timedRun(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve((performance.now() - start) / 1000);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

/** Median runs per second of the subject and of bare `node -e 0`, spawned in alternating turns. */
async function startups(args: string[], env: NodeJS.ProcessEnv): Promise<{ value: number; baseline: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < SPAWNS; i += 1) {
    a.push(await timedRun(args, env));
    b.push(await timedRun(['-e', '0'], {}));
  }
  return { value: 1 / median(a), baseline: 1 / median(b) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Issue 13, item 8: the CLI's start-up against bare `node -e 0`, each the median of several
 * spawns in the same run: `custodian --help`, and `custodian request --no-wait` against a gateway
 * served by this process (the whole command: start, the server's proof, the request, the exit).
 */
export async function startupBenchmarks(): Promise<BenchResult[]> {
  const bin = join(__dirname, '..', '..', 'bin', 'custodian.js');
  if (!existsSync(bin)) throw new Error(`no custodian bin at ${bin}`);
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-startup-'));
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: (c) => {
      c.dataDir = dir;
      c.gateway.port = port;
      c.gateway.rateLimit = { burst: 1_000_000, refillPerMinute: 10_000_000 };
    },
  });
  const db = openDatabase({ file: databaseFile(dir), synchronous: config.database.synchronous });
  const custodian = createCustodian({ config, clock: systemClock, db, secrets: new MemorySecretStore() });
  try {
    await custodian.start();
    const { key } = custodian.integrations.add('bench', 'bench');
    const env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_API_KEY: key };
    const help = await startups([bin, '--help'], env);
    const request = await startups([bin, 'request', '--no-wait', '--backup', 'snap-1', '--target', '/srv/restore', '--reason', 'bench', '--requester', 'backup@db1'], env);
    const bare = 'bare `node -e 0`, spawned the same way (median of the same number of runs)';
    return [
      result(`custodian --help: spawn to exit (median of ${SPAWNS})`, 'starts/s', help, null, bare),
      result(`custodian request --no-wait against a gateway: spawn to exit (median of ${SPAWNS})`, 'starts/s', request, null, bare),
    ];
  } finally {
    await custodian.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
