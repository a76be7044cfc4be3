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
  'mfa_secret_swept',
  'mfa_setup_resumed',
  'mfa_setup_removed',
  'mfa_setup_code_resent',
  'mfa_enabled',
  'mfa_factor_added',
  'mfa_factor_renamed',
  'mfa_disabled',
  'mfa_recovery_cancelled',
  'mfa_recovery_refused',
  'mfa_challenge_succeeded',
  'mfa_challenge_failed',
  'mfa_rate_limited',
  'mfa_policy_changed',
  'mfa_chain_started',
  'mfa_chain_challenged',
  'mfa_chain_step_passed',
  'mfa_chain_step_failed',
  'mfa_chain_breached',
  'mfa_chain_reset',
  'mfa_chain_expired',
  'mfa_chain_completed',
  'mfa_step_up_used',
  'mfa_push_approved',
  'mfa_push_mismatched',
  'mfa_push_denied',
  'mfa_push_expired',
  'backup_codes_regenerated',
  'backup_code_used',
  'app_locked',
  'app_unlocked',
  'audit_reanchored',
  'audit_anchor_caught_up',
  // Issue 13: rows written before the state seals, MACed once (migration 013).
  'state_sealed',
  // Issue 13: the state epoch accepted again after a restore from backup (custodian integrity reseal).
  'state_resealed',
  'integration_added',
  'integration_revoked',
  'integration_muted',
  'integration_unmuted',
  'restore_request_received',
  'restore_request_denied',
  'restore_request_reported',
  'restore_request_expired',
  'restore_approval_denied',
  'restore_approval_mfa_passed',
  'restore_approval_policy_allowed',
  'restore_request_approved',
  'restore_token_issued',
  'restore_token_delivered',
  'restore_token_redeemed',
  'restore_token_redeem_denied',
  'restore_token_revoked',
  'restore_token_purged',
  'incident_mode_on',
  'incident_mode_off',
  'sms_credentials_set',
  'sms_credentials_changed',
  'sms_test_sent',
  'sms_test_failed',
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
 * What a verification found. `ok` is true only when the log can be trusted as a whole: the chain
 * is intact and either the head kept in the keychain is its head (`verified`) or the log is empty
 * and nothing was ever anchored (`empty`). Otherwise `reason` says why, and `firstBadId` is the
 * first entry nothing vouches for:
 * - a chain fault (`hash-mismatch`, `link-broken`, `sequence-gap`) at that row;
 * - `head-missing` (rows were cut off the end) or `anchor-mismatch` (the log was rewritten);
 * - `anchor-lagging`: the anchor vouches for entries up to `anchoredId` of `headId` only;
 * - `anchor-missing`, `anchor-unreadable` (garbled) or `anchor-unavailable` (the keychain did
 *   not answer): with rows present, nothing rules out rows cut off the end or a rewritten log.
 */
export const auditVerificationSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    rows: z.number().int(),
    headId: z.number().int().nullable(),
    anchor: z.enum(['verified', 'empty']),
  }),
  z.object({
    ok: z.literal(false),
    rows: z.number().int(),
    firstBadId: z.number().int(),
    reason: z.enum([
      'hash-mismatch',
      'link-broken',
      'sequence-gap',
      'head-missing',
      'anchor-mismatch',
      'anchor-lagging',
      'anchor-missing',
      'anchor-unreadable',
      'anchor-unavailable',
    ]),
    /** With the anchor's reasons: the log's last entry and the entry the anchor vouches for. */
    headId: z.number().int().nullable().optional(),
    anchoredId: z.number().int().nullable().optional(),
  }),
]);
export type AuditVerification = z.infer<typeof auditVerificationSchema>;
