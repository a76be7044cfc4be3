import { randomUUID } from 'node:crypto';
import { userInfo, hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { ErrorCode, ErrorDetails } from '../../src-shared/errors';
import type { RestoreRequestStatus } from '../../src-shared/domain/restore-request';
import {
  createdRestoreRequestSchema,
  createRestoreRequestBodySchema,
  integrationNameSchema,
  requestIdParamsSchema,
  restoreRequestStatusSchema,
} from '../../src-shared/domain/restore-request';
import type { Custodian } from '../composition';
import { loadConfig, type Config } from '../config';
import { EXIT } from './exit-codes';
import { readSecret, SECRET_HELP, shellActor, withCustodian } from './cli-support';
import { GatewayClient, GatewayError, GatewayUnreachable } from './gateway-client';


export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface GatewayCommandContext {
  io: Io;
  setExit: (code: number) => void;
  message: (code: ErrorCode, details?: ErrorDetails) => string;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM); `serve` waits on it. */
  stopSignal: () => Promise<void>;
}

/** The option a request field comes from, to name it in an error. */
const OPTION_OF: Readonly<Record<string, string>> = {
  requester: '--requester',
  backupId: '--backup',
  target: '--target',
  reason: '--reason',
  sensitivity: '--sensitivity',
};

const statusAnswerSchema = restoreRequestStatusSchema.extend({ token: z.string().optional() });

/** A proven server's answer is still checked against the contract before it is used. */
function parseAnswer<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GatewayError('ERR-INTERNAL');
  return parsed.data;
}

/** The services, loaded when a command needs them: `request` and `redeem` talk to the gateway only. */
async function openCustodian(config: Config): Promise<Custodian> {
  const composition = await import('../composition');
  return composition.openCustodian({ config });
}

/** The exit code a gateway error stands for: a typed deny is 3, an expiry 4, bad input 2. */
function exitFor(code: ErrorCode): number {
  switch (code) {
    case 'ERR-RESTORE-EXPIRED':
    case 'ERR-RESTORE-TOKEN-EXPIRED':
      return EXIT.expired;
    case 'ERR-RESTORE-TOKEN-INVALID':
    case 'ERR-RESTORE-POLICY-DENIED':
    case 'ERR-RESTORE-SELF-APPROVAL':
    case 'ERR-RESTORE-INCIDENT-MODE':
      return EXIT.denied;
    case 'ERR-VALIDATION':
      return EXIT.usage;
    default:
      return EXIT.failure;
  }
}

