import { Command, CommanderError, Help } from 'commander';
import { APP_VERSION } from '../version';
import type { Io } from './cli-support';
import { EXIT } from './exit-codes';
import { Interrupted } from './secret-input';

export { EXIT };

type SetExit = (code: number) => void;
/** What `serve` waits for: the process's SIGINT or SIGTERM, or an in-process caller's own (the fuzz tests of issue 13). */
type StopSignal = () => Promise<void>;
type Register = (program: Command, io: Io, setExit: SetExit, stopSignal: StopSignal) => void;

/** Resolves when the process is asked to stop. */
function processStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** A top-level command as the program's `--help` lists it, before its module is loaded. */
interface Listed {
  name: string;
  /** What `--help` prints before the description: the name, `[options]`, the arguments. */
  term: string;
  description: string;
}

/**
 * Every top-level command, in the order `--help` lists them, and the module that registers it.
 * Issue 13, item 8: loading every module for every command made `custodian --help` take 0.45 s
 * against 0.13 s for bare Node, so only the module of the command being run is loaded (each is a
 * chunk of its own in the build); the others are listed from here. test/unit/cli-lazy.test.ts
 * checks this list against what the modules register.
 */
export const COMMAND_GROUPS: readonly { load: () => Promise<Register>; commands: readonly Listed[] }[] = [
  {
    load: async () => (await import('./audit.commands')).registerAuditCommands,
    commands: [
      { name: 'doctor', term: 'doctor [options]', description: 'check the keychain, the database and the gateway port' },
      { name: 'integrity', term: 'integrity', description: 'the sealed security state' },
      { name: 'audit', term: 'audit', description: 'the tamper-evident audit log' },
    ],
  },
  {
    load: async () => (await import('./mfa.commands')).registerMfaCommands,
    commands: [
      { name: 'profile', term: 'profile', description: "the approver's profile" },
      { name: 'factors', term: 'factors', description: 'TOTP, SMS and push factors' },
      { name: 'backup-codes', term: 'backup-codes', description: 'backup codes' },
      {
        name: 'verify',
        term: 'verify [options] [code]',
        description: 'check a code (TOTP or backup); with --sensitivity, run a factor chain at that policy; exit 0 when valid',
      },
    ],
  },
  {
    load: async () => (await import('./approve.commands')).registerApproveCommand,
    commands: [
      {
        name: 'approve',
        term: 'approve <id>',
        description: 'approve a pending restore request: the step-up chain and the match code, asked for on the terminal',
      },
    ],
  },
  {
    load: async () => (await import('./incident.commands')).registerIncidentCommands,
    commands: [{ name: 'incident', term: 'incident', description: 'incident mode: while on, restores at high sensitivity and above are denied' }],
  },
  {
    load: async () => (await import('./requests.commands')).registerRequestsCommands,
    commands: [{ name: 'requests', term: 'requests', description: 'restore requests: list them, show one' }],
  },
  {
    load: async () => (await import('./settings.commands')).registerSettingsCommands,
    commands: [{ name: 'settings', term: 'settings', description: 'settings shared by every Custodian process on this data directory' }],
  },
  {
    // Issue #5: request, redeem, integrations, deny, serve.
    load: async () => {
      const [{ addGatewayCommands }, { message }] = await Promise.all([import('./gateway-commands'), import('./cli-support')]);
      return (program, io, setExit, stopSignal) => addGatewayCommands(program, { io, setExit, message, stopSignal });
    },
    commands: [
      { name: 'request', term: 'request [options]', description: 'ask the approver for a restore; prints the match code on stderr and the token on stdout' },
      { name: 'redeem', term: 'redeem [options] [token]', description: 'redeem a restore token once (the key comes from CUSTODIAN_API_KEY)' },
      { name: 'integrations', term: 'integrations', description: 'API keys of the backup tools that use the gateway' },
      { name: 'deny', term: 'deny [options] <id>', description: 'deny a pending restore request; --report also flags and mutes its integration' },
      { name: 'serve', term: 'serve', description: 'run the services and the gateway with no window' },
    ],
  },
];

/** The top-level command `argv` runs (or asks help for): its first word that is not an option. */
export function commandOf(argv: readonly string[]): string | undefined {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The program, with the commands of `load` registered in full ('all', or the groups holding the
 * named command) and every other command listed only, for `--help` and for commander's
 * "did you mean".
 */
export async function buildProgram(io: Io, setExit: SetExit, load: 'all' | string | undefined, stopSignal: StopSignal = processStopSignal): Promise<Command> {
  const terms = new Map<Command, string>();
  const program = new Command('custodian')
    .description('MFA verifier and restore approval desk')
    .version(APP_VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? new Help().subcommandTerm(cmd) })
    .exitOverride()
    .showHelpAfterError();
  for (const group of COMMAND_GROUPS) {
    if (load === 'all' || group.commands.some((c) => c.name === load)) {
      (await group.load())(program, io, setExit, stopSignal);
      continue;
    }
    for (const listed of group.commands) {
      const stub = program
        .command(listed.name)
        .description(listed.description)
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(() => {
          // commandOf loads the module of any command that can run; reaching here is a bug.
          throw new Error(`command ${listed.name} was not loaded`);
        });
      terms.set(stub, listed.term);
    }
  }
  return program;
}

export async function runCli(argv: readonly string[], io: Io, stopSignal?: StopSignal): Promise<number> {
  let exitCode: number = EXIT.ok;
  try {
    const program = await buildProgram(
      io,
      (code) => {
        exitCode = code;
      },
      commandOf(argv),
      stopSignal,
    );
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // Ctrl+C at a code prompt (the terminal was in raw mode, so no SIGINT came): 128 + SIGINT.
    if (error instanceof Interrupted) return 130;
    const [{ isAppError }, { message }] = await Promise.all([import('../../src-shared/errors'), import('./cli-support')]);
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
