import { z } from 'zod';
import { auditEntrySchema, auditVerificationSchema } from '../domain/audit';
import {
  backupCodesStatusSchema,
  codeInputSchema,
  displayNameSchema,
  enrollmentViewSchema,
  factorIdSchema,
  factorLabelSchema,
  factorSchema,
  lockStatusSchema,
  principalSchema,
  profileSchema,
  roleSchema,
  totpAlgorithmSchema,
  totpDigitsSchema,
  totpPeriodSchema,
} from '../domain/mfa';
import { appInfoSchema, languageSchema, tokenTtlSecondsSchema, userSettingsSchema } from '../domain/settings';
import { chainAttemptViewSchema, chainStartPurposeSchema, factorChallengeSchema, policySchema, stepFactorSchema } from '../domain/policy';
import { incidentChangeSchema, incidentStateSchema } from '../domain/incident';
import { ERROR_CODES } from '../errors';
import { phoneInputSchema } from '../domain/phone';
import { smsConfigViewSchema, smsTestResultSchema, twilioAccountSidSchema, twilioAuthTokenSchema, twilioSenderInputSchema } from '../domain/sms';
import { pushAnswerSchema, pushIdSchema, pushPromptSchema } from '../domain/push';
import { approvalPreviewSchema, approveRequestSchema, restoreTokenViewSchema } from '../domain/approval';
import {
  requestIdParamsSchema,
  createdIntegrationSchema,
  gatewayStatusSchema,
  integrationNameSchema,
  integrationViewSchema,
  restoreRequestViewSchema,
  sensitivitySchema,
  REQUESTS_LIST_MAX,
} from '../domain/restore-request';

// --- gateway (issue #5): restore requests, integrations, gateway status ---
const gatewayChannels = {
  'requests:list': {
    request: z.strictObject({
      view: z.enum(['pending', 'history']),
      limit: z.number().int().min(1).max(REQUESTS_LIST_MAX).default(100),
    }),
    response: z.object({ requests: z.array(restoreRequestViewSchema) }),
  },
  'requests:deny': {
    request: z.strictObject({ id: z.string().min(1).max(64) }),
    response: restoreRequestViewSchema,
  },
  'requests:report': {
    request: z.strictObject({ id: z.string().min(1).max(64) }),
    response: restoreRequestViewSchema,
  },
  'integrations:list': {
    request: z.strictObject({}),
    response: z.object({ integrations: z.array(integrationViewSchema) }),
  },
  'integrations:add': {
    request: z.strictObject({ name: integrationNameSchema }),
    response: createdIntegrationSchema,
  },
  'integrations:revoke': {
    request: z.strictObject({ id: z.string().min(1).max(64) }),
    response: integrationViewSchema,
  },
  /** Lifts a report's mute before it runs out (issue 9); audited. */
  'integrations:unmute': {
    request: z.strictObject({ id: z.string().min(1).max(64) }),
    response: integrationViewSchema,
  },
  /** How many requests wait: the count only, so the lock screen and the title may show it. */
  'requests:pending-count': {
    request: z.strictObject({}),
    response: z.object({ count: z.number().int().nonnegative() }),
  },
  'gateway:status': {
    request: z.strictObject({}),
    response: gatewayStatusSchema,
  },
} as const;
const gatewayEvents = {
  /** Something about restore requests changed (here or in another process); `id` when known. */
  'requests:changed': z.object({ id: z.string().nullable() }),
  /** The number of pending requests changed; nothing else about them (sent while locked too). */
  'requests:pending-count': z.object({ count: z.number().int().nonnegative() }),
  'integrations:changed': z.object({}),
  'gateway:status': gatewayStatusSchema,
} as const;
const GATEWAY_PREFIXES = ['requests:', 'integrations:', 'gateway:'] as const;
// --- end gateway ---

/**
 * Every IPC channel, declared once (STYLE.md rule 2). Main parses `request` before any service
 * runs; the renderer's types come from the same schemas. Requests are strict objects so an extra
 * field is a validation error rather than something silently ignored.
 */
