import { describe, expect, it } from 'vitest';
import { readSecret } from '../../src-main/cli/cli-support';
import type { SecretInput } from '../../src-main/cli/secret-input';

/** A terminal or a pipe, as the CLI would find it, that records how it was asked. */
function input(kind: 'terminal' | 'pipe' | 'none'): SecretInput & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    interactive: kind === 'terminal',
    attended: kind === 'terminal',
    readHidden: (prompt) => {
      asked.push(`hidden:${prompt}`);
      return Promise.resolve('typed');
    },
    readLine: () => {
      asked.push('line');
      return Promise.resolve('piped');
    },
  };
}

describe('reading a code or a token (issue 9, item 6)', () => {
  it('asks a terminal without echo, and reads a line from a pipe', async () => {
    const terminal = input('terminal');
    const errors: string[] = [];
    expect(await readSecret({ err: (t) => errors.push(t), secrets: terminal }, { arg: undefined, name: 'code', prompt: 'Code: ' })).toBe('typed');
    expect(terminal.asked).toEqual(['hidden:Code: ']);
    const pipe = input('pipe');
    expect(await readSecret({ err: (t) => errors.push(t), secrets: pipe }, { arg: undefined, name: 'code', prompt: 'Code: ' })).toBe('piped');
    expect(pipe.asked).toEqual(['line']);
    expect(errors).toEqual([]);
  });

  it('takes an argument, warning only where a person is at a terminal', async () => {
    const errors: string[] = [];
    expect(await readSecret({ err: (t) => errors.push(t), secrets: input('none') }, { arg: '123456', name: 'code', prompt: 'Code: ' })).toBe('123456');
    expect(errors).toEqual([]);
    const terminal = input('terminal');
    expect(await readSecret({ err: (t) => errors.push(t), secrets: terminal }, { arg: 'tok', name: 'token', prompt: 'Token: ' })).toBe('tok');
    expect(terminal.asked).toEqual([]);
    expect(errors).toEqual(['custodian: warning: a token on the command line can be read by other users (ps, /proc); leave it out to be asked for it\n']);
  });
});
