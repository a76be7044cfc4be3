import { Option, type Command } from 'commander';
import { INCIDENT_LEAVE_PURPOSE, type IncidentChange, type IncidentState } from '../../src-shared/domain/incident';
import { loadConfig } from '../config';
import type { IncidentContext } from '../services/incident/incident.service';
import { runChain } from './chain.commands';
import { EXIT, SECRET_HELP, shellActor, withCustodian, type Io } from './cli-support';

function describe(state: IncidentState): string {
  if (!state.on) return 'incident mode is off';
  return `incident mode is on${state.changedAt ? ` since ${state.changedAt}` : ''}${state.changedBy ? ` (turned on by ${state.changedBy})` : ''}: restores at high sensitivity and above are denied`;
}

function outcome(change: IncidentChange, json: boolean | undefined): string {
  if (json) return `${JSON.stringify(change)}\n`;
  return change.changed ? `${describe(change.state)}\n` : `${describe(change.state)}; it already was, nothing changed\n`;
}

const shell = (): IncidentContext => ({ actor: shellActor(), source: 'cli' });

/**
 * `custodian incident on|off|status` (issue 11): the terminal twin of the switch on the Approvals
 * screen, on the same service and the same database as every other process. `off` runs the
 * critical chain in the terminal first, each step's code read from the terminal or stdin as
 * `custodian verify` reads it, never from the arguments; its grant then pays for the change.
 */
export function registerIncidentCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const incident = program.command('incident').description('incident mode: while on, restores at high sensitivity and above are denied');
  incident
    .command('status')
    .description('say whether incident mode is on')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const state = await withCustodian(loadConfig(), (c) => c.incident.state());
      io.out(opts.json ? `${JSON.stringify(state)}\n` : `${describe(state)}\n`);
      setExit(EXIT.ok);
    });
  incident
    .command('on')
    .description('turn incident mode on, at once')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const change = await withCustodian(loadConfig(), (c) => c.incident.turnOn(shell()));
      io.out(outcome(change, opts.json));
      setExit(EXIT.ok);
    });
  incident
    .command('off')
    .description('turn incident mode off: runs the step-up chain at the critical policy first, one code per step')
    .addOption(new Option('--json', 'print one JSON object'))
    .addHelpText('after', SECRET_HELP)
    .action(async (opts: { json?: boolean }) => {
      const code = await withCustodian(loadConfig(), async (c) => {
        // Already off: no chain is asked for, nothing changes.
        if (!c.incident.isOn()) {
          io.out(outcome({ changed: false, state: c.incident.state() }, opts.json));
          return EXIT.ok;
        }
        // With --json, stdout holds the one JSON object: the chain's lines go to stderr.
        const chain = await runChain(c, io, INCIDENT_LEAVE_PURPOSE, 'critical', opts.json ? io.err : io.out);
        if (chain !== EXIT.ok) return chain;
        io.out(outcome(c.incident.turnOff(shell()), opts.json));
        return EXIT.ok;
      });
      setExit(code);
    });
}