export const channels = {
  'app:info': {
    request: z.strictObject({}),
    response: appInfoSchema,
  },
  'audit:list': {
    request: z.strictObject({
      limit: z.number().int().min(1).max(500).default(100),
      beforeId: z.number().int().positive().optional(),
    }),
    response: z.object({ entries: z.array(auditEntrySchema), total: z.number().int() }),
  },
  'audit:verify': {
    request: z.strictObject({}),
    response: auditVerificationSchema,
  },
  'settings:get': {
    request: z.strictObject({}),
    response: userSettingsSchema,
  },
  'settings:set-language': {
    request: z.strictObject({ language: languageSchema }),
    response: userSettingsSchema,
  },
  /**
   * The restore token TTL for tokens issued from now on (issue 11). Longer uses up a grant for
   * `settings:token-ttl` from a critical chain (ERR-MFA-REQUIRED without one); pinned by the
   * environment, ERR-SETTING-PINNED.
   */
  'settings:set-token-ttl': {
    request: z.strictObject({ seconds: tokenTtlSecondsSchema }),
    response: userSettingsSchema,
  },

  // --- Profile, factors, backup codes and the lock (issue #4) ---
  'profile:get': {
    request: z.strictObject({}),
    response: z.object({ profile: profileSchema.nullable() }),
  },
  'profile:init': {
    request: z.strictObject({ displayName: displayNameSchema, principal: principalSchema, role: roleSchema }),
    response: profileSchema,
  },
  /** Takes a grant for `profile:role:<role>` from a critical chain (issue 10). */
  'profile:set-role': {
    request: z.strictObject({ role: roleSchema }),
    response: profileSchema,
  },
  'factors:list': {
    request: z.strictObject({}),
    response: z.object({ factors: z.array(factorSchema), backupCodes: backupCodesStatusSchema }),
  },
  /**
   * Once MFA is on, takes a grant for `factors:enroll` from a critical chain (issue 10); a chain
   * where a backup code stood in makes a recovery factor (issue 9, item 4). The answer has the QR
   * image and the masked secret, never the key URI. An SMS factor (issue 12) is `type: 'sms'`
   * with its number (any typed form, E.164 after parsing): its answer has no QR, and `sent` says
   * the confirming code went out. A request without `type` is a TOTP factor, as before SMS.
   */
  'factors:enroll': {
    request: z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('totp').optional(),
        label: factorLabelSchema,
        digits: totpDigitsSchema.default(6),
        period: totpPeriodSchema.default(30),
        algorithm: totpAlgorithmSchema.default('SHA1'),
      }),
      z.strictObject({ type: z.literal('sms'), label: factorLabelSchema, phone: phoneInputSchema }),
      z.strictObject({ type: z.literal('push'), label: factorLabelSchema }),
    ]),
    response: enrollmentViewSchema,
  },
  /** A pending factor's QR code again, within its 10 minutes; takes a grant as enrolling does. */
  'factors:resume': {
    request: z.strictObject({ factorId: factorIdSchema }),
    response: enrollmentViewSchema,
  },
  /**
   * A pending SMS factor's confirming code, sent again to its number (issue 12), within its 10
   * minutes. No grant: it reaches no new number. Counted by the SMS send limit
   * (ERR-MFA-RATE-LIMITED with `retryAfterSeconds`); an active factor is
   * ERR-MFA-FACTOR-ALREADY-ACTIVE, a lapsed one ERR-MFA-EXPIRED, a TOTP one ERR-VALIDATION.
   */
  'factors:resend-code': {
    request: z.strictObject({ factorId: factorIdSchema }),
    response: z.object({ sent: z.strictObject({ digits: z.number().int(), resendAfter: z.string() }) }),
  },
  /** Drops a pending factor and deletes its secret. */
  'factors:remove-pending': {
    request: z.strictObject({ factorId: factorIdSchema }),
    response: z.object({ factorId: z.string() }),
  },
  'factors:reveal-secret': {
    request: z.strictObject({ factorId: factorIdSchema }),
    response: z.object({ secret: z.string() }),
  },
  'factors:confirm': {
    request: z.strictObject({ factorId: factorIdSchema, code: codeInputSchema }),
    response: z.object({ factor: factorSchema, backupCodes: z.array(z.string()).nullable() }),
  },
  'factors:rename': {
    request: z.strictObject({ factorId: factorIdSchema, label: factorLabelSchema }),
    response: factorSchema,
  },
  /** Takes a grant for `factors:disable:<factorId>` from a critical chain (issue 10). */
  'factors:disable': {
    request: z.strictObject({ factorId: factorIdSchema }),
    response: factorSchema,
  },
  /** Takes a grant for `backup-codes:regenerate` from a critical chain (issue 10). */
  'backup-codes:regenerate': {
    request: z.strictObject({}),
    response: z.object({ codes: z.array(z.string()), status: backupCodesStatusSchema }),
  },
  'lock:status': {
    request: z.strictObject({}),
    response: lockStatusSchema,
  },
  'lock:unlock': {
    request: z.strictObject({ code: codeInputSchema }),
    response: lockStatusSchema,
  },
  'lock:lock': {
    request: z.strictObject({}),
    response: lockStatusSchema,
  },
  /** The renderer saw the approver type or move: it keeps the idle lock from closing in. */
  'lock:activity': {
    request: z.strictObject({}),
    response: lockStatusSchema,
  },
  // --- Factor chains and policies (issue 10) ---
  /** Starts an attempt at the policy for `sensitivity`; the answer lists the steps, never a secret. */
  'chain:start': {
    request: z.strictObject({ purpose: chainStartPurposeSchema, sensitivity: sensitivitySchema }),
    response: chainAttemptViewSchema,
  },
  /** One step: the current step's factor id, or `backup` for a backup code standing in once. */
  'chain:verify-step': {
    request: z.strictObject({ attemptId: z.string().min(1).max(64), factorId: stepFactorSchema, code: codeInputSchema }),
    response: chainAttemptViewSchema,
  },
  /** What the current step asks for (issue 12): TOTP's digits; SMS sends its code, push raises its prompt. */
  'chain:challenge': {
    request: z.strictObject({ attemptId: z.string().min(1).max(64) }),
    response: factorChallengeSchema,
  },
  /** The attempt as it stands: after a reset in random mode, the fresh chain. */
  'chain:get': {
    request: z.strictObject({ attemptId: z.string().min(1).max(64) }),
    response: chainAttemptViewSchema,
  },
  'policies:list': {
    request: z.strictObject({}),
    response: z.object({ policies: z.array(policySchema) }),
  },
  /** A weaker policy uses up a grant for `policies:weaken` from a critical chain. */
  'policies:save': {
    request: z.strictObject({ policy: policySchema }),
    response: policySchema,
  },
  // --- Approvals and restore tokens (issue 11) ---
  /** The policy checks as they stand, before the chain: nothing about the backup. */
  'approvals:preview': {
    request: z.strictObject({ requestId: requestIdParamsSchema.shape.id }),
    response: approvalPreviewSchema,
  },
  /** After a chain for `approve:<requestId>`: the match code, then policy, then the token. */
  'approvals:approve': {
    request: approveRequestSchema,
    response: z.object({ request: restoreRequestViewSchema, token: restoreTokenViewSchema }),
  },
  /** A request's token: metadata and countdown, never the token. */
  'tokens:get': {
    request: z.strictObject({ requestId: requestIdParamsSchema.shape.id }),
    response: z.object({ token: restoreTokenViewSchema.nullable() }),
  },
  /** Takes back a token not yet redeemed. */
  'tokens:revoke': {
    request: z.strictObject({ requestId: requestIdParamsSchema.shape.id }),
    response: restoreTokenViewSchema,
  },
  // --- Incident mode (issue 11) ---
  'incident:get': {
    request: z.strictObject({}),
    response: incidentStateSchema,
  },
  /** Immediate; `changed` is false when it was already on. */
  'incident:on': {
    request: z.strictObject({}),
    response: incidentChangeSchema,
  },
  /** Uses up an `incident:leave` grant from a critical chain; ERR-MFA-REQUIRED without one. */
  'incident:off': {
    request: z.strictObject({}),
    response: incidentChangeSchema,
  },
  // --- SMS through Twilio (issue 12) ---
  /** What is set, masked: never the auth token. */
  'sms:get-config': {
    request: z.strictObject({}),
    response: smsConfigViewSchema,
  },
  /** Into the keychain; `authToken` may be left out to keep the saved one for the same account. */
  'sms:set-config': {
    request: z.strictObject({
      accountSid: twilioAccountSidSchema,
      authToken: twilioAuthTokenSchema.optional(),
      sender: twilioSenderInputSchema,
    }),
    response: smsConfigViewSchema,
  },
  /** Sends a fixed test text through Twilio to `to` (any typed form; E.164 once parsed). */
  'sms:test': {
    request: z.strictObject({ to: phoneInputSchema }),
    response: smsTestResultSchema,
  },
  // --- Push (issue 12): this window is the approver's push device ---
  /** The pushes waiting for an answer, oldest first, raised here or by another process. */
  'push:pending': {
    request: z.strictObject({}),
    response: z.object({ prompts: z.array(pushPromptSchema) }),
  },
  /** The approver picked `number` among the prompt's three: `approved` or `mismatched`. */
  'push:answer': {
    request: z.strictObject({ id: pushIdSchema, number: z.number().int().min(10).max(99) }),
    response: pushAnswerSchema,
  },
  /** "Deny and report": the step fails, and a security event is recorded. */
  'push:deny': {
    request: z.strictObject({ id: pushIdSchema }),
    response: pushAnswerSchema,
  },
  ...gatewayChannels,
} as const;

