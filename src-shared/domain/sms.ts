import { z } from 'zod';
import { phoneInputSchema } from './phone';

/**
 * Twilio's account SID: `AC` and 32 hex digits, the pattern of `AccountSid` in Twilio's own
 * OpenAPI description (twilio_api_v2010.json).
 */
export const twilioAccountSidSchema = z.string().trim().regex(/^AC[0-9a-fA-F]{32}$/, 'format');
/** A Twilio auth token is 32 hex digits; anything else is a paste gone wrong (often the SID). */
export const twilioAuthTokenSchema = z.string().trim().regex(/^[0-9a-fA-F]{32}$/, 'format');
/** A Messaging Service SID (`MG` and 32 hex digits): Twilio then picks the sender number. */
export const twilioMessagingServiceSidSchema = z.string().trim().regex(/^MG[0-9a-fA-F]{32}$/, 'format');

/**
 * The sender: an E.164 number on the account, or a Messaging Service. What was typed decides
 * which: `MG…` is a service, anything else must be a phone number.
 */
export const twilioSenderInputSchema = z.string().max(80).pipe(
  z.union([twilioMessagingServiceSidSchema, phoneInputSchema]),
);

export type SmsSenderKind = 'phone' | 'messaging-service';

/**
 * What the window may know about the Twilio settings (issue 12): whether each part is set, the
 * SID's last four characters and the sender masked. Never the auth token, not even masked.
 */
export const smsConfigViewSchema = z.object({
  configured: z.boolean(),
  accountSidLast4: z.string().nullable(),
  senderKind: z.enum(['phone', 'messaging-service']).nullable(),
  senderMasked: z.string().nullable(),
  authTokenSet: z.boolean(),
});
export type SmsConfigView = z.infer<typeof smsConfigViewSchema>;

export const smsTestResultSchema = z.object({
  /** Twilio's message SID (`SM…`): not a secret, it lets the administrator find it in Twilio's log. */
  sid: z.string(),
  toMasked: z.string(),
});
export type SmsTestResult = z.infer<typeof smsTestResultSchema>;
