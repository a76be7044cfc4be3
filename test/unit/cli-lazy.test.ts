import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_GROUPS, commandOf } from '../../src-main/cli/main';

const io = { out: () => undefined, err: () => undefined };
const noExit = (): void => undefined;
const names = (program: Command): string[] => program.commands.map((c) => c.name());

// Issue 13, item 8: the CLI loads only the module of the command it runs and lists the others
// from COMMAND_GROUPS; these keep that list true to what the modules register.
describe('the CLI’s lazily loaded commands', () => {
  it('lists every command in --help exactly as the fully loaded program does', async () => {
    const lazy = await buildProgram(io, noExit, undefined);
    const full = await buildProgram(io, noExit, 'all');
    expect(names(lazy)).toEqual(names(full));
    expect(lazy.helpInformation()).toBe(full.helpInformation());
    expect(lazy.helpInformation()).toContain('request [options]');
  });

  it.each(COMMAND_GROUPS.map((group) => [group.commands.map((c) => c.name).join(', '), group] as const))(
    'registers, for %s, exactly the commands its group lists',
    async (_names, group) => {
      const program = await buildProgram(io, noExit, group.commands[0]?.name);
      const full = await buildProgram(io, noExit, 'all');
      for (const listed of group.commands) {
        const loaded = program.commands.find((c) => c.name() === listed.name);
        // The loaded command has its real options and subcommands, not the stand-in's none.
        expect(loaded?.helpInformation()).toBe(full.commands.find((c) => c.name() === listed.name)?.helpInformation());
        expect(loaded?.description()).toBe(listed.description);
      }
    },
  );

  it('picks the command to load from the first word that is not an option, and from help <command>', () => {
    expect(commandOf(['request', '--no-wait', '--backup', 'x'])).toBe('request');
    expect(commandOf(['--json', 'audit', 'verify'])).toBe('audit');
    expect(commandOf(['help', 'factors'])).toBe('factors');
    expect(commandOf(['--help'])).toBeUndefined();
    expect(commandOf([])).toBeUndefined();
  });
});
