import { parseArgs } from 'node:util';
import { runSoak, type SOAK_DEFAULTS, type SoakOptions } from './soak';

// npm run soak: the load (50 clients, 500 long-pollers, 60 s) unless flags or the
// environment say otherwise; one JSON document on stdout, progress on stderr, exit 1 when an
// invariant failed.
//   npm run soak -- --duration 10 --clients 20 --long-pollers 100
//   SOAK_DURATION_SECONDS=10 npm run soak
const FLAGS = {
  duration: { key: 'durationSeconds', env: 'SOAK_DURATION_SECONDS' },
  clients: { key: 'clients', env: 'SOAK_CLIENTS' },
  'long-pollers': { key: 'longPollers', env: 'SOAK_LONG_POLLERS' },
  baseline: { key: 'baselineSeconds', env: 'SOAK_BASELINE_SECONDS' },
  'wait-seconds': { key: 'waitSeconds', env: 'SOAK_WAIT_SECONDS' },
  'rss-window': { key: 'rssWindowSeconds', env: 'SOAK_RSS_WINDOW_SECONDS' },
  factors: { key: 'factors', env: 'SOAK_FACTORS' },
} as const satisfies Record<string, { key: keyof typeof SOAK_DEFAULTS; env: string }>;

function options(): Partial<SoakOptions> {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
  });
  const chosen: Partial<SoakOptions> = {};
  for (const [flag, { key, env }] of Object.entries(FLAGS)) {
    const raw = values[flag] ?? process.env[env];
    if (raw === undefined || typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--${flag} (${env}) must be a whole number from 1 to 100000`);
    chosen[key] = n;
  }
  return chosen;
}

async function main(): Promise<void> {
  const report = await runSoak({ ...options(), log: (line) => process.stderr.write(`soak: ${line}\n`) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.failures.length > 0) process.stderr.write(`soak: FAILED\n  ${report.failures.join('\n  ')}\n`);
  // Nothing may keep the process alive once the figures are out.
  process.exit(report.failures.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
