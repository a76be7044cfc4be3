import { Option, type Command } from 'commander';
import { z } from 'zod';
import { REQUEST_STATUSES, requestIdParamsSchema, requestStatusSchema, revealHidden, type RestoreRequestView } from '../../src-shared/domain/restore-request';
import { loadConfig } from '../config';
import { EXIT, parseArg, withCustodian, type Io } from './cli-support';

/**
 * What the tool asserted and nothing verified (issue 11): the integration is proven by its key
 * and the source address is what the gateway saw, but the requester's name and the context are
 * whatever the tool chose to send. The JSON names them so a script can tell too.
 */
export const ASSERTED_FIELDS = ['requester', 'context'] as const;
const ASSERTED = '(asserted by the tool, not verified)';

const limitArg = z.coerce.number().int().min(1).max(500);

/** The view as a script reads it: every field, and which of them only the tool vouches for. */
function forJson(r: RestoreRequestView): RestoreRequestView & { asserted: readonly string[] } {
  return { ...r, asserted: ASSERTED_FIELDS };
}

/** Stored text as it is, any hidden or control character shown as `⟨U+202E⟩` (issue 9): a terminal must not be steered by a request. */
const shown = revealHidden;

function when(r: RestoreRequestView): string {
  switch (r.status) {
    case 'pending':
      return `expires ${r.expiresAt}`;
    case 'approved':
    case 'denied':
      return `${r.status} ${r.decidedAt ?? '-'}${r.decidedBy ? ` by ${shown(r.decidedBy)}` : ''}`;
    case 'expired':
      return `expired ${r.decidedAt ?? r.expiresAt}`;
    default: {
      const never: never = r.status;
      return never;
    }
  }
}

function line(r: RestoreRequestView): string {
  const status = `${r.status}${r.reported ? '*' : ''}`;
  return [
    r.id,
    status.padEnd(9),
    r.sensitivity.padEnd(8),
    `${shown(r.backupId)} -> ${shown(r.target)}`,
    `via ${shown(r.integrationName)} from ${r.source ?? 'unknown'}`,
    `requester ${shown(r.requester)}?`,
    when(r),
  ].join('  ');
}

function details(r: RestoreRequestView): string {
  const rows: [string, string][] = [
    ['id', r.id],
    ['status', `${r.status}${r.reported ? ' (reported)' : ''}`],
    ['sensitivity', r.sensitivity],
    ['backup', shown(r.backupId)],
    ['target', shown(r.target)],
    ['reason', shown(r.reason)],
    ['integration', `${shown(r.integrationName)} (${r.integrationId}), verified by its key`],
    ['source', `${r.source ?? 'unknown (stored before sources were kept)'}, as the gateway saw it, masked`],
    ['requester', `${shown(r.requester)}  ${ASSERTED}`],
    ['received', r.createdAt],
    ['expires', r.expiresAt],
  ];
  if (r.decidedAt) rows.push(['decided', `${r.decidedAt}${r.decidedBy ? ` by ${shown(r.decidedBy)}` : ''}`]);
  const context = Object.entries(r.context);
  const out = rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}\n`);
  if (context.length > 0) {
    out.push(`context:     ${ASSERTED}\n`);
    for (const [k, v] of context) out.push(`  ${shown(k)}: ${shown(v)}\n`);
  }
  return out.join('');
}

/**
 * `custodian requests list|show` (issue 11, as Teleport's `tsh request ls|show`): read straight
 * from the database, as the other admin commands do, so they work whichever process serves the
 * gateway. Never the match code: the approver must hear it from the requester.
 */
export function registerRequestsCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const requests = program.command('requests').description('restore requests: list them, show one');
  requests
    .command('list')
    .description('list restore requests, newest first')
    .addOption(new Option('--status <status>', 'only those with this status').choices(REQUEST_STATUSES))
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .addOption(new Option('--json', 'print one JSON object'))
    .addHelpText('after', `\nThe requester's name (marked ?) and the context are what the tool asserted; nothing verified them.`)
    .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
      const status = opts.status === undefined ? null : parseArg(requestStatusSchema, opts.status, '--status');
      const limit = parseArg(limitArg, opts.limit, '--limit');
      const list = await withCustodian(loadConfig(), (c) => c.requests.find(status, limit));
      if (opts.json) {
        io.out(`${JSON.stringify({ requests: list.map(forJson) })}\n`);
      } else if (list.length === 0) {
        io.out(status ? `no ${status} restore requests\n` : 'no restore requests\n');
      } else {
        for (const r of list) io.out(`${line(r)}\n`);
        io.out(`? the requester's name is what the tool asserted; nothing verified it${list.some((r) => r.reported) ? '. * reported' : ''}\n`);
      }
      setExit(EXIT.ok);
    });
  requests
    .command('show')
    .description('show one restore request: where it came from, and what the tool only asserted')
    .argument('<id>')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (id: string, opts: { json?: boolean }) => {
      const { id: requestId } = parseArg(requestIdParamsSchema, { id }, 'id');
      const r = await withCustodian(loadConfig(), (c) => c.requests.get(requestId));
      io.out(opts.json ? `${JSON.stringify(forJson(r))}\n` : details(r));
      setExit(EXIT.ok);
    });
}
