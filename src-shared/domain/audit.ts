import { z } from 'zod';

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
