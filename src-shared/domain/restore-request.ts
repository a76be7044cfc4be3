import { z } from 'zod';

/** DESIGN.md "Domain": sensitivity levels, least to most restrictive. */
export const SENSITIVITIES = ['low', 'medium', 'high', 'critical'] as const;
export const sensitivitySchema = z.enum(SENSITIVITIES);
export type Sensitivity = z.infer<typeof sensitivitySchema>;

/**
 * DESIGN.md "Domain": an unknown or missing sensitivity counts as `critical` (fail secure), so
 * the gateway accepts any short label and stores what it does not know as the most restrictive.
 */
export function normalizeSensitivity(value: string | undefined): Sensitivity {
  const parsed = sensitivitySchema.safeParse(value?.toLowerCase());
  return parsed.success ? parsed.data : 'critical';
}

export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export const requestStatusSchema = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

// Limits keep one request far below the gateway's 16 KiB body cap and keep the prompt readable.
const text = (max: number) => z.string().trim().min(1).max(max);

/** `POST /v1/restore-requests` (DESIGN.md "Gateway API (v1)"). Unknown fields are refused. */
export const createRestoreRequestBodySchema = z.strictObject({
  requester: text(200),
  backupId: text(200),
  target: text(1024),
  sensitivity: z.string().max(32).optional(),
  reason: text(1000),
  context: z.record(z.string().min(1).max(64), z.string().max(512)).optional(),
});
export type CreateRestoreRequestBody = z.infer<typeof createRestoreRequestBodySchema>;

/** The `GET /v1/restore-requests/{id}` query: waitSeconds is capped at 60, as the contract says. */
export const waitQuerySchema = z.strictObject({
  waitSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .transform((n) => Math.min(n ?? 0, 60)),
});

export const requestIdParamsSchema = z.strictObject({
  id: z.string().regex(/^req_[A-Za-z0-9_-]{8,32}$/),
});

/** `POST /v1/restore-tokens/redeem`. */
export const redeemBodySchema = z.strictObject({
  token: z.string().min(1).max(200),
  requester: text(200),
});

/** What the gateway answers on creation: the match code is for the requester to show. */
export const createdRestoreRequestSchema = z.object({
  id: z.string(),
  status: z.literal('pending'),
  expiresAt: z.string(),
  matchCode: z.number().int().min(10).max(99),
});

/** What the gateway answers on a status read. */
export const restoreRequestStatusSchema = z.object({
  id: z.string(),
  status: requestStatusSchema,
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
});
export type RestoreRequestStatus = z.infer<typeof restoreRequestStatusSchema>;

/**
 * A request as the desk shows it. There is no match code here on purpose: number matching only
 * works if the approver types the number the requester shows (DESIGN.md "Gateway"), so the
 * renderer never learns it.
 */
export const restoreRequestViewSchema = z.object({
  id: z.string(),
  integrationId: z.string(),
  integrationName: z.string(),
  requester: z.string(),
  backupId: z.string(),
  target: z.string(),
  sensitivity: sensitivitySchema,
  reason: z.string(),
  context: z.record(z.string(), z.string()),
  status: requestStatusSchema,
  reported: z.boolean(),
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
});
export type RestoreRequestView = z.infer<typeof restoreRequestViewSchema>;

export const integrationViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  mutedUntil: z.string().nullable(),
});
export type IntegrationView = z.infer<typeof integrationViewSchema>;

export const integrationNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u);

/** The one-time display of a new integration's key (DESIGN.md "Gateway": shown once). */
export const createdIntegrationSchema = integrationViewSchema.extend({ key: z.string() });
export type CreatedIntegration = z.infer<typeof createdIntegrationSchema>;

export const GATEWAY_STATES = ['stopped', 'listening', 'elsewhere', 'port-in-use'] as const;
/**
 * `elsewhere`: another Custodian process on this data directory already serves the port
 * (DESIGN.md "Several processes, one database"); `port-in-use`: something else holds it.
 */
export const gatewayStatusSchema = z.object({
  state: z.enum(GATEWAY_STATES),
  port: z.number().int(),
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;
