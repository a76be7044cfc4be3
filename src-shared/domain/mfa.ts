import { z } from 'zod';
import { assertNever } from '../assert-never';
import { e164Schema } from './phone';

/** Roles, least to most (DESIGN.md "Domain"). */
export const ROLES = ['operator', 'admin', 'security-admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Roles that may never turn MFA off (seed 003: "Admin users cannot disable MFA"). */
export const MFA_MANDATORY_ROLES: readonly Role[] = ['admin', 'security-admin'];

export const profileSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  principal: z.string(),
  role: roleSchema,
  mfaEnabled: z.boolean(),
});
export type Profile = z.infer<typeof profileSchema>;

export const displayNameSchema = z.string().trim().min(1).max(80);
/** `alice@corp`: a login name and a realm, as the backup tools name requesters. */
export const principalSchema = z
  .string()
  .trim()
  .min(3)
  .max(120)
  .regex(/^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$/);

export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export const totpAlgorithmSchema = z.enum(TOTP_ALGORITHMS);
export type TotpAlgorithm = z.infer<typeof totpAlgorithmSchema>;
export const totpDigitsSchema = z.union([z.literal(6), z.literal(8)]);
export const totpPeriodSchema = z.union([z.literal(30), z.literal(60)]);

export const FACTOR_STATES = ['pending', 'active', 'disabled'] as const;
export const factorStateSchema = z.enum(FACTOR_STATES);
export type FactorState = z.infer<typeof factorStateSchema>;

export const factorIdSchema = z.string().regex(/^f_[a-z2-7]{16}$/);
export const factorLabelSchema = z.string().trim().min(1).max(60);

/**
 * Each factor type's own parameters, with the type (issue 10): TOTP now; SMS and push join this
 * union, each with its `FactorMethod` in the main process, without touching the others.
 */
export const totpParamsSchema = z.object({
  type: z.literal('totp'),
  digits: totpDigitsSchema,
  period: totpPeriodSchema,
  algorithm: totpAlgorithmSchema,
});
export type TotpFactorParams = z.infer<typeof totpParamsSchema>;
/**
 * An SMS factor as recorded and shown (issue 12): the number masked only (country code and last
 * two digits). The full number lives in the keychain beside the factor's HMAC key, never in the
 * database, an audit row or the window.
 */
export const smsParamsSchema = z.object({
  type: z.literal('sms'),
  phoneMasked: z.string(),
});
export type SmsFactorParams = z.infer<typeof smsParamsSchema>;
/**
 * A push factor (issue 12): the Custodian desktop window is the approver's push device, as Duo
 * Mobile is Duo's. It records nothing but its type; its HMAC key (for the number each push asks
 * the approver to pick) lives in the keychain.
 */
export const pushParamsSchema = z.object({ type: z.literal('push') });
export type PushFactorParams = z.infer<typeof pushParamsSchema>;
export const factorParamsSchema = z.discriminatedUnion('type', [totpParamsSchema, smsParamsSchema, pushParamsSchema]);
export type FactorParams = z.infer<typeof factorParamsSchema>;
export type FactorType = FactorParams['type'];
export type FactorParamsOf<T extends FactorType> = Extract<FactorParams, { type: T }>;

/** An SMS code's length (issue 12: "a 6-digit code"). */
export const SMS_CODE_DIGITS = 6;
/** A push step's "code" is the two-digit number the approver picks among three (Okta's number challenge). */
export const PUSH_NUMBER_DIGITS = 2;

/** How many digits a code of this factor has, whatever its type. */
export function factorDigits(params: FactorParams): number {
  switch (params.type) {
    case 'totp':
      return params.digits;
    case 'sms':
      return SMS_CODE_DIGITS;
    case 'push':
      return PUSH_NUMBER_DIGITS;
    default:
      return assertNever(params);
  }
}

/**
 * What enrolling asks for, per type: TOTP's are its recorded parameters; SMS takes the number in
 * E.164 (`phoneInputSchema` turns what a person typed into it), which the method keeps in the
 * keychain and records masked.
 */
