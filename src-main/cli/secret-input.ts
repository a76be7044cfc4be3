import type { ReadStream } from 'node:tty';

/**
 * Where the CLI reads a code or a token from (issue 9, item 6): never the command line where a
 * terminal exists, because any local user can read a process's arguments (`ps`, /proc/PID/cmdline).
 */
export interface SecretInput {
  /** stdin is a terminal: ask there, without echo. */
  readonly interactive: boolean;
  /** A person is at a terminal (stdin or stderr is one): an argument deserves a warning. */
  readonly attended: boolean;
  /**
   * Prompts on stderr and reads one line from the terminal with echo off. `signal` withdraws the
   * question (a push answered in the window while a backup code could be typed, issue 12): the
   * read rejects with the signal's reason and the terminal is as it was before.
   */
  readHidden(prompt: string, signal?: AbortSignal): Promise<string>;
  /** Reads one line from stdin (a pipe or a file), as a script passes it. */
  readLine(): Promise<string>;
}

/** Ctrl+C at the prompt: the command stops, as it would outside raw mode. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** A code or a token is short; more than this on one line is not one. */
const MAX_LINE = 4096;

export function processSecretInput(): SecretInput {
  const stdin = process.stdin;
  return {
    interactive: stdin.isTTY === true,
    attended: stdin.isTTY === true || process.stderr.isTTY === true,
    readHidden: (prompt, signal) => readHidden(stdin as ReadStream, prompt, signal),
    readLine: () => readLine(stdin),
  };
}

/** Exported for the tests, which give it a stand-in terminal and output. */
export function readHidden(input: ReadStream, prompt: string, signal?: AbortSignal, output: Pick<NodeJS.WriteStream, 'write'> = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    // Withdrawn before it was asked: the terminal is never touched.
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let value = '';
    const wasRaw = input.isRaw;
    const finish = (error: unknown): void => {
      signal?.removeEventListener('abort', onAbort);
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      // The Enter the approver typed was not echoed either (and a withdrawn prompt's line ends too).
      output.write('\n');
      if (error !== null) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(null);
        if (ch === '\u0003') return finish(new Interrupted());
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        // Other control characters (arrows arrive as ESC sequences) are not part of a code.
        else if (ch >= ' ' && value.length < MAX_LINE) value += ch;
      }
    };
    // What was typed so far is dropped with the question: it was for a step already decided.
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));
    // Raw mode turns the terminal's echo off: nothing typed is shown or left in the scrollback.
    // It is on before the prompt appears, so a code pasted the instant the prompt shows is not
    // echoed either.
    input.setRawMode(true);
    output.write(prompt);
    input.setEncoding('utf8');
    input.on('data', onData);
    signal?.addEventListener('abort', onAbort, { once: true });
    input.resume();
  });
}

function readLine(input: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    // Read to the end already (a script's input ran out): no 'end' comes again, the line is empty.
    if (input.readableEnded) {
      resolve('');
      return;
    }
    let data = '';
    const finish = (line: string, error?: Error, rest = ''): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
      // What followed the line is the next read's (a chain asks for one code per line, issue 10).
      if (rest !== '') input.unshift(rest, 'utf8');
      if (error) reject(error);
      else resolve(line.replace(/\r$/, ''));
    };
    const onData = (chunk: string): void => {
      data += chunk;
      const newline = data.indexOf('\n');
      if (newline >= 0) finish(data.slice(0, newline), undefined, data.slice(newline + 1));
      else if (data.length > MAX_LINE) finish(data.slice(0, MAX_LINE));
    };
    const onEnd = (): void => finish(data);
    const onError = (error: Error): void => finish('', error);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}
