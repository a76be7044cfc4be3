import { Option, type Command } from 'commander';
import { assertNever } from '../../src-shared/assert-never';
import { TOKEN_TTL_PURPOSE, tokenTtlSecondsSchema, type TokenTtlSetting } from '../../src-shared/domain/settings';
import { loadConfig } from '../config';
import type { SettingsContext } from '../services/settings/settings.service';
import { runChain } from './chain.commands';
import { EXIT, SECRET_HELP, parseArg, shellActor, withCustodian, type Io } from './cli-support';

function describe(ttl: TokenTtlSetting): string {
  const where = (() => {
    switch (ttl.source) {
      case 'environment':
        return `set by ${ttl.variable ?? 'the environment'}; change it there`;
      case 'stored':
        return 'stored for this data directory';
      case 'default':
        return 'the default';
      default:
        return assertNever(ttl.source);
    }
  })();
  return `restore tokens issued from now on work for ${ttl.seconds} s (${where})`;
}

const shell = (): SettingsContext => ({ actor: shellActor(), source: 'cli' });

/**
 * `custodian settings token-ttl [SECONDS]` (issue 11): the terminal twin of the Settings screen's
 * "Restore tokens" card, on the same service and database as every other process. Without an
 * argument it prints the TTL in force and where it comes from. A longer TTL runs the critical
 * chain in the terminal first (each step's code from the terminal or stdin, never the arguments);
 * its grant pays for the change. A shorter one is saved at once.
 */
export function registerSettingsCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const settings = program.command('settings').description('settings shared by every Custodian process on this data directory');
  settings
    .command('token-ttl')
    .description('print the restore token TTL in seconds, or set it for tokens issued from now on (30 to 86400); a longer one runs the step-up chain at the critical policy first')
    .argument('[seconds]', 'the new TTL in seconds')
    .addOption(new Option('--json', 'print one JSON object: {"seconds","source","variable"}'))
    .addHelpText('after', SECRET_HELP)
    .action(async (raw: string | undefined, opts: { json?: boolean }) => {
      // Whole seconds only: "90s" or "1e3" are usage errors, not numbers to guess at.
      const seconds = raw === undefined ? undefined : parseArg(tokenTtlSecondsSchema, /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN, 'seconds');
      const say = (ttl: TokenTtlSetting, note = ''): void => {
        io.out(opts.json ? `${JSON.stringify(ttl)}\n` : `${describe(ttl)}${note}\n`);
      };
      const code = await withCustodian(loadConfig(), async (c) => {
        const current = c.settings.tokenTtl();
        if (seconds === undefined) {
          say(current);
          return EXIT.ok;
        }
        // Pinned, shorter or the same: the service answers at once (a refusal, or the change).
        // Longer: the chain first, on stderr with --json so stdout holds the one JSON object.
        // Another process may change it meanwhile; the service judges again in its transaction.
        if (current.source !== 'environment' && seconds > current.seconds) {
          io.err('a longer token TTL takes a step-up chain at the critical policy\n');
          const chain = await runChain(c, io, TOKEN_TTL_PURPOSE, 'critical', opts.json ? io.err : io.out);
          if (chain !== EXIT.ok) return chain;
        }
        const after = c.settings.setTokenTtl(seconds, shell()).tokenTtl;
        say(after, after.seconds === current.seconds ? '; it already was, nothing changed' : '');
        return EXIT.ok;
      });
      setExit(code);
    });
}
