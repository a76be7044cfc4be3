import { assertNever } from '../../../../src-shared/assert-never';
import type { EnrollParams, FactorParams } from '../../../../src-shared/domain/mfa';
import { FACTOR_TYPES, type FactorType as PlannedType } from '../../../../src-shared/domain/policy';
import { AppError } from '../../../../src-shared/errors';
import type { FactorRecord } from '../../../platform/db/repositories/factors.repository';
import type { FactorChallenge, FactorMethods, FactorProvisioning, FactorVerdict, StepBinding, UncountedOutcome } from './factor-method';

/**
 * The factor methods keyed by type, and the one place that picks a factor's method: each switch
 * narrows the factor to its type, so the compiler checks that the method fits it, and `assertNever`
 * breaks the build here when a type is added without its method.
 *
 * It also knows which methods this desk has turned on (`mfa.methods`, `MFA_METHODS`; issue 12):
 * a method left out cannot be enrolled, and its factors are neither drawn into a chain nor
 * checked by one. The composition root passes the setting; by default every method is on.
 */
export class FactorMethodRegistry {
  readonly #methods: FactorMethods;
  readonly #enabled: ReadonlySet<PlannedType>;

  constructor(methods: FactorMethods, enabled: readonly PlannedType[] = FACTOR_TYPES) {
    this.#methods = methods;
    this.#enabled = new Set(enabled);
  }

  /** Whether `MFA_METHODS` turns this method on (a type without a method here is still refused at enrollment). */
  isEnabled(type: PlannedType): boolean {
    return this.#enabled.has(type);
  }

  /** ERR-MFA-METHOD-DISABLED, naming the method, when `MFA_METHODS` leaves it out. */
  assertEnabled(type: PlannedType): void {
    if (!this.isEnabled(type)) throw new AppError('ERR-MFA-METHOD-DISABLED', { method: type });
  }

  /** The methods turned on, in FACTOR_TYPES' order: what the window shows as available. */
  enabled(): PlannedType[] {
    return FACTOR_TYPES.filter((t) => this.#enabled.has(t));
  }

  enroll(params: EnrollParams): { secret: string; params: FactorParams } {
    switch (params.type) {
      case 'totp':
        return this.#methods.totp.enroll(params);
      case 'sms':
        return this.#methods.sms.enroll(params);
      case 'push':
        return this.#methods.push.enroll(params);
      default:
        return assertNever(params);
    }
  }

  provisioning(factor: FactorRecord, secret: string, principal: string): FactorProvisioning {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.provisioning(factor, secret, principal);
      case 'sms':
        return this.#methods.sms.provisioning(factor, secret, principal);
      case 'push':
        return this.#methods.push.provisioning(factor, secret, principal);
      default:
        return assertNever(factor);
    }
  }

  confirm(factor: FactorRecord, code: string): Promise<FactorVerdict> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.confirm(factor, code);
      case 'sms':
        return this.#methods.sms.confirm(factor, code);
      case 'push':
        return this.#methods.push.confirm(factor, code);
      default:
        return assertNever(factor);
    }
  }

  challenge(factor: FactorRecord, binding: StepBinding): Promise<FactorChallenge> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.challenge(factor, binding);
      case 'sms':
        return this.#methods.sms.challenge(factor, binding);
      case 'push':
        return this.#methods.push.challenge(factor, binding);
      default:
        return assertNever(factor);
    }
  }

  verify(factor: FactorRecord, code: string, attemptId: string | null): Promise<FactorVerdict> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.verify(factor, code, attemptId);
      case 'sms':
        return this.#methods.sms.verify(factor, code, attemptId);
      case 'push':
        return this.#methods.push.verify(factor, code, attemptId);
      default:
        return assertNever(factor);
    }
  }

  forget(factor: FactorRecord): void {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.forget(factor);
      case 'sms':
        return this.#methods.sms.forget(factor);
      case 'push':
        return this.#methods.push.forget(factor);
      default:
        return assertNever(factor);
    }
  }

  withdraw(factor: FactorRecord, attemptId: string): void {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.withdraw(factor, attemptId);
      case 'sms':
        return this.#methods.sms.withdraw(factor, attemptId);
      case 'push':
        return this.#methods.push.withdraw(factor, attemptId);
      default:
        return assertNever(factor);
    }
  }

  uncounted(factor: FactorRecord, attemptId: string | null): UncountedOutcome {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.uncounted(factor, attemptId);
      case 'sms':
        return this.#methods.sms.uncounted(factor, attemptId);
      case 'push':
        return this.#methods.push.uncounted(factor, attemptId);
      default:
        return assertNever(factor);
    }
  }
}
