import { assertNever } from '../../../../src-shared/assert-never';
import type { FactorParams } from '../../../../src-shared/domain/mfa';
import type { FactorRecord } from '../../../platform/db/repositories/factors.repository';
import type { FactorChallenge, FactorMethods, FactorProvisioning, FactorVerdict } from './factor-method';

/**
 * The factor methods keyed by type, and the one place that picks a factor's method: each switch
 * narrows the factor to its type, so the compiler checks that the method fits it, and `assertNever`
 * breaks the build here when a type is added without its method.
 */
export class FactorMethodRegistry {
  readonly #methods: FactorMethods;

  constructor(methods: FactorMethods) {
    this.#methods = methods;
  }

  enroll(params: FactorParams): { secret: string } {
    switch (params.type) {
      case 'totp':
        return this.#methods.totp.enroll(params);
      default:
        return assertNever(params.type);
    }
  }

  provisioning(factor: FactorRecord, secret: string, principal: string): FactorProvisioning {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.provisioning(factor, secret, principal);
      default:
        return assertNever(factor.type);
    }
  }

  confirm(factor: FactorRecord, code: string): Promise<FactorVerdict> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.confirm(factor, code);
      default:
        return assertNever(factor.type);
    }
  }

  challenge(factor: FactorRecord): Promise<FactorChallenge> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.challenge(factor);
      default:
        return assertNever(factor.type);
    }
  }

  verify(factor: FactorRecord, code: string): Promise<FactorVerdict> {
    switch (factor.type) {
      case 'totp':
        return this.#methods.totp.verify(factor, code);
      default:
        return assertNever(factor.type);
    }
  }
}
