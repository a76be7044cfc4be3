import { z } from 'zod';
import { assertNever } from '../assert-never';
import { factorIdSchema, ROLES, type Role } from './mfa';
import { SENSITIVITIES, sensitivitySchema, type Sensitivity } from './restore-request';

/**
 * Factor-chain policies, one per sensitivity (issue 10 "Policies"; DESIGN.md "Factor chain").
 * `fixed` walks the eligible factors in their order; `random` draws `requiredSteps` distinct ones
 * from the Random port when an attempt starts, and again after every failed step.
 */
export const CHAIN_MODES = ['fixed', 'random'] as const;
export const chainModeSchema = z.enum(CHAIN_MODES);
export type ChainMode = z.infer<typeof chainModeSchema>;

/** The factor types a policy may name: the ones DESIGN.md "Domain" plans, whether enabled or not. */
export const FACTOR_TYPES = ['totp', 'sms', 'push'] as const;
export const factorTypeSchema = z.enum(FACTOR_TYPES);
export type FactorType = z.infer<typeof factorTypeSchema>;

/** Which factors may serve as steps: listed by id (in chain order for `fixed`), or every active one of some types. */
export const eligibleFactorsSchema = z.discriminatedUnion('by', [
  z.strictObject({
    by: z.literal('types'),
    types: z
      .array(factorTypeSchema)
      .min(1)
      .max(FACTOR_TYPES.length)
      .refine((types) => new Set(types).size === types.length, 'duplicate type'),
  }),
  z.strictObject({
    by: z.literal('ids'),
    ids: z
      .array(factorIdSchema)
      .min(1)
      .max(32)
      .refine((ids) => new Set(ids).size === ids.length, 'duplicate factor'),
  }),
]);
export type EligibleFactors = z.infer<typeof eligibleFactorsSchema>;

export const MAX_CHAIN_STEPS = 5;

export const policySchema = z.strictObject({
  sensitivity: sensitivitySchema,
  mode: chainModeSchema,
  requiredSteps: z.number().int().min(1).max(MAX_CHAIN_STEPS),
  eligible: eligibleFactorsSchema,
  // The same bounds as the setting `mfa.challengeTimeoutSeconds` it defaults to.
  challengeTimeoutSeconds: z.number().int().min(10).max(600),
});
export type Policy = z.infer<typeof policySchema>;

/**
 * The defaults (issue 10): one step for low, medium and high, two distinct factors for critical.
 * High and critical draw their factors at random, so a stolen phone alone does not know which
 * code it will be asked for; low and medium take the first eligible factor.
 *
 * Issue 12: low, medium and high admit every method (TOTP, SMS, push); critical admits TOTP only,
 * since NIST SP 800-63B restricts SMS and a push step answered in this very window is no second
 * channel for the most sensitive actions. Only a sensitivity with no saved policy follows these
 * defaults: a saved policy keeps the eligibility it was saved with (the whole policy is stored),
 * so a desk that saved `totp` only keeps it. Before the SMS and push methods exist, and where
 * MFA_METHODS turns them off, no such factor is active, so the wider default draws exactly the
 * chains the TOTP-only one did.
 */
export function defaultPolicy(sensitivity: Sensitivity, challengeTimeoutSeconds: number): Policy {
  const eligible: EligibleFactors = { by: 'types', types: ['totp', 'sms', 'push'] };
  const critical: EligibleFactors = { by: 'types', types: ['totp'] };
  switch (sensitivity) {
    case 'low':
    case 'medium':
      return { sensitivity, mode: 'fixed', requiredSteps: 1, eligible, challengeTimeoutSeconds };
    case 'high':
      return { sensitivity, mode: 'random', requiredSteps: 1, eligible, challengeTimeoutSeconds };
    case 'critical':
      return { sensitivity, mode: 'random', requiredSteps: 2, eligible: critical, challengeTimeoutSeconds };
    default:
      return assertNever(sensitivity);
  }
}

export function defaultPolicies(challengeTimeoutSeconds: number): Policy[] {
  return SENSITIVITIES.map((s) => defaultPolicy(s, challengeTimeoutSeconds));
}

/** A factor as a chain sees it: never a secret. */
export const chainFactorSchema = z.strictObject({
  id: z.string(),
  type: factorTypeSchema,
  label: z.string(),
  digits: z.number().int(),
});
export type ChainFactor = z.infer<typeof chainFactorSchema>;

