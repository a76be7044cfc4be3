import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertNever } from '../../../../src-shared/assert-never';
import type { PushFactorParams } from '../../../../src-shared/domain/mfa';
import { PUSH_CHOICES } from '../../../../src-shared/domain/push';
import { AppError } from '../../../../src-shared/errors';
import type { Clock } from '../../../clock';
import type { Config } from '../../../config';
import type { PushChallengeRecord, PushChallengesRepository } from '../../../platform/db/repositories/push-challenges.repository';
import { randomId } from '../../../platform/random';
import type { Random } from '../../../random';
import type { SecretVault } from '../secret-vault';
import type { FactorChallenge, FactorMethod, FactorOf, FactorProvisioning, FactorVerdict, StepBinding, UncountedOutcome } from './factor-method';

/**
 * Push fatigue (issue 12): at most 5 pushes per 10 minutes per factor, so no one can flood the
 * approver with prompts until one is approved by mistake. A denied push still counts here.
 */
export const PUSHES_PER_WINDOW = 5;
export const PUSH_WINDOW_MS = 10 * 60 * 1000;

export interface PushMethodDeps {
  vault: SecretVault;
  pushes: PushChallengesRepository;
  clock: Clock;
  config: Config;
  random: Random;
  /** Pushes changed in this process (raised, withdrawn): the window should hear now, not on the next commit seen. */
  changed: () => void;
}

/**
 * Push approval (issue 12; Okta Verify's number challenge, Duo's verified push). The Custodian
 * window is the push device. A step raises a push: a row every process on the data directory
 * reads, with three two-digit numbers, of which only the right one's HMAC (under the factor's own
 * key, in the keychain) is stored. Where the step was started shows the right number; the window
 * shows the three, and the approver picks one (`PushService`). The step is then submitted with
 * the number as its code, and `verify` reads the answer: approved (used up once), mismatched,
 * denied, or ignored until the timeout.
 */
export class PushMethod implements FactorMethod<'push'> {
  readonly type = 'push';
  readonly #deps: PushMethodDeps;

  constructor(deps: PushMethodDeps) {
    this.#deps = deps;
  }