export const smsEnrollParamsSchema = z.object({ type: z.literal('sms'), phone: e164Schema });
export const enrollParamsSchema = z.discriminatedUnion('type', [totpParamsSchema, smsEnrollParamsSchema, pushParamsSchema]);
export type EnrollParams = z.infer<typeof enrollParamsSchema>;
export type EnrollParamsOf<T extends FactorType> = Extract<EnrollParams, { type: T }>;

/**
 * The types a factor can be enrolled as in this build: one per `FactorMethod`, read off the union
 * so that a new method shows up here (and on the Policies screen) without another list to keep.
 */
export const ENROLLABLE_FACTOR_TYPES: readonly FactorType[] = factorParamsSchema.options.map((option) => option.shape.type.value);

/** What every factor has, whatever its type. */
const factorCommonSchema = z.object({
  id: z.string(),
  label: z.string(),
  state: factorStateSchema,
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  /** When a pending enrollment lapses and its secret is deleted. */
  pendingExpiresAt: z.string().nullable(),
  /**
   * Enrolled with a backup code (or with another recovery factor's code), and its recovery delay
   * has not passed: it may unlock and verify, but not disable other factors, regenerate backup
   * codes or change the role (issue 9, item 4). A pending factor says what it will become.
   */
  recovery: z.boolean(),
  /** When an active recovery factor gets full rights; null for every other factor. */
  recoveryUntil: z.string().nullable(),
});

/** A factor as the window and the shell see it: the common fields and its type's parameters. */
export const factorSchema = z.discriminatedUnion('type', [
  factorCommonSchema.extend(totpParamsSchema.shape),
  factorCommonSchema.extend(smsParamsSchema.shape),
  factorCommonSchema.extend(pushParamsSchema.shape),
]);
export type Factor = z.infer<typeof factorSchema>;

export const enrollmentSchema = z.object({
  factor: factorSchema,
  /** The otpauth:// key URI (Google Authenticator's Key Uri Format). */
  uri: z.string(),
  /** A PNG of the URI as a QR code, as a data: URL (the CSP allows data: images only). */
  qrDataUrl: z.string(),
  secretMasked: z.string(),
  /**
   * SMS (issue 12): the confirming code was sent; another may be asked for at `resendAfter`.
   * Absent for TOTP, whose app holds the secret. An SMS enrollment has no key URI: `uri` and
   * `qrDataUrl` are empty, and `secretMasked` is the masked number.
   */
  sent: z.strictObject({ digits: z.number().int(), resendAfter: z.string() }).optional(),
  /**
   * Push (issue 12): a push was raised to confirm the factor; the approver picks `number` in the
   * window's push prompt before `expiresAt`, then confirms with it. Absent for TOTP and SMS.
   */
  push: z.strictObject({ number: z.number().int().min(10).max(99), expiresAt: z.string() }).optional(),
});
export type Enrollment = z.infer<typeof enrollmentSchema>;

/**
 * What the window gets of an enrollment: the QR image and the masked secret, never the key URI
 * with the secret in it, so the "shown once" reveal is the only way the secret reaches the page
 * as text (issue 9, item 4). The shell's `factors enroll --json` still prints the URI.
 */
export const enrollmentViewSchema = enrollmentSchema.omit({ uri: true });
export type EnrollmentView = z.infer<typeof enrollmentViewSchema>;

export const backupCodesStatusSchema = z.object({
  remaining: z.number().int(),
  total: z.number().int(),
  expiresAt: z.string().nullable(),
  /** Three or fewer left: time to regenerate. */
  low: z.boolean(),
});
export type BackupCodesStatus = z.infer<typeof backupCodesStatusSchema>;

/**
 * A code as typed: a TOTP code or a backup code. Only its size is checked here; its format is
 * the service's to judge, so a malformed code counts as a failed attempt like any wrong one.
 */
export const codeInputSchema = z.string().max(32);

export const lockStatusSchema = z.object({
  locked: z.boolean(),
  hasProfile: z.boolean(),
  mfaEnabled: z.boolean(),
  idleLockMinutes: z.number().int(),
  language: z.enum(['en', 'tr']),
});
export type LockStatus = z.infer<typeof lockStatusSchema>;
