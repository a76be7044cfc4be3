import { auditBenchmarks } from './audit.bench';
import { gatewayBenchmarks } from './gateway.bench';

// npm run bench: one JSON document on stdout; every figure beside a baseline from the same run.
// `npm run bench -- gateway` (or `audit`) runs one group.
async function main(): Promise<void> {
  const only = process.argv[2];
  const results = [...(only === 'gateway' ? [] : auditBenchmarks()), ...(only === 'audit' ? [] : await gatewayBenchmarks())];
  process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
  // Nothing may keep the process alive once the figures are out.
  process.exit(0);
}

void main();
