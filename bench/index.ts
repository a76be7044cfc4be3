import { auditBenchmarks } from './audit.bench';

// npm run bench: one JSON document on stdout; every figure beside a baseline from the same run.
const results = [...auditBenchmarks()];
process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
