import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import { AppError } from '../../../src-shared/errors';

/** What factor management needs from the chain orchestrator: its grants (ChainService has them). */
export interface ManagementGrants {
  hasGrant(purpose: string, atLeast: Sensitivity): boolean;
  takeGrant(purpose: string, atLeast: Sensitivity): { backupUsed: boolean } | null;
}

/**
 * Managing factors (enrolling, disabling, regenerating backup codes, changing the role) takes a
 * step-up chain at the critical policy (issue 10; DESIGN.md "Factor methods"), its grant bound to
 * the one action (`MANAGE` in src-shared/domain/policy.ts). Missing: ERR-MFA-REQUIRED.
 */
export class ManagementGate {
  readonly #grants: ManagementGrants;

  constructor(grants: ManagementGrants) {
    this.#grants = grants;
  }

  /** Refuses before the keychain is touched; the grant is still taken atomically by `take`. */
  precheck(purpose: string): void {
    if (!this.#grants.hasGrant(purpose, 'critical')) throw new AppError('ERR-MFA-REQUIRED');
  }

  /**
   * Uses the grant up. Run it inside the transaction of the change it pays for, so that it is
   * spent only if the change commits, and two windows can never both spend one.
   */
  take(purpose: string): { backupUsed: boolean } {
    const grant = this.#grants.takeGrant(purpose, 'critical');
    if (!grant) throw new AppError('ERR-MFA-REQUIRED');
    return grant;
  }
}
