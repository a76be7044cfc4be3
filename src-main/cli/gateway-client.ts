import { randomBytes } from 'node:crypto';
import { Agent, request, type ClientRequestArgs, type IncomingHttpHeaders } from 'node:http';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { challengeAnswerSchema } from '../../src-shared/domain/restore-request';
import { isErrorCode, type ErrorCode, type ErrorDetails } from '../../src-shared/errors';
import { errorMessage, translator } from '../../src-shared/i18n';
import { keyVerifier, parseIntegrationKey, proofMatches, serverKeyProof, type ParsedKey } from '../services/gateway/gateway-proof';

/**
 * A typed gateway failure: the contract's code, and its message. Before the server has proven
 * itself the message comes from this process's own catalog, since the server's words may be
 * anyone's; after, it is the proven server's (it names the bad field), cut to plain text.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, details?: ErrorDetails, provenMessage?: string) {
    super(provenMessage === undefined ? errorMessage(translator('en'), code, details) : plainText(provenMessage));
    this.code = code;
    this.retryAfterSeconds = typeof details?.retryAfterSeconds === 'number' ? details.retryAfterSeconds : undefined;
  }
}

/** No control, format or bidi character reaches the terminal, and no essay either. */
function plainText(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, '').slice(0, 500);
}

export class GatewayUnreachable extends Error {
  constructor(readonly port: number) {
    super(`no Custodian gateway answers on 127.0.0.1:${port}; start the app or \`custodian serve\``);
  }
}

/**
 * The proven connection closed before an answer came. `sent` says whether the request may have
 * reached the server; a request is sent again on a fresh, proven connection only when that is
 * safe (nothing sent yet, a read, or a POST carrying an Idempotency-Key).
 */
class ConnectionLost extends Error {
  constructor(readonly sent: boolean) {
    super('the gateway connection closed');
  }
}

/**
 * One TCP connection, opened once (issue 9). The handshake proves the server at the far end of
 * this connection; the key then travels only on it. Should it close, the agent will not open a
 * second one behind the client's back: a new connection means a new handshake, because a
 * stranger may have taken the port in between (for instance after crashing Custodian).
 */
class OneConnectionAgent extends Agent {
  #opened = false;

  constructor() {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    if (this.#opened) {
      // Node's agent reads only the error when one is given.
      callback?.(new ConnectionLost(false), undefined as unknown as Duplex);
      return undefined;
    }
    this.#opened = true;
    return createConnection({ host: '127.0.0.1', port: Number(options.port) });
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: unknown;
}

// A real answer is a few hundred bytes; a stranger's may be anything.
const MAX_ANSWER_BYTES = 64 * 1024;
// A stranger may accept the connection and never answer: the handshake does not wait forever.
// But a busy Custodian is slow to answer too, and that is no reason to give up: Node (libuv 1.45
// on) accepts one connection per event-loop turn, so a burst of requesters waits in the kernel's
// accept queue, connected at the TCP level and not yet read, for as many turns as there are
// connections ahead of it. The soak measured 12 s at the median for 500 at once on a loaded
// machine, and the 10 s this was lost every requester still queued. A minute is what the gateway
// grants a long-poll, so a requester already waits that long for an answer.
const HANDSHAKE_TIMEOUT_MS = 60_000;
// A reset connection is retried this many times, after 100, 200, 400... ms.
const MAX_RETRIES = 5;

export interface PostOptions {
  /** Sent as `Idempotency-Key`; makes the POST safe to send again after a reset connection. */
  idempotencyKey?: string;
}

/**
 * The CLI's side of the Gateway API (DESIGN.md "Gateway API (v1)", issue 9): loopback only, JSON
 * both ways, and the key sent only to a server that has just proven it holds the key's verifier,
 * on the connection it proved itself on. The key comes from the environment, never a URL or an
 * argument.
 */
export class GatewayClient {
  readonly #port: number;
  readonly #key: ParsedKey | null;
  #agent: OneConnectionAgent | undefined;
  /** Closed by its owner: a call still running gets no new connection behind the owner's back. */
  #closed = false;

  constructor(port: number, key: string) {
    this.#port = port;
    this.#key = parseIntegrationKey(key);
  }

  post(path: string, body: unknown, options: PostOptions = {}): Promise<unknown> {
    const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
    return this.#call('POST', path, JSON.stringify(body), headers, options.idempotencyKey !== undefined);
  }

