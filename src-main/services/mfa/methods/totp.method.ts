import type { TotpFactorParams } from '../../../../src-shared/domain/mfa';
import type { Clock } from '../../../clock';
import type { Config } from '../../../config';
import type { Random } from '../../../random';
import type { SecretVault } from '../secret-vault';
import { checkTotp, maskSecret, newTotpSecret, totpUri } from '../totp';
import type { FactorChallenge, FactorMethod, FactorOf, FactorProvisioning, FactorVerdict, UncountedOutcome } from './factor-method';

/** RFC 6238 time-based codes, checked by the pure `checkTotp`, with the secret from the vault. */
export class TotpMethod implements FactorMethod<'totp'> {
  readonly type = 'totp';
  readonly #vault: SecretVault;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #random: Random;

  constructor(deps: { vault: SecretVault; clock: Clock; config: Config; random: Random }) {
    this.#vault = deps.vault;
    this.#clock = deps.clock;
    this.#config = deps.config;
    this.#random = deps.random;
  }

  /** The digits, period and algorithm change nothing in the secret: 160 bits whatever they are. */
  enroll(params: TotpFactorParams): { secret: string; params: TotpFactorParams } {
    return { secret: newTotpSecret(this.#random), params };
  }

  provisioning(factor: FactorOf<'totp'>, secret: string, principal: string): FactorProvisioning {
    const uri = totpUri({ secret, digits: factor.digits, period: factor.period, algorithm: factor.algorithm }, principal, factor.label);
    return { uri, secretMasked: maskSecret(secret) };
  }

  async confirm(factor: FactorOf<'totp'>, code: string): Promise<FactorVerdict> {
    return this.#check(factor, code, -1);
  }

  challenge(factor: FactorOf<'totp'>): Promise<FactorChallenge> {
    return Promise.resolve({ kind: 'code', digits: factor.digits });
  }

  async verify(factor: FactorOf<'totp'>, code: string): Promise<FactorVerdict> {
    return this.#check(factor, code, factor.lastUsedStep);
  }

  /** A code typed by hand: always tried, always counted. */
  uncounted(): UncountedOutcome {
    return null;
  }

  /** Nothing kept outside the factor's row and its keychain secret. */
  forget(): void {
    return;
  }

  /** Nothing is sent for a TOTP step, so nothing waits. */
  withdraw(): void {
    return;
  }

  async #check(factor: FactorOf<'totp'>, code: string, lastUsedStep: number): Promise<FactorVerdict> {
    const secret = await this.#vault.factorSecret(factor.profileId, factor.id);
    const params = { secret, digits: factor.digits, period: factor.period, algorithm: factor.algorithm };
    return checkTotp(params, code, this.#clock.now(), this.#config.mfa.windowSteps, lastUsedStep);
  }
}
