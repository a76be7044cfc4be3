import type { z } from 'zod';
import { AppError, type ErrorCode, type ErrorDetails } from '../../src-shared/errors';
import { translator, errorMessage } from '../../src-shared/i18n';
import { openCustodian, type Custodian } from '../composition';
import type { Config } from '../config';

export { EXIT } from './exit-codes';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal (the enrollment QR is drawn only there). */
  isTty?: boolean;
}

const t = translator('en');
export const message = (code: ErrorCode, details?: ErrorDetails): string => errorMessage(t, code, details);

export function withCustodian<T>(config: Config, fn: (custodian: Custodian) => Promise<T> | T): Promise<T> {
  const custodian = openCustodian({ config });
  return Promise.resolve()
    .then(() => fn(custodian))
    .finally(() => custodian.dispose());
}

/** The same zod schemas as IPC and HTTP: a bad argument is ERR-VALIDATION naming the option. */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('ERR-VALIDATION', { field: name });
  return parsed.data;
}
