import { PassThrough } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../src-main/cli/cli-support';
import { Interrupted, readHidden, type SecretInput } from '../../src-main/cli/secret-input';

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

/** A stand-in terminal: a stream with the raw-mode switch a TTY has, recording what it was set to. */
function standInTerminal() {
  const stream = new PassThrough() as PassThrough & { isRaw: boolean; setRawMode: (raw: boolean) => unknown; modes: boolean[] };
  stream.isRaw = false;
  stream.modes = [];
  stream.setRawMode = (raw: boolean) => {
    stream.isRaw = raw;
    stream.modes.push(raw);
    return stream;
  };
  let written = '';
  const output = { write: (s: string) => ((written += s), true) };
  return { stream, output, written: () => written, terminal: stream as unknown as ReadStream };
}

describe('a hidden read that can be withdrawn (issue 12: a backup code while a push waits)', () => {
  it('withdrawn, it rejects with the reason, drops what was typed and leaves the terminal as it was', async () => {
    const tty = standInTerminal();
    const stop = new AbortController();
    const read = readHidden(tty.terminal, 'Backup code: ', stop.signal, tty.output);
    tty.stream.write('ABCD');
    await new Promise((resolve) => setImmediate(resolve));
    expect(tty.stream.isRaw).toBe(true);
    const reason = new Error('the push was answered');
    stop.abort(reason);
    await expect(read).rejects.toBe(reason);
    expect(tty.stream.modes).toEqual([true, false]);
    expect(tty.stream.isPaused()).toBe(true);
    expect(tty.stream.listenerCount('data')).toBe(0);
    expect(tty.written()).toBe('Backup code: \n');
    // The next question reads only what is typed after it.
    const next = readHidden(tty.terminal, 'Code: ', undefined, tty.output);
    tty.stream.write('123456\r');
    await expect(next).resolves.toBe('123456');
    expect(tty.stream.modes).toEqual([true, false, true, false]);
  });

  it('withdrawn before it is asked, it never touches the terminal', async () => {
    const tty = standInTerminal();
    const stop = new AbortController();
    stop.abort(new Error('already answered'));
    await expect(readHidden(tty.terminal, 'Backup code: ', stop.signal, tty.output)).rejects.toThrow('already answered');
    expect(tty.stream.modes).toEqual([]);
    expect(tty.written()).toBe('');
  });

  it('Ctrl+C is Interrupted, with the terminal restored', async () => {
    const tty = standInTerminal();
    const read = readHidden(tty.terminal, 'Code: ', new AbortController().signal, tty.output);
    tty.stream.write('12\u0003');
    await expect(read).rejects.toBeInstanceOf(Interrupted);
    expect(tty.stream.modes).toEqual([true, false]);
  });
});