  /** A 256-bit HMAC key per factor, for the keychain; nothing else to record. */
  enroll(params: PushFactorParams): { secret: string; params: PushFactorParams } {
    return { secret: this.#deps.random.bytes(32).toString('base64'), params: { type: params.type } };
  }

  /** Nothing to scan or show: the window itself is the device. */
  provisioning(): FactorProvisioning {
    return { uri: '', secretMasked: '' };
  }

  /**
   * Raises a push for the step: the right number and two decoys, all distinct, in a random order,
   * from the Random port. Supersedes the factor's pending push; refused (ERR-MFA-RATE-LIMITED)
   * past the push limit.
   */
  async challenge(factor: FactorOf<'push'>, binding: StepBinding): Promise<FactorChallenge> {
    const { pushes, clock, config, random } = this.#deps;
    const key = await this.#key(factor);
    const numbers: number[] = [];
    while (numbers.length < PUSH_CHOICES) {
      const n = 10 + random.int(90);
      if (!numbers.includes(n)) numbers.push(n);
    }
    const number = numbers[0] as number;
    // Fisher-Yates: the right number is equally likely at each place.
    const choices = [...numbers];
    for (let i = choices.length - 1; i > 0; i -= 1) {
      const j = random.int(i + 1);
      [choices[i], choices[j]] = [choices[j] as number, choices[i] as number];
    }
    const id = randomId('pu', random);
    const now = clock.now();
    const record: PushChallengeRecord = {
      id,
      factorId: factor.id,
      profileId: factor.profileId,
      attemptId: binding.attemptId,
      purpose: binding.purpose,
      sensitivity: binding.sensitivity,
      source: binding.source,
      startedBy: binding.startedBy,
      choices,
      numberMac: mac(key, id, number),
      status: 'pending',
      createdAt: now,
      expiresAt: now + config.mfa.challengeTimeoutSeconds * 1000,
      answeredAt: null,
    };
    const raised = pushes.raise(record, PUSH_WINDOW_MS, PUSHES_PER_WINDOW);
    if (!raised.ok) {
      throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil((raised.oldest + PUSH_WINDOW_MS - now) / 1000)) });
    }
    this.#deps.changed();
    return { kind: 'push', number, expiresAt: new Date(record.expiresAt).toISOString() };
  }

  /** Whether `number` is the push's right one: constant time, under the factor's key. */
  async matches(push: PushChallengeRecord, factor: FactorOf<'push'>, number: number): Promise<boolean> {
    const key = await this.#key(factor);
    const given = mac(key, push.id, number);
    return given.length === push.numberMac.length && timingSafeEqual(given, push.numberMac);
  }

  uncounted(factor: FactorOf<'push'>, attemptId: string | null): UncountedOutcome {
    const { pushes, clock } = this.#deps;
    const push = pushes.latest(factor.id, attemptId);
    if (!push) return null;
    const now = clock.now();
    if (push.status === 'pending' && push.expiresAt > now) return 'pending';
    // Reported once: the step it fails moves it to `used`, and a second submission is a replay.
    if (push.status === 'denied' && pushes.move(push.id, 'denied', 'used', now)) return 'denied';
    return null;
  }

  /** A waiting push of a factor being disabled is withdrawn: the window stops prompting for it. */
  forget(factor: FactorOf<'push'>): void {
    if (this.#deps.pushes.withdraw(factor.id) > 0) this.#deps.changed();
  }

  /**
   * A backup code stood in for the step: its waiting push is withdrawn (the window stops
   * prompting), rather than left to run out and be counted as ignored by the sweep.
   */
  withdraw(factor: FactorOf<'push'>, attemptId: string): void {
    if (this.#deps.pushes.withdrawFor(factor.id, attemptId) > 0) this.#deps.changed();
  }

  confirm(factor: FactorOf<'push'>, code: string): Promise<FactorVerdict> {
    return this.#settle(factor, code, null);
  }

  /** Without a chain attempt (the unlock's single code) a push proves nothing. */
  verify(factor: FactorOf<'push'>, code: string, attemptId: string | null): Promise<FactorVerdict> {
    if (attemptId === null) return Promise.resolve({ ok: false, reason: 'invalid' });
    return this.#settle(factor, code, attemptId);
  }

  /**
   * The answer to the step's newest push. The code is the number shown where the step started:
   * it binds the submission to that very push. Approved is used up once (a guarded UPDATE);
   * mismatched is used up and fails; ignored past its time is expired.
   */
  async #settle(factor: FactorOf<'push'>, code: string, attemptId: string | null): Promise<FactorVerdict> {
    if (!/^\d{2}$/.test(code)) return { ok: false, reason: 'malformed' };
    const { pushes, clock } = this.#deps;
    const push = pushes.latest(factor.id, attemptId);
    if (!push || !(await this.matches(push, factor, Number(code)))) return { ok: false, reason: 'invalid' };
    // Read again after the keychain: the approver may have answered meanwhile.
    const now = clock.now();
    const current = pushes.get(push.id) ?? push;
    switch (current.status) {
      case 'approved':
        // Used up by the caller, in the transaction that records the pass (issue 13).
        return { ok: true, step: null, use: () => pushes.move(current.id, 'approved', 'used', now) };
      case 'mismatched':
        pushes.move(current.id, 'mismatched', 'used', now);
        return { ok: false, reason: 'invalid' };
      case 'pending':
        // Past its time: ignored. Still live: `uncounted` said so before; a submission that
        // skipped it gets a plain failure.
        if (current.expiresAt <= now) {
          pushes.expire(current.id, now);
          return { ok: false, reason: 'expired' };
        }
        return { ok: false, reason: 'invalid' };
      case 'expired':
        return { ok: false, reason: 'expired' };
      case 'denied':
        return { ok: false, reason: 'denied' };
      case 'used':
      case 'superseded':
        return { ok: false, reason: 'replayed' };
      default:
        return assertNever(current.status);
    }
  }

  async #key(factor: FactorOf<'push'>): Promise<Buffer> {
    const key = Buffer.from(await this.#deps.vault.factorSecret(factor.profileId, factor.id), 'base64');
    // Not what enroll stored: the factor cannot be checked (fail closed, as a missing secret).
    if (key.length !== 32) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    return key;
  }
}

function mac(key: Buffer, pushId: string, number: number): Buffer {
  return createHmac('sha256', key).update(`${pushId}:${number}`).digest();
}
