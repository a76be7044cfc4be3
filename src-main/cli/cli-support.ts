import { userInfo } from 'node:os';
import type { z } from 'zod';
import { AppError, type ErrorCode, type ErrorDetails } from '../../src-shared/errors';
import { translator, errorMessage } from '../../src-shared/i18n';
import type { Custodian } from '../composition';
import type { Config } from '../config';
import { processSecretInput, type SecretInput } from './secret-input';

export { EXIT } from './exit-codes';
export { Interrupted } from './secret-input';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal (the enrollment QR is drawn only there). */
  isTty?: boolean;
  /** Where codes and tokens are read from; the process's terminal or stdin when absent. */
  secrets?: SecretInput;
}

/** For every command that takes a code or a token: where it comes from, and why not argv. */
export const SECRET_HELP = `
Codes and tokens are read from the terminal, without echo, or from stdin when stdin is not a
terminal, as a script passes them:  printf '%s\\n' "$CODE" | custodian ...
Give one as an argument only in a script that has neither: any user on this machine can read a
process's arguments (ps, /proc). With a terminal attached, an argument is taken with a warning.`;

/**
 * A code or a token for a command (issue 9, item 6): asked for on the terminal with echo off, or
 * read as one line from stdin when stdin is not a terminal. An argument (`arg`) is the last
 * resort of a script with neither; a person at a terminal who gives one is warned, since it is
 * already in the process list by then.
 */
export async function readSecret(
  io: { err: (text: string) => void; secrets?: SecretInput | undefined },
  what: { arg: string | undefined; name: string; prompt: string },
): Promise<string> {
  const input = io.secrets ?? processSecretInput();
  if (what.arg !== undefined) {
    if (input.attended) {
      io.err(`custodian: warning: a ${what.name} on the command line can be read by other users (ps, /proc); leave it out to be asked for it\n`);
    }
    return what.arg;
  }
  return input.interactive ? input.readHidden(what.prompt) : input.readLine();
}

/** Who acts from a shell: the OS account, so the audit log names a person, not "cli". */
export function shellActor(): string {
  return `cli:${userInfo().username}`;
}

const t = translator('en');
export const message = (code: ErrorCode, details?: ErrorDetails): string => errorMessage(t, code, details);

export async function withCustodian<T>(config: Config, fn: (custodian: Custodian) => Promise<T> | T): Promise<T> {
  // The services (SQLite, the keychain, fastify, otplib...) load when a command opens them, not
  // at start-up (issue 13: `custodian --help` should not pay for them).
  const { openCustodian } = await import('../composition');
  const custodian = openCustodian({ config });
  // The state seals' key (issue 13) before any command reads or writes sealed rows. A command
  // that needs none still runs without it: its sealed writes, if any, fail closed.
  // Then whether the keychain takes the audit anchor (issue 13): a command run while it is gone
  // has its audited change refused (ERR-KEYCHAIN-UNAVAILABLE) rather than committed unanchored.
  return custodian.integrity
    .ready()
    .catch(() => undefined)
    .then(() => custodian.audit.ready())
    .then(() => fn(custodian))
    .finally(() => custodian.dispose());
}

/** The same zod schemas as IPC and HTTP: a bad argument is ERR-VALIDATION naming the option. */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('ERR-VALIDATION', { field: name });
  return parsed.data;
}
