import { AppError, isAppError } from '../../../src-shared/errors';
import { maskPhone } from '../../../src-shared/domain/phone';
import { SMS_CONFIGURE_PURPOSE } from '../../../src-shared/domain/policy';
import type { SmsConfigView, SmsTestResult } from '../../../src-shared/domain/sms';
import { translator, type Language } from '../../../src-shared/i18n';
import type { SmsSender } from '../../platform/sms/sms-sender';
import type { AuditLog } from '../audit/audit.service';
import { credentialsView, maskSender, senderKind, type TwilioCredentials, type TwilioCredentialsStore } from './twilio-credentials';

export interface SmsServiceDeps {
  credentials: TwilioCredentialsStore;
  sender: SmsSender;
  audit: AuditLog;
  /** The approver's language: the test message is written in it. */
  language: () => Language;
  /** The chain's step-up grants: changing the credentials takes one (`sms:configure`). */
  grants: { consumeGrant(purpose: string, atLeast: 'critical'): boolean };
}

export interface SmsConfigInput {
  accountSid: string;
  /** Absent: keep the saved token (only for the same account). The window never reads it back. */
  authToken?: string | undefined;
  /** E.164, or a Messaging Service SID. */
  sender: string;
}

/**
 * The Twilio settings and "Send a test message" (issue 12). The credentials live in the keychain;
 * the database only learns that they were set or changed (the SID's last 4, the sender masked).
 */
export class SmsService {
  readonly #deps: SmsServiceDeps;
  /** Saves run one at a time: two racing saves must not interleave their read and write. */
  #saving: Promise<unknown> = Promise.resolve();

  constructor(deps: SmsServiceDeps) {
    this.#deps = deps;
  }

  async config(): Promise<SmsConfigView> {
    return credentialsView(await this.#deps.credentials.read());
  }

  setConfig(input: SmsConfigInput, actor: string): Promise<SmsConfigView> {
    const run = this.#saving.then(
      () => this.#save(input, actor),
      () => this.#save(input, actor),
    );
    this.#saving = run.catch(() => undefined);
    return run;
  }

  async #save(input: SmsConfigInput, actor: string): Promise<SmsConfigView> {
    // Whoever holds the credentials could read every code sent: a grant from a critical chain
    // for `sms:configure` is used up first, before anything is read or written (fail closed: a
    // refusal below spends it too).
    if (!this.#deps.grants.consumeGrant(SMS_CONFIGURE_PURPOSE, 'critical')) throw new AppError('ERR-MFA-REQUIRED');
    const store = this.#deps.credentials;
    const previous = await store.read();
    let authToken = input.authToken;
    if (authToken === undefined) {
      // A token belongs to its account: keeping it is only possible for the same SID.
      if (!previous || previous.accountSid !== input.accountSid) throw new AppError('ERR-VALIDATION', { field: 'authToken' });
      authToken = previous.authToken;
    }
    const next: TwilioCredentials = { accountSid: input.accountSid, authToken, sender: input.sender };
    if (previous && previous.accountSid === next.accountSid && previous.sender === next.sender && previous.authToken === next.authToken) {
      return credentialsView(previous);
    }
    await store.write(next);
    try {
      this.#deps.audit.record({
        event: previous ? 'sms_credentials_changed' : 'sms_credentials_set',
        actor,
        subject: 'twilio',
        data: {
          accountSidLast4: next.accountSid.slice(-4),
          sender: maskSender(next.sender),
          senderKind: senderKind(next.sender),
          tokenReplaced: previous !== null && previous.authToken !== next.authToken,
        },
      });
    } catch (error) {
      // No audit row, no change (fail closed): the keychain gets back what it held.
      await store.restore(previous).catch(() => undefined);
      throw error;
    }
    return credentialsView(next);
  }

  /** Sends a fixed text (no code) to `to`, so the administrator sees the settings work. */
  async sendTest(to: string, actor: string): Promise<SmsTestResult> {
    const toMasked = maskPhone(to);
    const body = translator(this.#deps.language())('sms.testBody');
    try {
      const { sid } = await this.#deps.sender.send(to, body);
      this.#deps.audit.record({ event: 'sms_test_sent', actor, subject: 'twilio', data: { to: toMasked, messageSid: sid } });
      return { sid, toMasked };
    } catch (error) {
      const failure = isAppError(error) ? error : new AppError('ERR-SMS-UNAVAILABLE');
      this.#deps.audit.record({ event: 'sms_test_failed', actor, subject: 'twilio', data: { to: toMasked, error: failure.code } });
      throw failure;
    }
  }
}