/**
 * While locked, main serves these channels and no other (issue #4, "Profile and lock"). The
 * pending count says how many requests wait and nothing about them (issue 9).
 */
export const LOCK_EXEMPT_CHANNELS: readonly Channel[] = ['lock:status', 'lock:unlock', 'requests:pending-count'];

export type Channel = keyof typeof channels;
export const CHANNELS = Object.keys(channels) as Channel[];
/** Every channel shares this prefix; main refuses anything else (VS Code's validatedIpcMain). */
export const CHANNEL_PREFIXES = ['app:', 'audit:', 'settings:', 'profile:', 'factors:', 'backup-codes:', 'lock:', 'chain:', 'policies:', 'approvals:', 'tokens:', 'incident:', 'sms:', 'push:', ...GATEWAY_PREFIXES] as const;

export type RequestInput<C extends Channel> = z.input<(typeof channels)[C]['request']>;
export type RequestOf<C extends Channel> = z.output<(typeof channels)[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<(typeof channels)[C]['response']>;

/** Main-to-renderer events and their payloads. */
export const events = {
  'audit:appended': z.object({ id: z.number().int(), event: z.string() }),
  'settings:changed': userSettingsSchema,
  'lock:changed': lockStatusSchema,
  'factors:changed': z.object({}),
  /** Incident mode changed, here or in another process (issue 11). */
  'incident:changed': incidentStateSchema,
  /** The pushes waiting for an answer changed (raised, answered, ended), here or in another process. */
  'push:changed': z.object({}),
  ...gatewayEvents,
} as const;
export type EventName = keyof typeof events;
/**
 * While locked, main sends the window these events and no other: the lock's own, the language,
 * and the pending count. Request ids, audit rows and factor changes wait for the unlock, after
 * which every screen reads afresh.
 */
export const LOCK_EXEMPT_EVENTS: readonly EventName[] = ['lock:changed', 'settings:changed', 'requests:pending-count'];
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];

export const errorPayloadSchema = z.object({
  code: z.enum(ERROR_CODES as [string, ...string[]]),
  message: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

/**
 * What an invoke resolves to. Errors travel as data, not as rejections, because Electron wraps a
 * rejected handler's message in its own text and would otherwise leak the main-process stack.
 */
export type IpcResult<C extends Channel> =
  | { ok: true; data: ResponseOf<C> }
  | { ok: false; error: z.infer<typeof errorPayloadSchema> };
