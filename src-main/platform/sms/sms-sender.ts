/**
 * Sending one SMS (issue 12), behind a port like the keychain (STYLE.md rule 6). It resolves with
 * the provider's message id, or rejects with a typed AppError (ERR-SMS-*) whose message and
 * details never hold a credential, the recipient or the body.
 */
export interface SmsSender {
  send(to: string, body: string): Promise<{ sid: string }>;
}
