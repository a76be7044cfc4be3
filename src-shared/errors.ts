/**
 * The error contract (DESIGN.md "Error contract"): every failure that crosses IPC or HTTP is one
 * of these codes. The table is the single source for the HTTP status and the catalog key; the
 * README's table and the i18n completeness test are both derived from it.
 */
export const ERRORS = {
  'ERR-VALIDATION': { status: 400 },
  'ERR-CONFIG-INVALID': { status: 500 },
  // Issue 11: a run-time setting the environment pins; the deployment decides, not the screen.
  'ERR-SETTING-PINNED': { status: 409 },
  'ERR-MFA-REQUIRED': { status: 401 },
  'ERR-MFA-INVALID': { status: 401 },
  // RFC 6238 §5.2: a replayed code is refused, but the message must not tell an attacker why.
  'ERR-MFA-REPLAYED': { status: 401 },
  'ERR-MFA-EXPIRED': { status: 401 },
  'ERR-MFA-CHAIN-BREACHED': { status: 403 },
  'ERR-MFA-RATE-LIMITED': { status: 429 },
  'ERR-MFA-POLICY-UNSATISFIABLE': { status: 409 },
  // Issue 12: `MFA_METHODS` leaves this factor method out; nothing of that type is enrolled or checked.
  'ERR-MFA-METHOD-DISABLED': { status: 403 },
  // Issue 12: a push step not answered yet (nothing is counted), and one the approver denied.
  'ERR-MFA-PUSH-PENDING': { status: 409 },
  'ERR-MFA-PUSH-DENIED': { status: 403 },
  // The lock screen takes a code, which a push cannot give: a push factor is never the only kind left.
  'ERR-MFA-CODE-FACTOR-REQUIRED': { status: 409 },
  'ERR-MFA-ALREADY-ENABLED': { status: 409 },
  'ERR-MFA-NOT-ENABLED': { status: 409 },
  'ERR-MFA-ADMIN-REQUIRED': { status: 403 },
  // Issue 9: a factor enrolled with a backup code cannot manage others until its delay has passed.
  'ERR-MFA-RECOVERY-PENDING': { status: 403 },
  'ERR-MFA-SECRET-ALREADY-SHOWN': { status: 409 },
  'ERR-MFA-FACTOR-ALREADY-ACTIVE': { status: 409 },
  // Issue 13: an active factor whose secret the keychain no longer holds (doctor names it).
  'ERR-MFA-SECRET-MISSING': { status: 503 },
  'ERR-PROFILE-REQUIRED': { status: 409 },
  'ERR-PROFILE-EXISTS': { status: 409 },
  'ERR-LOCKED': { status: 423 },
  'ERR-RESTORE-POLICY-DENIED': { status: 403 },
  'ERR-RESTORE-EXPIRED': { status: 410 },
  'ERR-RESTORE-ALREADY-DECIDED': { status: 409 },
  // Issue 9: the same Idempotency-Key sent again with a different request.
  'ERR-IDEMPOTENCY-CONFLICT': { status: 409 },
  'ERR-RESTORE-SELF-APPROVAL': { status: 403 },
  'ERR-RESTORE-INCIDENT-MODE': { status: 403 },
  'ERR-RESTORE-MATCH-MISMATCH': { status: 403 },
  'ERR-RESTORE-TOKEN-EXPIRED': { status: 410 },
  'ERR-RESTORE-TOKEN-INVALID': { status: 403 },
  'ERR-INTEGRATION-EXISTS': { status: 409 },
  'ERR-AUTH-INVALID-KEY': { status: 401 },
  'ERR-RATE-LIMITED': { status: 429 },
  'ERR-PAYLOAD-TOO-LARGE': { status: 413 },
  'ERR-UNSUPPORTED-MEDIA-TYPE': { status: 415 },
  'ERR-ORIGIN-FORBIDDEN': { status: 403 },
  'ERR-HOST-FORBIDDEN': { status: 403 },
  'ERR-SENDER-FORBIDDEN': { status: 403 },
  'ERR-NOT-FOUND': { status: 404 },
  'ERR-PORT-IN-USE': { status: 503 },
  // A client's side of the gateway handshake: whatever answers could not prove it is this Custodian.
  'ERR-GATEWAY-UNVERIFIED': { status: 502 },
  // Issue 12, SMS through Twilio: Twilio's answers, mapped; none carries a credential or a body.
  'ERR-SMS-NOT-CONFIGURED': { status: 409 },
  'ERR-SMS-AUTH': { status: 502 },
  'ERR-SMS-INVALID-NUMBER': { status: 400 },
  'ERR-SMS-REJECTED': { status: 502 },
  'ERR-SMS-UNAVAILABLE': { status: 503 },
  'ERR-KEYCHAIN-UNAVAILABLE': { status: 503 },
  'ERR-AUDIT-UNAVAILABLE': { status: 503 },
  // Issue 13: the database file cannot be opened for writing (read-only, full disk).
  'ERR-DATABASE-UNAVAILABLE': { status: 503 },
  // Issue 13: a security-state row no longer matches its MAC (edited, deleted or written back outside the app).
  'ERR-STATE-TAMPERED': { status: 503 },
  'ERR-INTERNAL': { status: 500 },
} as const satisfies Record<string, { status: number }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** Values that may be interpolated into a message: never a secret, code or token. */
export type ErrorDetails = Readonly<Record<string, string | number>>;

/** The only shape an error has once it leaves the process that raised it. */
export interface ErrorPayload {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: ErrorDetails;
}

export function messageKey(code: ErrorCode): string {
  return `errors.${code}`;
}

export function httpStatus(code: ErrorCode): number {
  return ERRORS[code].status;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * A typed failure. Services throw it; the IPC router and the gateway turn it into an
 * ErrorPayload. It deliberately keeps no cause: a cause may hold a secret or a stack.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, details?: ErrorDetails) {
    // An AppError is an expected outcome (a wrong code, a refused request), not a bug: its stack
    // is never shown to anyone, so it is not worth capturing on the hot path of a refusal.
    const v8 = Error as ErrorConstructor & { stackTraceLimit?: number };
    const limit = v8.stackTraceLimit;
    v8.stackTraceLimit = 0;
    super(code);
    v8.stackTraceLimit = limit;
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
