import { approvalBenchmarks } from './approval.bench';
import { approvalsUiBenchmarks } from './approvals-ui.bench';
import { AUDIT_ROWS, auditBenchmarks } from './audit.bench';
import { chainBenchmarks } from './chain.bench';
import { gatewayBenchmarks } from './gateway.bench';
import { mfaBenchmarks } from './mfa.bench';
import { startupBenchmarks } from './startup.bench';

// npm run bench: one JSON document on stdout; every figure beside a baseline from the same run.
// `npm run bench -- audit` (or `mfa`, `chain`, `gateway`, `approval`, `startup`) runs one group;
// `--audit-rows N` sizes the audit log's verification figures (issue 13: 1,000,000 by default).
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rowsAt = args.indexOf('--audit-rows');
  const rows = rowsAt >= 0 ? Number(args.splice(rowsAt, 2)[1]) : AUDIT_ROWS;
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--audit-rows takes a positive whole number');
  const only = args[0];
  const wants = (group: string): boolean => only === undefined || only === group;
  const results = [
    ...(wants('audit') ? await auditBenchmarks(rows) : []),
    ...(wants('mfa') ? await mfaBenchmarks() : []),
    ...(wants('chain') ? await chainBenchmarks() : []),
    ...(wants('gateway') ? await gatewayBenchmarks() : []),
    ...(wants('approval') ? await approvalBenchmarks() : []),
    ...(wants('startup') ? await startupBenchmarks() : []),
    ...(wants('approvals-ui') ? await approvalsUiBenchmarks() : []),
  ];
  process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
  // Nothing may keep the process alive once the figures are out.
  process.exit(0);
}

void main();
