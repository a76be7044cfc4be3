import type TwilioSdk from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import { AppError, isAppError } from '../../../src-shared/errors';
import type { TwilioCredentials } from '../../services/sms/twilio-credentials';
import type { SmsSender } from './sms-sender';

/** Where the `twilio` package sends every REST call (Twilio's own servers entry in its OpenAPI). */
export const TWILIO_API_ORIGIN = 'https://api.twilio.com';

/** Twilio's error codes that mean something to the approver (twilio.com/docs/api/errors). */
const TWILIO_AUTHENTICATE = 20003;
const TWILIO_INVALID_TO = 21211;

type TwilioModule = typeof TwilioSdk;
type RequestClientType = InstanceType<TwilioModule['RequestClient']>;

/**
 * The `twilio` package is loaded at the first send, not at startup: it costs about 0.3 s to load,
 * and the CLI (one process per command, many per script) and the gateway never send an SMS.
 */
let loaded: Promise<TwilioModule> | undefined;
export function loadTwilio(): Promise<TwilioModule> {
  loaded ??= import('twilio').then((module) => ('default' in module ? (module.default as TwilioModule) : module));
  return loaded;
}

/**
 * The `twilio` package's own HTTP client, with one change (issue 12): a request for
 * `https://api.twilio.com` goes to the configured base instead (a stand-in on loopback, a proxy).
 * Anything else is refused before a byte leaves: every request carries the auth token, so it
 * only ever goes where the administrator pointed it.
 */
export async function rebasedRequestClient(baseUrl: string, options: { timeoutMs: number }): Promise<RequestClientType> {
  const twilio = await loadTwilio();
  const base = new URL(baseUrl);
  class RebasedRequestClient extends twilio.RequestClient {
    override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
      const target = new URL(opts.uri);
      if (target.origin !== TWILIO_API_ORIGIN) return Promise.reject(new AppError('ERR-SMS-UNAVAILABLE'));
      const basePath = base.pathname.replace(/\/+$/, '');
      const rebased = new URL(`${basePath}${target.pathname}${target.search}`, base.origin);
      return super.request<TData>({ ...opts, uri: rebased.href });
    }
  }
  // No keep-alive: a send is rare, and an idle pooled socket would only hold the process open.
  return new RebasedRequestClient({ timeout: options.timeoutMs, keepAlive: false });
}

export interface TwilioSmsSenderOptions {
  /** `sms.twilioBaseUrl`: Twilio's own API unless a stand-in or a proxy is configured. */
  baseUrl: string;
  /** `sms.timeoutMs`: a call silent this long is ERR-SMS-UNAVAILABLE. */
  timeoutMs: number;
  /** Read at each send, so a change on the Settings screen applies to the next message. */
  credentials: () => Promise<TwilioCredentials | null>;
}

/**
 * Sends an SMS with Twilio's official `twilio` package (Messages API,
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`). Every failure becomes an ERR-SMS-*
 * AppError built from Twilio's numeric code and the HTTP status only: Twilio's own message
 * (which repeats the number) and the client's error (whose request config holds the
 * Authorization header and the body) never leave this function.
 */
export class TwilioSmsSender implements SmsSender {
  readonly #options: TwilioSmsSenderOptions;
  #http: Promise<RequestClientType> | undefined;

  constructor(options: TwilioSmsSenderOptions) {
    this.#options = options;
  }

  async send(to: string, body: string): Promise<{ sid: string }> {
    const credentials = await this.#options.credentials();
    if (!credentials) throw new AppError('ERR-SMS-NOT-CONFIGURED');
    const twilio = await loadTwilio();
    this.#http ??= rebasedRequestClient(this.#options.baseUrl, { timeoutMs: this.#options.timeoutMs });
    const client = twilio(credentials.accountSid, credentials.authToken, {
      httpClient: await this.#http,
      timeout: this.#options.timeoutMs,
      // Never the debug log: it prints the request's parameters, the code among them.
      logLevel: 'info',
      // The client reads these from the environment too; a region or edge would change the host
      // name away from the one the rebasing client accepts.
      env: {},
    });
    client.region = undefined;
    client.edge = undefined;
    const sender = credentials.sender.startsWith('MG') ? { messagingServiceSid: credentials.sender } : { from: credentials.sender };
    try {
      const message = await client.messages.create({ to, body, ...sender });
      if (typeof message.sid !== 'string' || !/^(SM|MM)[0-9a-fA-F]{32}$/.test(message.sid)) throw new AppError('ERR-SMS-UNAVAILABLE');
      return { sid: message.sid };
    } catch (error) {
      throw smsError(error, twilio);
    }
  }
}

/** Twilio's answer or the network's failure, as a typed error with nothing sensitive in it. */
export function smsError(error: unknown, twilio: TwilioModule): AppError {
  if (isAppError(error)) return error;
  if (error instanceof twilio.RestException) {
    const status = typeof error.status === 'number' ? error.status : 0;
    const code = typeof error.code === 'number' ? error.code : 0;
    if (code === TWILIO_AUTHENTICATE || status === 401) return new AppError('ERR-SMS-AUTH');
    if (code === TWILIO_INVALID_TO) return new AppError('ERR-SMS-INVALID-NUMBER');
    // Twilio down, overloaded or rate-limiting: nothing was sent, trying later may work.
    if (status >= 500 || status === 429 || status < 400) return new AppError('ERR-SMS-UNAVAILABLE');
    return new AppError('ERR-SMS-REJECTED', { twilioCode: code });
  }
  // Refused, reset, timed out, no route, a TLS failure: the axios error under the client holds
  // the request (credentials, body), so only the verdict leaves.
  return new AppError('ERR-SMS-UNAVAILABLE');
}
