import { auditBenchmarks } from './audit.bench';
import { mfaBenchmarks } from './mfa.bench';

// npm run bench: one JSON document on stdout; every figure beside a baseline from the same run.
async function main(): Promise<void> {
  const results = [...auditBenchmarks(), ...(await mfaBenchmarks())];
  process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
}

void main();
