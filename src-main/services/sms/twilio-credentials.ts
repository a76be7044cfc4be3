import { z } from 'zod';
import { assertNever } from '../../../src-shared/assert-never';
import { e164Schema, maskPhone } from '../../../src-shared/domain/phone';
import {
  twilioAccountSidSchema,
  twilioAuthTokenSchema,
  twilioMessagingServiceSidSchema,
  type SmsConfigView,
  type SmsSenderKind,
} from '../../../src-shared/domain/sms';
import type { SecretStore } from '../../platform/keychain/secret-store';

/**
 * The keychain account that holds the Twilio credentials (issue 12). One entry for all three, so
 * a change lands whole: a reader never pairs a new SID with the old token.
 */
export const TWILIO_CREDENTIALS_ACCOUNT = 'sms:twilio-credentials';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
  /** An E.164 number or a Messaging Service SID (`MG…`). */
  sender: string;
}

const storedSchema = z.strictObject({
  v: z.literal(1),
  accountSid: twilioAccountSidSchema,
  authToken: twilioAuthTokenSchema,
  sender: z.union([e164Schema, twilioMessagingServiceSidSchema]),
});

export function senderKind(sender: string): SmsSenderKind {
  return sender.startsWith('MG') ? 'messaging-service' : 'phone';
}

/** The sender as the window and the audit log show it: a number masked, a service by its last 4. */
export function maskSender(sender: string): string {
  const kind = senderKind(sender);
  switch (kind) {
    case 'phone':
      return maskPhone(sender);
    case 'messaging-service':
      return `MG…${sender.slice(-4)}`;
    default:
      return assertNever(kind);
  }
}

export function credentialsView(credentials: TwilioCredentials | null): SmsConfigView {
  if (!credentials) return { configured: false, accountSidLast4: null, senderKind: null, senderMasked: null, authTokenSet: false };
  return {
    configured: true,
    accountSidLast4: credentials.accountSid.slice(-4),
    senderKind: senderKind(credentials.sender),
    senderMasked: maskSender(credentials.sender),
    authTokenSet: true,
  };
}

/**
 * The Twilio credentials in the OS keychain, behind the SecretStore port. The database never
 * holds them; only the audit row saying they were set (with the SID's last 4 and the masked
 * sender) goes there.
 */
export class TwilioCredentialsStore {
  readonly #secrets: SecretStore;

  constructor(secrets: SecretStore) {
    this.#secrets = secrets;
  }

  /** The stored credentials, or null when none were entered. */
  async read(): Promise<TwilioCredentials | null> {
    const raw = await this.#secrets.get(TWILIO_CREDENTIALS_ACCOUNT);
    if (raw === null) return null;
    let parsed: z.infer<typeof storedSchema>;
    try {
      parsed = storedSchema.parse(JSON.parse(raw));
    } catch {
      // An entry garbled outside Custodian cannot be trusted to be anyone's credentials: it is
      // treated as none, so the administrator enters them again (nothing is sent meanwhile).
      return null;
    }
    return { accountSid: parsed.accountSid, authToken: parsed.authToken, sender: parsed.sender };
  }

  async write(credentials: TwilioCredentials): Promise<void> {
    const stored: z.infer<typeof storedSchema> = storedSchema.parse({ v: 1, ...credentials });
    await this.#secrets.set(TWILIO_CREDENTIALS_ACCOUNT, JSON.stringify(stored));
  }

  /** Puts back what was there before a write whose audit row could not be committed. */
  async restore(previous: TwilioCredentials | null): Promise<void> {
    if (previous) await this.write(previous);
    else await this.#secrets.delete(TWILIO_CREDENTIALS_ACCOUNT);
  }
}
