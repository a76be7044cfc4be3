import { createHmac, timingSafeEqual } from 'node:crypto';
import { maskPhone } from '../../../../src-shared/domain/phone';
import { SMS_CODE_DIGITS, type EnrollParamsOf, type SmsFactorParams } from '../../../../src-shared/domain/mfa';
import { AppError } from '../../../../src-shared/errors';
import { translator, type Language } from '../../../../src-shared/i18n';
import type { Clock } from '../../../clock';
import type { Config } from '../../../config';
import type { SmsCodesRepository } from '../../../platform/db/repositories/sms-codes.repository';
import type { SmsSender } from '../../../platform/sms/sms-sender';
import type { Random } from '../../../random';
import type { SecretVault } from '../secret-vault';
import type { FactorChallenge, FactorMethod, FactorOf, FactorProvisioning, FactorVerdict, UncountedOutcome } from './factor-method';

/** Issue 12: at most 3 sends per 10 minutes per factor. */
export const SMS_SENDS_PER_WINDOW = 3;
export const SMS_SEND_WINDOW_MS = 10 * 60 * 1000;
/**
 * The resend countdown the prompt shows after a send: long enough for the message to arrive
 * before the approver asks again. A hint for the screen; the limit above is what is enforced.
 */
export const SMS_RESEND_AFTER_MS = 30 * 1000;

/** What the keychain holds for an SMS factor: its HMAC key and the number (kept out of the database). */
interface SmsSecret {
  key: string;
  phone: string;
}

export interface SmsMethodDeps {
  vault: SecretVault;
  codes: SmsCodesRepository;
  sender: SmsSender;
  clock: Clock;
  config: Config;
  random: Random;
  /** The approver's language, for the message text. */
  language: () => Language;
}

/**
 * SMS codes (issue 12; NIST SP 800-63B §5.1.3.3 calls SMS a restricted authenticator). Each send
 * draws 6 digits from the Random port and stores only HMAC-SHA256 under the factor's own key,
 * which lives in the keychain with the number. Unlike TOTP, a code is one-time by itself: `verify`
 * and `confirm` use it up with a guarded UPDATE (the seam's "changes nothing" cannot hold for a
 * code that must be accepted once), so the chain's floor moving by one is only bookkeeping.
 */
export class SmsMethod implements FactorMethod<'sms'> {
  readonly type = 'sms';
  readonly #deps: SmsMethodDeps;

  constructor(deps: SmsMethodDeps) {
    this.#deps = deps;
  }

  /** A 256-bit HMAC key per factor, and the number, both for the keychain; only the mask is recorded. */
  enroll(params: EnrollParamsOf<'sms'>): { secret: string; params: SmsFactorParams } {
    const secret: SmsSecret = { key: this.#deps.random.bytes(32).toString('base64'), phone: params.phone };
    return { secret: JSON.stringify(secret), params: { type: 'sms', phoneMasked: maskPhone(params.phone) } };
  }

  /** Nothing to scan: the number, masked, stands where TOTP shows its masked secret. */
  provisioning(factor: FactorOf<'sms'>): FactorProvisioning {
    return { uri: '', secretMasked: factor.phoneMasked };
  }

  confirm(factor: FactorOf<'sms'>, code: string): Promise<FactorVerdict> {
    return this.#use(factor, code);
  }

  verify(factor: FactorOf<'sms'>, code: string): Promise<FactorVerdict> {
    return this.#use(factor, code);
  }

  /** A code typed by hand: always tried, always counted. */
  uncounted(): UncountedOutcome {
    return null;
  }

  /**
   * A texted code waits for nobody: it lapses by itself, and the send count stays (it bounds what
   * texts cost, whatever the step's outcome).
   */
  withdraw(): void {
    return;
  }

  /** The last code's HMAC and the send count go with the factor. */
  forget(factor: FactorOf<'sms'>): void {
    this.#deps.codes.forget(factor.id);
  }

  /**
   * Sends a new code. The send is counted first (one guarded INSERT, so two processes cannot pass
   * the limit together); a send Twilio refuses is uncounted again and its ERR-SMS-* error goes
   * to the caller as it is. The code's HMAC is stored only once Twilio took the message, so a
   * failed send leaves the previous code as it was.
   */
  async challenge(factor: FactorOf<'sms'>): Promise<FactorChallenge> {
    const { codes, clock } = this.#deps;
    const secret = await this.#secret(factor);
    const now = clock.now();
    const reservation = codes.reserveSend(factor.id, now, SMS_SEND_WINDOW_MS, SMS_SENDS_PER_WINDOW);
    if (!reservation.ok) {
      const retryAfterSeconds = Math.max(1, Math.ceil((reservation.oldest + SMS_SEND_WINDOW_MS - now) / 1000));
      throw new AppError('ERR-MFA-RATE-LIMITED', { retryAfterSeconds });
    }
    const code = this.#draw();
    const body = translator(this.#deps.language())('sms.codeBody', { code });
    try {
      await this.#deps.sender.send(secret.phone, body);
    } catch (error) {
      codes.releaseSend(reservation.id);
      throw error;
    }
    const sentAt = clock.now();
    codes.put(factor.id, mac(secret.key, code), sentAt + this.#deps.config.mfa.challengeTimeoutSeconds * 1000);
    // The limit's window frees a send when its oldest send leaves it.
    const windowFree = reservation.sentInWindow >= SMS_SENDS_PER_WINDOW ? reservation.oldest + SMS_SEND_WINDOW_MS : 0;
    const resendAfter = Math.max(sentAt + SMS_RESEND_AFTER_MS, windowFree);
    return { kind: 'sent', digits: SMS_CODE_DIGITS, resendAfter: new Date(resendAfter).toISOString() };
  }

  async #use(factor: FactorOf<'sms'>, code: string): Promise<FactorVerdict> {
    if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
    const secret = await this.#secret(factor);
    const stored = this.#deps.codes.get(factor.id);
    if (!stored) return { ok: false, reason: 'invalid' };
    const given = mac(secret.key, code);
    // Constant time: the stored HMAC is compared whole whatever the code (STYLE.md rule 8).
    if (stored.mac.length !== given.length || !timingSafeEqual(stored.mac, given)) return { ok: false, reason: 'invalid' };
    const now = this.#deps.clock.now();
    // The right code, but used already (here or by another process) or past its timeout.
    if (stored.usedAt !== null) return { ok: false, reason: 'replayed' };
    if (stored.expiresAt <= now) return { ok: false, reason: 'invalid' };
    // Used up by the caller, in the transaction that records the pass (issue 13): the guarded
    // UPDATE lets one caller of any process have it.
    return { ok: true, step: null, use: () => this.#deps.codes.use(factor.id, given, now) };
  }

  #draw(): string {
    let code = '';
    for (let i = 0; i < SMS_CODE_DIGITS; i += 1) code += String(this.#deps.random.int(10));
    return code;
  }

  async #secret(factor: FactorOf<'sms'>): Promise<SmsSecret> {
    const raw = await this.#deps.vault.factorSecret(factor.profileId, factor.id);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = null;
    }
    const secret = parsed as Partial<SmsSecret> | null;
    // Not what enroll stored: the factor cannot be checked (fail closed, as a missing secret).
    if (typeof secret?.key !== 'string' || typeof secret.phone !== 'string') throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    return { key: secret.key, phone: secret.phone };
  }
}

function mac(key: string, code: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(code).digest();
}