  get(path: string): Promise<unknown> {
    return this.#call('GET', path, undefined, {}, true);
  }

  /**
   * Closes the proven connection for good, as the requester hanging up: a call still waiting
   * fails rather than reconnecting and asking again, and later calls are refused.
   */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  #drop(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  async #call(method: string, path: string, body: string | undefined, headers: Record<string, string>, safeToRepeat: boolean): Promise<unknown> {
    const key = this.#key;
    // A malformed key has no id to ask about: nothing is sent at all.
    if (!key) throw new GatewayError('ERR-AUTH-INVALID-KEY');
    for (let attempt = 0; ; attempt += 1) {
      if (this.#closed) throw new GatewayUnreachable(this.#port);
      try {
        if (!this.#agent) {
          const agent = await this.#prove(key);
          if (this.#closed) {
            agent.destroy();
            throw new GatewayUnreachable(this.#port);
          }
          this.#agent = agent;
        }
        const answer = await exchange(this.#agent, this.#port, method, path, body, { ...headers, authorization: `Bearer ${key.key}` });
        return interpret(answer);
      } catch (error) {
        if (!(error instanceof ConnectionLost)) throw error;
        this.#drop();
        if ((error.sent && !safeToRepeat) || attempt >= MAX_RETRIES) throw new GatewayUnreachable(this.#port);
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /**
   * The handshake: the key's public id and a fresh nonce out; the server's nonce and its proof
   * back, checked in constant time. Anything else and the connection is dropped before the key
   * is written to it.
   */
  async #prove(key: ParsedKey): Promise<OneConnectionAgent> {
    const agent = new OneConnectionAgent();
    const nonce = randomBytes(32).toString('base64url');
    let answer: Answer;
    try {
      answer = await exchange(agent, this.#port, 'POST', '/v1/auth/challenge', JSON.stringify({ keyId: key.id, nonce }), {}, HANDSHAKE_TIMEOUT_MS);
    } catch (error) {
      agent.destroy();
      throw error;
    }
    const parsed = challengeAnswerSchema.safeParse(answer.json);
    const proven =
      answer.status === 200 &&
      parsed.success &&
      parsed.data.keyId === key.id &&
      proofMatches(serverKeyProof(keyVerifier(key.key), key.id, { clientNonce: nonce, serverNonce: parsed.data.serverNonce, port: this.#port }), parsed.data.proof);
    if (proven) return agent;
    agent.destroy();
    // A dead key is worth saying so; the code alone is taken from an unproven answer, never its words.
    if (answer.status === 401 && errorCodeOf(answer.json) === 'ERR-AUTH-INVALID-KEY') throw new GatewayError('ERR-AUTH-INVALID-KEY');
    throw new GatewayError('ERR-GATEWAY-UNVERIFIED', { port: this.#port });
  }
}

function errorCodeOf(json: unknown): ErrorCode | undefined {
  const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
  return isErrorCode(code) ? code : undefined;
}

/** An answer of the proven server: its body, or its typed error. */
function interpret(answer: Answer): unknown {
  if (answer.status >= 200 && answer.status < 300) return answer.json;
  const code = errorCodeOf(answer.json);
  if (!code) throw new GatewayError('ERR-INTERNAL');
  const retry = Number(answer.headers['retry-after']);
  const text = (answer.json as { error?: { message?: unknown } }).error?.message;
  throw new GatewayError(code, Number.isFinite(retry) ? { retryAfterSeconds: retry } : undefined, typeof text === 'string' ? text : undefined);
}

/** One request on the agent's connection; a non-JSON answer is ERR-INTERNAL. */
function exchange(agent: Agent, port: number, method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = false;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          host: `127.0.0.1:${port}`,
          'user-agent': 'custodian-cli',
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
        ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy();
            reject(new GatewayError('ERR-INTERNAL'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', () => reject(new ConnectionLost(true)));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new GatewayError('ERR-INTERNAL'));
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on('socket', () => {
      sent = true;
    });
    req.on('timeout', () => req.destroy(new GatewayUnreachable(port)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof ConnectionLost || error instanceof GatewayUnreachable || error instanceof GatewayError) reject(error);
      else if (error.code === 'ECONNREFUSED') reject(new GatewayUnreachable(port));
      else reject(new ConnectionLost(sent));
    });
    req.end(body);
  });
}
