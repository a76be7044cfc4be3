import { userInfo } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { isAppError } from '../../src-shared/errors';
import { loadConfig } from '../config';
import { APP_VERSION } from '../version';
import { EXIT, Interrupted, message, withCustodian, type Io } from './cli-support';
import { describeVerification } from './audit-verdict';
import { runDoctor } from './doctor';
import { addGatewayCommands } from './gateway-commands';
import { registerMfaCommands } from './mfa.commands';
import { registerApproveCommand } from './approve.commands';
import { registerIncidentCommands } from './incident.commands';
import { registerRequestsCommands } from './requests.commands';
import { registerSettingsCommands } from './settings.commands';

export { EXIT };

/** Resolves when the process is asked to stop: what `serve` waits for. */
function processStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/**
 * The whole command line, on `io`. `stopSignal` is what `serve` waits for; an in-process caller
 * (the fuzz tests of issue 13) brings its own instead of the process's signals.
 */
export function buildProgram(io: Io, setExit: (code: number) => void, stopSignal: () => Promise<void> = processStopSignal): Command {
  const program = new Command('custodian')
    .description('MFA verifier and restore approval desk')
    .version(APP_VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  program
    .command('doctor')
    .description('check the keychain, the database and the gateway port')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const checks = await withCustodian(config, (c) => runDoctor(c, message));
      if (opts.json) io.out(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks })}\n`);
      else for (const c of checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'}  ${c.name.padEnd(13)} ${c.detail}\n`);
      setExit(checks.every((c) => c.ok) ? EXIT.ok : EXIT.failure);
    });

  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('walk the hash chain; exit 0 when intact, 1 with the first bad row')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const verdict = await withCustodian(loadConfig(), (c) => c.audit.verify());
      // Fail closed: exit 0 only when the anchor vouches for the whole log (or the log is empty).
      if (opts.json) io.out(`${JSON.stringify(verdict)}\n`);
      else io.out(`${describeVerification(verdict)}\n`);
      setExit(verdict.ok ? EXIT.ok : EXIT.failure);
    });
  audit
    .command('reanchor')
    .description('anchor the current head in the keychain when the anchor is missing, garbled, lags or no longer matches (recorded in the log)')
    .action(async () => {
      const result = await withCustodian(loadConfig(), (c) => c.audit.reanchor(`cli:${userInfo().username}`));
      if (result.changed) {
        io.out(`re-anchored (the keychain held: ${result.previous}); ${describeVerification(result.verification)}\n`);
      } else {
        io.out(`nothing re-anchored; ${describeVerification(result.verification)}\n`);
      }
      setExit(result.verification.ok ? EXIT.ok : EXIT.failure);
    });
  audit
    .command('head')
    .description('print the latest row id and hash, to anchor off this machine')
    .action(async () => {
      const head = await withCustodian(loadConfig(), (c) => c.audit.head());
      io.out(head ? `${head.id} ${head.hash}\n` : '0 (empty)\n');
    });
  audit
    .command('export')
    .description('print every row as JSON lines')
    .action(async () => {
      await withCustodian(loadConfig(), (c) => {
        for (const row of c.audit.export()) io.out(`${JSON.stringify(row)}\n`);
      });
    });
  registerMfaCommands(program, io, setExit);
  registerApproveCommand(program, io, setExit);
  registerIncidentCommands(program, io, setExit);
  registerRequestsCommands(program, io, setExit);
  registerSettingsCommands(program, io, setExit);

  // Issue #5: request, redeem, integrations, deny, serve.
  addGatewayCommands(program, {
    io,
    setExit,
    message,
    stopSignal,
  });
  return program;
}

export async function runCli(argv: readonly string[], io: Io, stopSignal?: () => Promise<void>): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    stopSignal,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // Ctrl+C at a code prompt (the terminal was in raw mode, so no SIGINT came): 128 + SIGINT.
    if (error instanceof Interrupted) return 130;
    io.err(`custodian: ${isAppError(error) ? message(error.code, error.details) : message('ERR-INTERNAL')}\n`);
    return isAppError(error) && error.code === 'ERR-VALIDATION' ? EXIT.usage : EXIT.failure;
  }
}

/** The `custodian` bin's entry. */
export function main(): void {
  void runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTty: process.stdout.isTTY === true,
  }).then((code) => {
    process.exitCode = code;
    // The command is done. A script may still hold our stdin open after the last line it gave
    // (a chain reads one code per line): a paused pipe would keep the process alive until the
    // script closes it. A command still serving (`serve`) keeps its own handles.
    (process.stdin as { unref?: () => void }).unref?.();
  });
}
