import { z } from 'zod';

/**
 * Every event name the app writes to the audit log. The Audit screen shows each by its catalog
 * entry (`audit.events.<name>`), and a unit test keeps this list, the `event:` literals in
 * src-main and both catalogs in step, so a new event cannot reach the screen as raw snake_case.
 * Rows may still hold names from other versions: the screen falls back to the raw name.
 */
export const AUDIT_EVENTS = [
  'settings_changed',
  'profile_created',
  'profile_role_changed',
  'mfa_setup_initiated',
  'mfa_secret_revealed',
  'mfa_setup_expired',
  'mfa_enabled',
  'mfa_factor_added',
  'mfa_factor_renamed',
  'mfa_disabled',
  'mfa_challenge_succeeded',
  'mfa_challenge_failed',
  'mfa_rate_limited',
  'backup_codes_regenerated',
  'backup_code_used',
  'app_locked',
  'app_unlocked',
  'integration_added',
  'integration_revoked',
  'integration_muted',
  'integration_unmuted',
  'restore_request_received',
  'restore_request_denied',
  'restore_request_reported',
  'restore_request_expired',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export function isAuditEvent(name: string): name is AuditEvent {
  return (AUDIT_EVENTS as readonly string[]).includes(name);
}

export const auditEntrySchema = z.object({
  id: z.number().int().positive(),
  ts: z.string(),
  event: z.string(),
  actor: z.string(),
  subject: z.string(),
  source: z.string(),
  userAgent: z.string(),
  data: z.record(z.string(), z.unknown()),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * What a verification found. `anchor` says whether the head kept in the keychain vouched for the
 * chain: `verified`, `absent` (nothing anchored yet) or `unavailable` (the keychain did not
 * answer, so rows cut off the end could not be ruled out).
 */
export const auditVerificationSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    rows: z.number().int(),
    headId: z.number().int().nullable(),
    anchor: z.enum(['verified', 'absent', 'unavailable']),
  }),
  z.object({
    ok: z.literal(false),
    rows: z.number().int(),
    firstBadId: z.number().int(),
    reason: z.enum(['hash-mismatch', 'link-broken', 'sequence-gap', 'head-missing', 'anchor-mismatch']),
  }),
]);
export type AuditVerification = z.infer<typeof auditVerificationSchema>;
