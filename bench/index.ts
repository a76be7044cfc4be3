import { approvalBenchmarks } from './approval.bench';
import { auditBenchmarks } from './audit.bench';
import { chainBenchmarks } from './chain.bench';
import { gatewayBenchmarks } from './gateway.bench';
import { mfaBenchmarks } from './mfa.bench';

// npm run bench: one JSON document on stdout; every figure beside a baseline from the same run.
// `npm run bench -- audit` (or `mfa`, `chain`, `gateway`, `approval`) runs one group.
async function main(): Promise<void> {
  const only = process.argv[2];
  const wants = (group: string): boolean => only === undefined || only === group;
  const results = [
    ...(wants('audit') ? auditBenchmarks() : []),
    ...(wants('mfa') ? await mfaBenchmarks() : []),
    ...(wants('chain') ? await chainBenchmarks() : []),
    ...(wants('gateway') ? await gatewayBenchmarks() : []),
    ...(wants('approval') ? await approvalBenchmarks() : []),
  ];
  process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
  // Nothing may keep the process alive once the figures are out.
  process.exit(0);
}

void main();
