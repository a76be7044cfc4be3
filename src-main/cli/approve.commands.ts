import { type Command } from 'commander';
import { approvePurpose } from '../../src-shared/domain/approval';
import { requestIdParamsSchema, revealHidden, type RestoreRequestView } from '../../src-shared/domain/restore-request';
import { isAppError } from '../../src-shared/errors';
import { loadConfig } from '../config';
import type { Custodian } from '../composition';
import type { ApprovalContext } from '../services/restore/approval.service';
import { runChain } from './chain.commands';
import { EXIT, message, parseArg, readSecret, SECRET_HELP, withCustodian, type Io } from './cli-support';

const CLI: ApprovalContext = { source: 'cli' };

/** The request card in a terminal: what the tool asserted is marked so (issue 11 "UI"). */
function describeRequest(r: RestoreRequestView): string {
  const context = Object.entries(r.context).map(([k, v]) => `    ${revealHidden(k)}: ${revealHidden(v)}\n`);
  return (
    `restore request ${r.id} from integration ${r.integrationName}, waiting until ${r.expiresAt}\n` +
    `  requester:   ${revealHidden(r.requester)} (as the tool says; not verified)\n` +
    `  backup:      ${revealHidden(r.backupId)}\n` +
    `  target:      ${revealHidden(r.target)}\n` +
    `  sensitivity: ${r.sensitivity}\n` +
    `  reason:      ${revealHidden(r.reason)}\n` +
    (context.length > 0 ? `  context (as the tool says; not verified):\n${context.join('')}` : '')
  );
}

/**
 * `custodian approve ID` (issue 11 "From a shell"): the same pipeline as the window. It shows the
 * request and the policy preview, runs the step-up chain for `approve:<ID>` with each code read
 * from the terminal (or one line of stdin each), then asks for the match code the requester shows,
 * and hands all of it to ApprovalService. Exit 0 approved, 1 otherwise.
 */
export async function approveInTerminal(c: Custodian, io: Io, id: string): Promise<number> {
  const request = c.requests.get(id);
  io.out(describeRequest(request));
  if (request.status !== 'pending') {
    io.err(`custodian: ${message(request.status === 'expired' ? 'ERR-RESTORE-EXPIRED' : 'ERR-RESTORE-ALREADY-DECIDED')}\n`);
    return EXIT.failure;
  }
  const preview = c.approvals.preview(id);
  io.out(`checks before verification (your ceiling: ${preview.ceiling}):\n`);
  for (const check of preview.checks) io.out(`  ${check.rule.padEnd(14)} ${check.state}\n`);
  const failing = preview.checks.filter((check) => check.state === 'fail').map((check) => check.rule);
  if (failing.length > 0) {
    // The authoritative check would refuse it after the chain: no code is asked for in vain.
    io.err(`custodian: the policy refuses this approval (${failing.join(', ')}); nothing was asked for\n`);
    return EXIT.failure;
  }
  if ((await runChain(c, io, approvePurpose(id), preview.sensitivity)) !== EXIT.ok) return EXIT.failure;
  const typed = await readSecret(io, { arg: undefined, name: 'match code', prompt: 'The number the requester shows: ' });
  try {
    const { token } = c.approvals.approve(id, typed, CLI);
    io.out(`approved ${id}: token ${token.id} for ${token.requester}, valid ${token.ttlSeconds} s until ${token.expiresAt}; the requester collects it on its next status read\n`);
    return EXIT.ok;
  } catch (error) {
    if (!isAppError(error)) throw error;
    io.err(`custodian: ${message(error.code, error.details)}\n`);
    if (error.code === 'ERR-RESTORE-MATCH-MISMATCH') io.err('custodian: the verification is spent; run the command again for a new chain\n');
    return EXIT.failure;
  }
}

export function registerApproveCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('approve')
    .description('approve a pending restore request: the step-up chain and the match code, asked for on the terminal')
    .argument('<id>', 'the request id (req_...)')
    .addHelpText('after', SECRET_HELP)
    .action(async (id: string) => {
      const requestId = parseArg(requestIdParamsSchema.shape.id, id, 'id');
      setExit(await withCustodian(loadConfig(), (c) => approveInTerminal(c, io, requestId)));
    });
}