export function addGatewayCommands(program: Command, ctx: GatewayCommandContext): void {
  const { io, setExit, message } = ctx;

  // A gateway failure is reported in the server's words; anything else goes up to runCli.
  const gatewayFailure = (error: unknown): boolean => {
    if (error instanceof GatewayError) {
      io.err(`custodian: ${error.message}\n`);
      setExit(exitFor(error.code));
      return true;
    }
    if (error instanceof GatewayUnreachable) {
      io.err(`custodian: ${error.message}\n`);
      setExit(EXIT.failure);
      return true;
    }
    return false;
  };

  const apiKey = (): string | undefined => {
    const key = process.env.CUSTODIAN_API_KEY;
    if (key && key.length > 0) return key;
    io.err('custodian: set CUSTODIAN_API_KEY to the integration key (`custodian integrations add NAME` prints one)\n');
    setExit(EXIT.usage);
    return undefined;
  };

  /**
   * Long-polls a request until it is decided (or, with `wait` false, reads nothing more), then
   * prints the outcome and sets the exit code: 0 approved (the token on stdout, once), 3 denied,
   * 4 expired; a request left pending by --no-wait prints its id and exits 0.
   */
  async function settle(client: GatewayClient, first: RestoreRequestStatus & { token?: string }, wait: boolean, json: boolean | undefined): Promise<void> {
    let status = first;
    if (wait) {
      while (status.status === 'pending') {
        status = parseAnswer(statusAnswerSchema, await client.get(`/v1/restore-requests/${encodeURIComponent(status.id)}?waitSeconds=60`));
      }
    }
    const summary = { id: status.id, status: status.status, ...(status.token ? { token: status.token } : {}), expiresAt: status.expiresAt };
    if (json) io.out(`${JSON.stringify(summary)}\n`);
    switch (status.status) {
      case 'approved':
        if (!json && status.token) io.out(`${status.token}\n`);
        setExit(EXIT.ok);
        break;
      case 'denied':
        io.err(`custodian: restore request ${status.id} was denied\n`);
        setExit(EXIT.denied);
        break;
      case 'expired':
        io.err(`custodian: ${message('ERR-RESTORE-EXPIRED')}\n`);
        setExit(EXIT.expired);
        break;
      case 'pending':
        if (!json) io.out(`${status.id}\n`);
        setExit(EXIT.ok);
        break;
    }
  }

  program
    .command('request')
    .description('ask the approver for a restore; prints the match code on stderr and the token on stdout')
    .option('--backup <id>', 'the backup (snapshot) to restore (required)')
    .option('--target <path>', 'where it will be restored (required)')
    .option('--reason <text>', 'why, in words the approver will read (required)')
    .option('--sensitivity <level>', 'low, medium, high or critical (unknown counts as critical)')
    .option('--requester <principal>', 'who asks (default: user@host)')
    .option('--wait [id]', 'wait for the decision (the default); with an id, wait again for a request sent with --no-wait')
    .option('--no-wait', 'print the request and exit without waiting')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { backup?: string; target?: string; reason?: string; sensitivity?: string; requester?: string; wait?: boolean | string; json?: boolean }, command: Command) => {
      // `request --wait ID` (issue 11): the same wait and the same exit codes for a request
      // already sent; anything that would describe a new request is a usage error.
      if (typeof opts.wait === 'string') {
        const given = (['backup', 'target', 'reason', 'sensitivity', 'requester'] as const).find((name) => opts[name] !== undefined);
        if (given) command.error(`error: --wait ID waits for a request already sent; --${given} describes a new one`);
        const id = requestIdParamsSchema.safeParse({ id: opts.wait });
        if (!id.success) {
          io.err(`custodian: ${message('ERR-VALIDATION', { field: '--wait' })}\n`);
          setExit(EXIT.usage);
          return;
        }
        const key = apiKey();
        if (!key) return;
        const client = new GatewayClient(loadConfig().gateway.port, key);
        try {
          const first = parseAnswer(statusAnswerSchema, await client.get(`/v1/restore-requests/${encodeURIComponent(id.data.id)}?waitSeconds=60`));
          await settle(client, first, true, opts.json);
        } catch (error) {
          if (!gatewayFailure(error)) throw error;
        } finally {
          client.close();
        }
        return;
      }
      for (const [name, flag] of [['backup', '--backup <id>'], ['target', '--target <path>'], ['reason', '--reason <text>']] as const) {
        if (opts[name] === undefined) command.error(`error: required option '${flag}' not specified`);
      }
      const key = apiKey();
      if (!key) return;
      // The gateway's own schema, checked here first: a bad option is exit 2 before anything is sent.
      const body = createRestoreRequestBodySchema.safeParse({
        requester: opts.requester ?? `${userInfo().username}@${hostname()}`,
        backupId: opts.backup,
        target: opts.target,
        reason: opts.reason,
        ...(opts.sensitivity ? { sensitivity: opts.sensitivity } : {}),
      });
      if (!body.success) {
        const field = String(body.error.issues[0]?.path[0] ?? 'request');
        io.err(`custodian: ${message('ERR-VALIDATION', { field: OPTION_OF[field] ?? field })}\n`);
        setExit(EXIT.usage);
        return;
      }
      const config = loadConfig();
      const client = new GatewayClient(config.gateway.port, key);
      try {
        // One key for this request, so a retry after a reset connection cannot make a second one.
        const created = parseAnswer(createdRestoreRequestSchema, await client.post('/v1/restore-requests', body.data, { idempotencyKey: randomUUID() }));
        io.err(`custodian: restore request ${created.id} is waiting for approval until ${created.expiresAt}\n`);
        io.err(`custodian: match code ${created.matchCode}: the approver must type this number\n`);
        if (opts.wait === false) io.err(`custodian: to wait for the decision later: custodian request --wait ${created.id}\n`);
        await settle(client, { id: created.id, status: 'pending', expiresAt: created.expiresAt, decidedAt: null }, opts.wait !== false, opts.json);
      } catch (error) {
        if (!gatewayFailure(error)) throw error;
      } finally {
        client.close();
      }
    });

  program
    .command('redeem')
    .description('redeem a restore token once (the key comes from CUSTODIAN_API_KEY)')
    .argument('[token]', 'only for a script with no terminal and no stdin (see below)')
    .requiredOption('--requester <principal>', 'the principal the token was issued to')
    .addHelpText('after', SECRET_HELP)
    .action(async (arg: string | undefined, opts: { requester: string }) => {
      const key = apiKey();
      if (!key) return;
      // Issue 9: the token from the terminal or stdin, not argv, where other users can read it.
      const token = await readSecret(io, { arg, name: 'token', prompt: 'Restore token: ' });
      const client = new GatewayClient(loadConfig().gateway.port, key);
      try {
        io.out(`${JSON.stringify(await client.post('/v1/restore-tokens/redeem', { token, requester: opts.requester }))}\n`);
        setExit(EXIT.ok);
      } catch (error) {
        if (!gatewayFailure(error)) throw error;
      } finally {
        client.close();
      }
    });

  const integrations = program.command('integrations').description('API keys of the backup tools that use the gateway');
  integrations
    .command('add')
    .description('create an integration and print its key, once')
    .argument('<name>')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (name: string, opts: { json?: boolean }) => {
      const parsed = integrationNameSchema.safeParse(name);
      if (!parsed.success) {
        io.err(`custodian: ${message('ERR-VALIDATION', { field: 'name' })}\n`);
        setExit(EXIT.usage);
        return;
      }
      const created = await withCustodian(loadConfig(), (c) => c.integrations.add(parsed.data, shellActor()));
      if (opts.json) io.out(`${JSON.stringify({ id: created.id, name: created.name, key: created.key })}\n`);
      else {
        io.err(`custodian: integration ${created.name} (${created.id}) created; its key is shown once, below\n`);
        io.out(`${created.key}\n`);
      }
    });
  integrations
    .command('list')
    .description('list integrations (never their keys)')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const list = await withCustodian(loadConfig(), (c) => c.integrations.list());
      if (opts.json) io.out(`${JSON.stringify({ integrations: list })}\n`);
      else {
        for (const i of list) {
          const state = i.revokedAt ? `revoked ${i.revokedAt}` : i.mutedUntil && Date.parse(i.mutedUntil) > Date.now() ? `muted until ${i.mutedUntil}` : 'active';
          io.out(`${i.id}  ${i.name.padEnd(24)} ${state}\n`);
        }
      }
    });
  integrations
    .command('revoke')
    .description('revoke an integration; its key stops working at once')
    .argument('<id>')
    .action(async (id: string) => {
      const revoked = await withCustodian(loadConfig(), (c) => c.integrations.revoke(id, shellActor()));
      io.out(`revoked ${revoked.id} (${revoked.name})\n`);
    });
  integrations
    .command('unmute')
    .description('let a reported (muted) integration send requests again before its mute runs out')
    .argument('<id>')
    .action(async (id: string) => {
      const { integration: i, unmuted } = await withCustodian(loadConfig(), (c) => c.integrations.unmute(id, shellActor()));
      io.out(unmuted ? `unmuted ${i.id} (${i.name})\n` : `${i.id} (${i.name}) was not muted; nothing changed\n`);
    });

  program
    .command('deny')
    .description('deny a pending restore request; --report also flags and mutes its integration')
    .argument('<id>')
    .option('--report', 'suspected MFA fatigue or fraud: deny every pending request of the integration and mute it')
    .action(async (id: string, opts: { report?: boolean }) => {
      const decided = await withCustodian(loadConfig(), (c) =>
        opts.report ? c.requests.report(id, shellActor()) : c.requests.deny(id, shellActor()),
      );
      io.out(`${decided.id} ${decided.status}${decided.reported ? ' (reported)' : ''}\n`);
    });

  program
    .command('serve')
    .description('run the services and the gateway with no window')
    .action(async () => {
      const config = loadConfig();
      const custodian = await openCustodian(config);
      try {
        await custodian.start();
        const { state, port } = custodian.gateway.status;
        if (state === 'elsewhere') {
          // Proven, not guessed (issue 9): it answered a challenge under this database's secret.
          io.err(`custodian: another Custodian process already serves the gateway on 127.0.0.1:${port} for this data directory; nothing to do\n`);
          setExit(EXIT.ok);
          return;
        }
        if (state !== 'listening') {
          const { heldBy } = await import('./doctor');
          io.err(`custodian: ${message('ERR-PORT-IN-USE', { port })} ${heldBy(custodian.gateway.status.holder)}\n`);
          setExit(EXIT.failure);
          return;
        }
        io.err(`custodian: serving the gateway on 127.0.0.1:${port}; Ctrl+C stops\n`);
        await ctx.stopSignal();
      } finally {
        await custodian.dispose();
      }
    });
}
