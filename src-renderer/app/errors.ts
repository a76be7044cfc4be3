import type { TFunction } from 'i18next';
import { isErrorCode } from '../../src-shared/errors';
import { errorMessage } from '../../src-shared/i18n';
import { isCustodianError, type CustodianError } from '../../src-shared/ipc/api';

const INTERNAL: CustodianError = { code: 'ERR-INTERNAL', message: '' };

/**
 * Narrows whatever a `window.custodian` call rejected with. Anything that is not the contract's
 * payload is reported as ERR-INTERNAL, because an unexpected value may carry detail the user
 * must not see.
 */
export function toCustodianError(value: unknown): CustodianError {
  return isCustodianError(value) && isErrorCode(value.code) ? value : INTERNAL;
}

/**
 * Translates by code rather than showing `message`, which main formatted in the language that was
 * current when it failed; the window may have switched since.
 */
export function errorText(t: TFunction, error: CustodianError): string {
  return errorMessage(t, error.code, error.details);
}

export { assertNever } from '../../src-shared/assert-never';