/** The factors a policy admits, in chain order: by id in the policy's order, by type in the given order. */
export function eligibleFactors(policy: Pick<Policy, 'eligible'>, active: readonly ChainFactor[]): ChainFactor[] {
  const rule = policy.eligible;
  switch (rule.by) {
    case 'types':
      return active.filter((f) => rule.types.includes(f.type));
    case 'ids':
      return rule.ids.flatMap((id) => active.filter((f) => f.id === id));
    default:
      return assertNever(rule);
  }
}

export const WEAKENINGS = ['fewer-steps', 'fixed-order', 'longer-timeout', 'more-factors'] as const;
export type Weakening = (typeof WEAKENINGS)[number];

/**
 * How `after` is weaker than `before` (issue 10: "fewer steps, fixed instead of random, a longer
 * timeout"; and admitting a factor the old policy did not). The caller demands a step-up grant
 * for any of them. Pure; `active` resolves a switch between listing by type and by id: without
 * it, such a switch counts as weaker (fail secure).
 */
export function weakenings(before: Policy, after: Policy, active?: readonly ChainFactor[]): Weakening[] {
  const out: Weakening[] = [];
  if (after.requiredSteps < before.requiredSteps) out.push('fewer-steps');
  if (before.mode === 'random' && after.mode === 'fixed') out.push('fixed-order');
  if (after.challengeTimeoutSeconds > before.challengeTimeoutSeconds) out.push('longer-timeout');
  if (admitsMore(before.eligible, after.eligible, active)) out.push('more-factors');
  return out;
}

export function isWeakening(before: Policy, after: Policy, active?: readonly ChainFactor[]): boolean {
  return weakenings(before, after, active).length > 0;
}

function admitsMore(before: EligibleFactors, after: EligibleFactors, active: readonly ChainFactor[] | undefined): boolean {
  if (before.by === 'types' && after.by === 'types') return after.types.some((t) => !before.types.includes(t));
  if (before.by === 'ids' && after.by === 'ids') return after.ids.some((id) => !before.ids.includes(id));
  // From a list of ids to types: every factor of those types enrolled later is admitted too.
  if (after.by === 'types') return true;
  // From types to ids: weaker if a listed factor was not of an admitted type.
  if (active === undefined) return true;
  const admitted = new Set(eligibleFactors({ eligible: before }, active).map((f) => f.id));
  return after.ids.some((id) => !admitted.has(id));
}

/**
 * What a step-up grant is for: `<area>:<what>` (issue 10: `approve:<requestId>`,
 * `factors:enroll`). A grant serves its own purpose only.
 */
export const stepUpPurposeSchema = z.string().regex(/^[a-z][a-z-]{0,31}:[A-Za-z0-9_.:-]{1,96}$/);

/**
 * The step-ups that change MFA itself (issue 10 "Factor management"; DESIGN.md "Factor methods"):
 * each takes a chain at the critical policy, and its grant serves that one action. A grant earned
 * to disable one factor cannot disable another, nor regenerate the codes.
 */
export const MANAGE = {
  /** Adding a factor, or showing a pending one's QR code again. */
  enroll: 'factors:enroll',
  regenerateCodes: 'backup-codes:regenerate',
  disable: (factorId: string) => `factors:disable:${factorId}`,
  role: (role: Role) => `profile:role:${role}`,
} as const;

const DISABLE_PURPOSE = /^factors:disable:f_[a-z2-7]{16}$/;
const ROLE_PURPOSE = new RegExp(`^profile:role:(${ROLES.join('|')})$`);

/**
 * Setting or changing the Twilio credentials (issue 12) decides where SMS codes go: whoever holds
 * them could read every code sent. It takes a chain at the critical policy, as weakening does.
 */
export const SMS_CONFIGURE_PURPOSE = 'sms:configure';

/**
 * A longer restore-token TTL is a weakening (a stolen token lives longer): it takes a grant for
 * this purpose from a chain at the critical policy. A shorter one takes none.
 */
export const TOKEN_TTL_PURPOSE = 'settings:token-ttl';

/**
 * Where a backup code may stand in for a step (DESIGN.md: "for one TOTP step"): `always`;
 * `never`; or `beside-a-factor`, only in a chain of two steps or more, so that at least one step
 * is an authenticator's.
 */
export type BackupRule = 'always' | 'never' | 'beside-a-factor';

