import {
  defaultPolicy,
  eligibleFactors,
  policySchema,
  stepUpRules,
  weakenings,
  type ChainFactor,
  type Policy,
} from '../../../src-shared/domain/policy';
import { SENSITIVITIES, type Sensitivity } from '../../../src-shared/domain/restore-request';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { PoliciesRepository } from '../../platform/db/repositories/policies.repository';
import type { AuditLog } from '../audit/audit.service';

/** The approver's active factors, as the factor seam lists them (never a secret). */
export interface ActiveFactors {
  list(): ChainFactor[];
  /** Those with full rights: all but a recovery factor still in its delay (issue 9, item 4). */
  withFullRights(): ChainFactor[];
}

/**
 * Uses up a step-up grant for `purpose` earned by a chain at `sensitivity` or above; false when
 * there is none. ChainService implements it.
 */
export interface StepUpGrants {
  consumeGrant(purpose: string, atLeast: Sensitivity): boolean;
}

/** Who is acting and from where; recorded in the audit rows. */
export interface ActorContext {
  /** The principal (`alice@corp`), or `system`. */
  actor: string;
  /** `desktop`, `cli`. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

/**
 * Making a policy weaker takes a grant for this purpose from a chain at the critical policy
 * (issue 10 "Policies"), the policy as it stands before the change.
 */
export const POLICY_WEAKEN_PURPOSE = 'policies:weaken';

export interface PolicyServiceDeps {
  repo: PoliciesRepository;
  audit: AuditLog;
  clock: Clock;
  config: Config;
  factors: ActiveFactors;
  grants: StepUpGrants;
}

/** One policy per sensitivity (issue 10): read, checked against the factors, saved with an audit row. */
export class PolicyService {
  readonly #repo: PoliciesRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #factors: ActiveFactors;
  readonly #grants: StepUpGrants;

  constructor(deps: PolicyServiceDeps) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#config = deps.config;
    this.#factors = deps.factors;
    this.#grants = deps.grants;
  }

  /** The saved policy, or the default with the configured challenge timeout (`MFA_TIMEOUT_SECONDS`). */
  get(sensitivity: Sensitivity): Policy {
    return this.#repo.get(sensitivity) ?? defaultPolicy(sensitivity, this.#config.mfa.challengeTimeoutSeconds);
  }

  list(): Policy[] {
    return SENSITIVITIES.map((s) => this.get(s));
  }

  /** The active factors the policy admits, in chain order. */
  eligible(policy: Policy): ChainFactor[] {
    return eligibleFactors(policy, this.#factors.list());
  }

  /**
   * The policy and the factors a chain for `purpose` at `sensitivity` is drawn from, by the
   * purpose's rules (`stepUpRules`): a chain that changes MFA itself draws only from factors with
   * full rights; one that manages factors is never longer than those factors, so an approver
   * with one factor can add a second and the owner of a recovery factor can always stop it.
   * Otherwise refused with ERR-MFA-POLICY-UNSATISFIABLE when too few factors are eligible.
   */
  chainFor(purpose: string, sensitivity: Sensitivity): { policy: Policy; eligible: ChainFactor[] } {
    const rules = stepUpRules(purpose);
    const policy = this.get(sensitivity);
    const eligible = eligibleFactors(policy, rules.fullRights ? this.#factors.withFullRights() : this.#factors.list());
    if (rules.management && eligible.length > 0 && eligible.length < policy.requiredSteps) {
      return { policy: { ...policy, requiredSteps: eligible.length }, eligible };
    }
    if (eligible.length < policy.requiredSteps) {
      throw new AppError('ERR-MFA-POLICY-UNSATISFIABLE', { required: policy.requiredSteps, eligible: eligible.length });
    }
    return { policy, eligible };
  }

  /**
   * The hook for disabling a factor (issue 10): refused with ERR-MFA-POLICY-UNSATISFIABLE when a
   * policy that can be met now could not be met without `factorId`. A policy already unmet is
   * left out: disabling a factor does not make it worse.
   */
  assertCanDisable(factorId: string): void {
    const active = this.#factors.list();
    const without = active.filter((f) => f.id !== factorId);
    for (const policy of this.list()) {
      const now = eligibleFactors(policy, active).length;
      const after = eligibleFactors(policy, without).length;
      if (now >= policy.requiredSteps && after < policy.requiredSteps) {
        throw new AppError('ERR-MFA-POLICY-UNSATISFIABLE', { required: policy.requiredSteps, eligible: after });
      }
    }
  }

  /**
   * Saves a policy. Bad input is ERR-VALIDATION, an unsatisfiable one ERR-MFA-POLICY-UNSATISFIABLE;
   * a weaker one (see `weakenings`) uses up a grant for POLICY_WEAKEN_PURPOSE from a critical
   * chain in the same transaction, or is refused with ERR-MFA-REQUIRED. Nothing changes on a
   * refusal. The audit row carries the policy before and after.
   */
  save(input: unknown, ctx: ActorContext): Policy {
    const parsed = policySchema.safeParse(input);
    if (!parsed.success) throw new AppError('ERR-VALIDATION', { field: parsed.error.issues[0]?.path.join('.') || 'policy' });
    const after = parsed.data;
    const active = this.#factors.list();
    const eligible = eligibleFactors(after, active);
    if (eligible.length < after.requiredSteps) {
      throw new AppError('ERR-MFA-POLICY-UNSATISFIABLE', { required: after.requiredSteps, eligible: eligible.length });
    }
    return this.#audit.transact(() => {
      // Read inside the write transaction: a change saved meanwhile by another process is the
      // "before" this one is judged against.
      const before = this.get(after.sensitivity);
      const weaker = weakenings(before, after, active);
      if (weaker.length > 0 && !this.#grants.consumeGrant(POLICY_WEAKEN_PURPOSE, 'critical')) {
        throw new AppError('ERR-MFA-REQUIRED');
      }
      this.#repo.put(after, this.#clock.now());
      this.#audit.append({
        event: 'mfa_policy_changed',
        actor: ctx.actor,
        subject: after.sensitivity,
        sourceIp: ctx.sourceIp ?? null,
        userAgent: ctx.userAgent ?? null,
        data: {
          sensitivity: after.sensitivity,
          before: JSON.stringify(before),
          after: JSON.stringify(after),
          weaker: weaker.join(',') || null,
          source: ctx.source,
        },
      });
      return after;
    });
  }
}
