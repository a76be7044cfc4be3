import { z } from 'zod';
import { factorIdSchema } from './mfa';
import { restoreRequestViewSchema, sensitivitySchema } from './restore-request';

/**
 * Push approval (issue 12): the Custodian desktop window is the approver's push device, as Duo
 * Mobile is Duo's. A push step started anywhere on the data directory (the window, or a shell's
 * `custodian verify` / `custodian approve`) raises a prompt in every running window through the
 * shared database; the approver picks, among three, the two-digit number shown where the step
 * was started (Okta's number challenge), or denies it and reports it.
 */

export const pushIdSchema = z.string().regex(/^pu_[a-z2-7]{16}$/);

/** How many numbers the prompt offers: the right one and two decoys, in a random order. */
export const PUSH_CHOICES = 3;

/**
 * Where a push stands. `pending` until answered or `expiresAt`; `approved` (the right number was
 * picked) and `mismatched` (a wrong one) until the step that raised it reads the answer, which
 * makes it `used`; `denied` ("deny and report", a security event); `expired` (ignored until its
 * timeout); `superseded` by a newer push for the same factor.
 */
export const PUSH_STATUSES = ['pending', 'approved', 'mismatched', 'denied', 'expired', 'used', 'superseded'] as const;
export type PushStatus = (typeof PUSH_STATUSES)[number];

/**
 * A push prompt as the window shows it: what is being approved, who started it and from where,
 * and the three numbers. Never which number is right: the window must not be able to tell.
 */
export const pushPromptSchema = z.object({
  id: pushIdSchema,
  factorId: factorIdSchema,
  factorLabel: z.string(),
  /** The step-up purpose the chain pays for (`approve:<id>`, `factors:enroll`, `test:high`...). */
  purpose: z.string(),
  /** The chain's sensitivity; null for a push that confirms a new push factor. */
  sensitivity: sensitivitySchema.nullable(),
  /** `desktop` or `cli`. */
  source: z.string(),
  /** The principal (window) or `cli:<os user>` (shell) that started the step. */
  startedBy: z.string(),
  choices: z.array(z.number().int().min(10).max(99)).length(PUSH_CHOICES),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** For an approval's chain (`approve:<id>`): the request, as its card shows it. */
  request: restoreRequestViewSchema.nullable(),
});
export type PushPrompt = z.infer<typeof pushPromptSchema>;

/** What the approver's answer did. */
export const PUSH_ANSWER_OUTCOMES = ['approved', 'mismatched', 'denied'] as const;
export const pushAnswerSchema = z.object({ outcome: z.enum(PUSH_ANSWER_OUTCOMES) });
export type PushAnswer = z.infer<typeof pushAnswerSchema>;
