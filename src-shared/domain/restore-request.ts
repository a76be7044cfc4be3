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

/**
 * Characters that change how text looks without being seen (issue 9): bidi controls (U+202A–202E,
 * U+2066–2069, U+200E/200F, U+061C) and every other format character (zero-width U+200B–200D,
 * U+2060, U+FEFF, soft hyphen, tags), C0 and C1 controls, lone surrogates, and the line and
 * paragraph separators. `/home/alice/restore-tmp/\u202Ewodahs/cte/` showed on the approval card as
 * `…restore-tmp//etc/shadow`.
 */
export const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const HIDDEN_CHARACTERS_ALL = new RegExp(HIDDEN_CHARACTERS.source, 'gu');

/** Refuses text that could read differently from what it is (ERR-VALIDATION naming the field). */
export const visibleText = <T extends z.ZodString>(schema: T) =>
  schema.refine((value) => !HIDDEN_CHARACTERS.test(value), { message: 'hidden or control characters' });

/**
 * For display of text stored before that rule: each hidden character becomes a visible
 * `⟨U+202E⟩`, so what an approver reads is what the tool sent.
 */
export function revealHidden(text: string): string {
  return text.replace(HIDDEN_CHARACTERS_ALL, (c) => `⟨U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

// Limits keep one request far below the gateway's 16 KiB body cap and keep the prompt readable.
const text = (max: number) => visibleText(z.string().trim().min(1).max(max));

/** `POST /v1/restore-requests` (DESIGN.md "Gateway API (v1)"). Unknown fields are refused. */
export const createRestoreRequestBodySchema = z.strictObject({
  requester: text(200),
  backupId: text(200),
  target: text(1024),
  sensitivity: visibleText(z.string().max(32)).optional(),
  reason: text(1000),
  context: z.record(visibleText(z.string().min(1).max(64)), visibleText(z.string().max(512))).optional(),
});

/**
 * The `Idempotency-Key` header of `POST /v1/restore-requests` (issue 9): up to 255 visible ASCII
 * characters (a UUID is typical). A retry with the same key gets the same request back.
 */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7E]{1,255}$/);
export type CreateRestoreRequestBody = z.infer<typeof createRestoreRequestBodySchema>;

/** The `GET /v1/restore-requests/{id}` query: waitSeconds is capped at 60, as the contract says. */
/**
 * The most requests one `requests:list` read returns (issue 13, item 8): the Approvals screen
 * lists every pending request, windowed, and holds 1,000 and more.
 */
export const REQUESTS_LIST_MAX = 2000;

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
  token: visibleText(z.string().min(1).max(200)),
  requester: text(200),
});

/** What the gateway answers on creation: the match code is for the requester to show. */
export const createdRestoreRequestSchema = z.object({
  id: z.string(),
  status: z.literal('pending'),
  expiresAt: z.string(),
  matchCode: z.number().int().min(10).max(99),
});

/**
 * What the gateway answers on a status read. Once approved, `expiresAt` and `ttlSeconds` are the
 * restore token's, and `token` is there on the first read after approval only (issue 11).
 */
export const restoreRequestStatusSchema = z.object({
  id: z.string(),
  status: requestStatusSchema,
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  token: z.string().optional(),
  ttlSeconds: z.number().int().optional(),
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
  /**
   * Where it came from, masked (an IPv4 /24, an IPv6 /48; issue 11); null for requests stored
   * before that was kept. The integration is verified by its key; `requester` and `context` are
   * only what the tool asserted.
   */
  source: z.string().nullable(),
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
 * Whatever holds the gateway port when it is not this Custodian, as far as this machine tells
 * (Linux's /proc): each part may be unknown. `user` and `command` are cleaned to a safe alphabet,
 * since another user chooses both.
 */
export const portHolderSchema = z.object({
  uid: z.number().int().nullable(),
  user: z.string().nullable(),
  pid: z.number().int().nullable(),
  command: z.string().nullable(),
});
export type PortHolder = z.infer<typeof portHolderSchema>;

/** `uid 65534 (nobody), pid 4242 (node)`: the same words in every language. */
export function describePortHolder(holder: PortHolder): string | null {
  const parts = [
    holder.uid === null ? null : `uid ${holder.uid}${holder.user ? ` (${holder.user})` : ''}`,
    holder.pid === null ? null : `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`,
  ].filter((part): part is string => part !== null);
  return parts.length === 0 ? null : parts.join(', ');
}

/**
 * `elsewhere`: another Custodian process proved it serves the port for this same data directory
 * (DESIGN.md "Gateway", "Several processes, one database"); `port-in-use`: anything else holds
 * it, `holder` saying what where that can be read.
 */
export const gatewayStatusSchema = z.object({
  state: z.enum(GATEWAY_STATES),
  port: z.number().int(),
  holder: portHolderSchema.optional(),
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;

// --- the gateway handshake (issue 9): the server proves itself before a client sends a secret ---

/** 32 random bytes, or an HMAC-SHA-256, as base64url without padding. */
const bytes32Schema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** The public part of an integration key `cst_<keyId>_<secret>`. */
export const integrationKeyIdSchema = z.string().regex(/^[a-z0-9]{12}$/);

/** `POST /v1/auth/challenge`: the key's public id and a fresh client nonce. */
export const challengeBodySchema = z.strictObject({ keyId: integrationKeyIdSchema, nonce: bytes32Schema });
/** Its answer: the server's own nonce and its proof that it holds the key's verifier. */
export const challengeAnswerSchema = z.object({ keyId: integrationKeyIdSchema, serverNonce: bytes32Schema, proof: bytes32Schema });

/** `POST /v1/auth/instance`: "prove you serve this data directory". */
export const instanceChallengeBodySchema = z.strictObject({ nonce: bytes32Schema });
export const instanceAnswerSchema = z.object({ serverNonce: bytes32Schema, proof: bytes32Schema });