/** How a chain for `purpose` is drawn and what it admits (issue 9 item 4, kept by issue 10). */
export interface StepUpRules {
  /**
   * Changes MFA itself or weakens the desk: a factor still in its recovery delay is not drawn
   * (it has no rights yet), and is refused if it is submitted.
   */
  fullRights: boolean;
  /**
   * Managing factors: the chain is the critical policy's, but never longer than the factors with
   * full rights, so an approver with one factor can add a second, and a recovery factor's owner
   * can always stop it with the factors they hold.
   */
  management: boolean;
  backup: BackupRule;
}

export function stepUpRules(purpose: string): StepUpRules {
  // A backup code is for recovery: it may add a replacement authenticator (which then waits out
  // the recovery delay) but never mint backup codes or change the role.
  if (purpose === MANAGE.enroll) return { fullRights: true, management: true, backup: 'always' };
  if (purpose === MANAGE.regenerateCodes || ROLE_PURPOSE.test(purpose)) return { fullRights: true, management: true, backup: 'never' };
  if (DISABLE_PURPOSE.test(purpose)) return { fullRights: true, management: true, backup: 'beside-a-factor' };
  if (purpose === 'policies:weaken' || purpose === 'incident:leave' || purpose === TOKEN_TTL_PURPOSE || purpose === SMS_CONFIGURE_PURPOSE) return { fullRights: true, management: false, backup: 'beside-a-factor' };
  if (purpose.startsWith('approve:') || purpose.startsWith('test:')) return { fullRights: false, management: false, backup: 'always' };
  // Unknown: fail secure.
  return { fullRights: true, management: false, backup: 'never' };
}

/** Whether a chain of `steps` steps for `purpose` lets a backup code stand in for one of them. */
export function backupAllowed(purpose: string, steps: number): boolean {
  const rule = stepUpRules(purpose).backup;
  switch (rule) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'beside-a-factor':
      return steps >= 2;
    default:
      return assertNever(rule);
  }
}

/**
 * The purposes a chain may be started for from the window or the shell (issue 10): a test of a
 * sensitivity's policy, the step-ups the app asks for. A grant only ever comes from a completed
 * chain, so this list keeps typos and made-up purposes out of the audit log, not attackers out.
 */
export const chainStartPurposeSchema = z.union([
  z.enum(['policies:weaken', 'incident:leave', TOKEN_TTL_PURPOSE, SMS_CONFIGURE_PURPOSE, MANAGE.enroll, MANAGE.regenerateCodes]),
  z.string().regex(DISABLE_PURPOSE),
  z.string().regex(ROLE_PURPOSE),
  z.string().regex(/^test:(low|medium|high|critical)$/),
  z.string().regex(/^approve:[A-Za-z0-9_-]{1,64}$/),
]);
export type ChainStartPurpose = z.infer<typeof chainStartPurposeSchema>;

/** What a step names in place of a factor id when a backup code stands in for it. */
export const BACKUP_STEP = 'backup';
export const stepFactorSchema = z.union([factorIdSchema, z.literal(BACKUP_STEP)]);

/**
 * What the current step asks of the approver (issue 12), answered by `chain:challenge`; never a
 * secret or a code. `code`: type a code of `digits` digits (TOTP: nothing is sent). `sent`: a
 * code of `digits` digits was sent (SMS), another may be asked for at `resendAfter`. `push`: a
 * prompt was raised in the window; `number` is the two digits to find there (number matching),
 * before `expiresAt`; the step is then submitted with that number as its code.
 */
export const factorChallengeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('code'), digits: z.number().int() }),
  z.strictObject({ kind: z.literal('sent'), digits: z.number().int(), resendAfter: z.string() }),
  z.strictObject({ kind: z.literal('push'), number: z.number().int().min(10).max(99), expiresAt: z.string() }),
]);
export type FactorChallenge = z.infer<typeof factorChallengeSchema>;

export const CHAIN_ATTEMPT_STATUSES = ['open', 'completed', 'expired'] as const;

/**
 * A chain attempt as the window and the shell see it: the steps in order (done before
 * `position`, current at it, locked after it) and when it expires. Never a secret or a code.
 */
export const chainAttemptViewSchema = z.strictObject({
  attemptId: z.string(),
  purpose: z.string(),
  sensitivity: sensitivitySchema,
  mode: chainModeSchema,
  steps: z.array(chainFactorSchema),
  position: z.number().int(),
  status: z.enum(CHAIN_ATTEMPT_STATUSES),
  /** Whether a backup code may stand in for a step of this chain (see `backupAllowed`). */
  backupAllowed: z.boolean(),
  backupUsed: z.boolean(),
  expiresAt: z.string(),
});
export type ChainAttemptView = z.infer<typeof chainAttemptViewSchema>;
