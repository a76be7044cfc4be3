import { z } from 'zod';
import type { Role } from './mfa';
import { SENSITIVITIES, requestIdParamsSchema, sensitivitySchema, type Sensitivity } from './restore-request';

/**
 * The highest sensitivity each role may approve (DESIGN.md "Domain": operator medium, admin high,
 * security-admin critical).
 */
export const ROLE_CEILINGS: Readonly<Record<Role, Sensitivity>> = {
  operator: 'medium',
  admin: 'high',
  'security-admin': 'critical',
};

/** Incident mode denies restores at this sensitivity and above (DESIGN.md "Domain"). */
export const INCIDENT_MODE_FLOOR: Sensitivity = 'high';

export function sensitivityRank(s: Sensitivity): number {
  return SENSITIVITIES.indexOf(s);
}

/**
 * The context key under which an integration may supply the backup's own classification (issue
 * 11 "backup metadata, where an integration supplied it"). No backup catalog exists: this is the
 * only backup metadata the desk has, and it is on the request card already.
 */
export const CLASSIFICATION_KEY = 'classification';

/**
 * The backup's classification as a sensitivity: null when the integration supplied none; an
 * unknown or invalid one counts as critical (DESIGN.md "Restore approval": fails secure).
 */
export function classificationLevel(context: Readonly<Record<string, string>>): Sensitivity | null {
  if (!Object.hasOwn(context, CLASSIFICATION_KEY)) return null;
  const parsed = sensitivitySchema.safeParse(context[CLASSIFICATION_KEY]?.trim().toLowerCase());
  return parsed.success ? parsed.data : 'critical';
}

/** The policy rules of gate 3, in the order they are judged; the first that fails decides. */
export const POLICY_RULES = ['expiry', 'self-approval', 'role-ceiling', 'backup-classification', 'incident-mode'] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

/** The two-digit number the requester shows (number matching), as the approver types it. */
export const matchCodeSchema = z.string().trim().regex(/^[0-9]{2}$/);

export const approveRequestSchema = z.strictObject({
  requestId: requestIdParamsSchema.shape.id,
  matchCode: matchCodeSchema,
});

/**
 * One check of the preview: `pass` or `fail` as things stand now. The authoritative check runs
 * again after the chain (DESIGN.md "Restore approval").
 */
export const approvalCheckSchema = z.object({
  rule: z.enum(['expiry', 'self-approval', 'role-ceiling', 'incident-mode']),
  state: z.enum(['pass', 'fail']),
});
export type ApprovalCheck = z.infer<typeof approvalCheckSchema>;

export const approvalPreviewSchema = z.object({
  requestId: z.string(),
  /** The sensitivity the chain must run at (purpose `approve:<requestId>`). */
  sensitivity: sensitivitySchema,
  /** The approver's ceiling, so the screen can say why a check fails. */
  ceiling: sensitivitySchema,
  checks: z.array(approvalCheckSchema),
});
export type ApprovalPreview = z.infer<typeof approvalPreviewSchema>;

export const TOKEN_STATES = ['issued', 'delivered', 'redeemed', 'revoked', 'expired'] as const;

/** A restore token as the desk sees it: its metadata and countdown, never the token. */
export const restoreTokenViewSchema = z.object({
  id: z.string(),
  requestId: z.string(),
  requester: z.string(),
  backupId: z.string(),
  target: z.string(),
  state: z.enum(TOKEN_STATES),
  issuedAt: z.string(),
  expiresAt: z.string(),
  ttlSeconds: z.number().int(),
});
export type RestoreTokenView = z.infer<typeof restoreTokenViewSchema>;

/** `POST /v1/restore-tokens/redeem`'s answer: what exactly may be restored, and until when. */
export const redeemedTokenSchema = z.object({
  backupId: z.string(),
  target: z.string(),
  expiresAt: z.string(),
});
export type RedeemedToken = z.infer<typeof redeemedTokenSchema>;

/** The purpose of the step-up chain that pays for approving `requestId` (issue 10). */
export function approvePurpose(requestId: string): string {
  return `approve:${requestId}`;
}
