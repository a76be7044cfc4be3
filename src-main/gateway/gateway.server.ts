import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, httpStatus, isAppError, type ErrorCode, type ErrorDetails } from '../../src-shared/errors';
import {
  challengeBodySchema,
  createRestoreRequestBodySchema,
  idempotencyKeySchema,
  instanceChallengeBodySchema,
  redeemBodySchema,
  requestIdParamsSchema,
  waitQuerySchema,
  type CreateRestoreRequestBody,
  type GatewayStatus,
  type PortHolder,
} from '../../src-shared/domain/restore-request';
import { translator, errorMessage } from '../../src-shared/i18n';
import type { Integration, IntegrationsService } from '../services/gateway/integrations.service';
import { RateLimiter } from '../services/gateway/rate-limiter';
import type { RestoreRequestsService } from '../services/restore/restore-requests.service';
import type { RestoreTokensService } from '../services/tokens/restore-tokens.service';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { APP_VERSION } from '../version';
import { findPortHolder } from '../platform/port-holder';
import { randomNonce } from '../platform/random';
import { instanceProof } from '../services/gateway/gateway-proof';
import { guardConnections } from './connection-guard';
import { proveInstance } from './instance-probe';

declare module 'fastify' {
  interface FastifyRequest {
    integration: Integration | null;
  }
}

/** Issue #5: bodies over 16 KiB are refused. */
export const BODY_LIMIT = 16 * 1024;

export interface GatewayDeps {
  config: Config;
  clock: Clock;
  integrations: IntegrationsService;
  requests: RestoreRequestsService;
  /** Restore tokens (issue 11): handed out on a status read, redeemed here. */
  tokens: RestoreTokensService;
  /** This database's instance secret (migration 004): proves "same data directory" to a second process. */
  instanceSecret: Buffer;
  /**
   * Awaited before a route changes anything (issue 13, item 3): `AuditLog.ready`, which asks the
   * keychain again when it may be gone, so a change is refused (503 ERR-KEYCHAIN-UNAVAILABLE)
   * rather than committed with no anchor, and goes through again once it is back.
   */
  ready?: () => Promise<void>;
}

/** What holds the gateway port, as `custodian doctor` and a second process see it. */
export type PortInspection =
  | { state: 'free' }
  | { state: 'listening' }
  | { state: 'elsewhere' }
  | { state: 'port-in-use'; holder: PortHolder | undefined };

/** Paths a client reaches before it holds a proven connection: no key is asked for on them. */
const OPEN_PATHS = new Set(['GET /v1/health', 'POST /v1/auth/challenge', 'POST /v1/auth/instance']);

const t = translator('en');

/** Every error body is `{"error": {"code", "message"}}` with the contract's status (DESIGN.md "Gateway API (v1)"). */
function sendError(reply: FastifyReply, code: ErrorCode, details?: ErrorDetails): FastifyReply {
  if (code === 'ERR-RATE-LIMITED' && details?.retryAfterSeconds !== undefined) reply.header('retry-after', String(details.retryAfterSeconds));
  return reply
    .code(httpStatus(code))
    .header('cache-control', 'no-store')
    .send({ error: { code, message: errorMessage(t, code, details) } });
}

// Issue 9: how long a socket may take over each part of its life (see #build).
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Bytes node's HTTP parser refused (request smuggling with both Content-Length and
 * Transfer-Encoding, obs-fold, control characters, oversized headers): no request object exists,
 * so the answer is written to the socket by hand, still in the error contract's shape, and the
 * connection is closed. Nothing of what was sent is echoed.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node's own rule: bytes of ours in the middle of a response already on its way would corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // A slowloris that ran out of time gets no answer: it is not reading one.
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'ERR-PAYLOAD-TOO-LARGE' : 'ERR-VALIDATION';
  const status = httpStatus(code);
  const body = errorBody(code, code === 'ERR-VALIDATION' ? { field: 'request' } : undefined);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}

/** An error body in the contract's shape, for answers written outside fastify's reply. */
function errorBody(code: ErrorCode, details?: ErrorDetails): string {
  return JSON.stringify({ error: { code, message: errorMessage(t, code, details) } });
}

/**
 * An `Expect` other than 100-continue. Node answers it itself, before any hook, with a bare 417
 * and no body, which is outside the error contract (found by the fuzz tests of issue 13): it is
 * refused here as a bad header instead, and the connection closed. Nothing of it is echoed.
 */
function answerUnknownExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = errorBody('ERR-VALIDATION', { field: 'Expect' });
  response.writeHead(httpStatus('ERR-VALIDATION'), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(body);
}

/** Fastify's own failures, in the error contract's words; anything unknown is ERR-INTERNAL with no detail. */
function classify(error: FastifyError | Error): { code: ErrorCode; details?: ErrorDetails } {
  if (isAppError(error)) return { code: error.code, ...(error.details ? { details: error.details } : {}) };
  const fastifyCode = (error as FastifyError).code;
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'ERR-PAYLOAD-TOO-LARGE' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'ERR-UNSUPPORTED-MEDIA-TYPE' };
    default:
      break;
  }
  const status = (error as FastifyError).statusCode;
  // Malformed JSON, an empty JSON body, a bad Content-Length, a poisoned prototype: the client's fault.
  if (status !== undefined && status >= 400 && status < 500) return { code: 'ERR-VALIDATION', details: { field: 'body' } };
  return { code: 'ERR-INTERNAL' };
}

/**
 * Route validation fed from the shared zod schemas (STYLE.md rule 2): fastify calls this for
 * each route part; a failure becomes ERR-VALIDATION naming the first bad field.
 */
function zodValidator({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const zodSchema = schema as z.ZodType;
  return (data: unknown) => {
    const parsed = zodSchema.safeParse(data ?? (httpPart === 'body' ? undefined : {}));
    if (parsed.success) return { value: parsed.data };
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    // An unknown field is named too, so a tool author sees which one.
    const field = issue?.code === 'unrecognized_keys' ? issue.keys.join(',') : path;
    return { error: new AppError('ERR-VALIDATION', { field: field === '' ? (httpPart ?? 'request') : field }) };
  };
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * The loopback HTTP server for backup tools (DESIGN.md "Gateway"). Routes map to services and
 * nothing more. Constructing it listens on nothing; `start` does (STYLE.md rule 7).
 */
export class GatewayServer {
  readonly #deps: GatewayDeps;
  readonly #app: FastifyInstance;
  readonly #limiter: RateLimiter;
  #status: GatewayStatus;
  readonly #listeners = new Set<(status: GatewayStatus) => void>();

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#status = { state: 'stopped', port: deps.config.gateway.port };
    this.#limiter = new RateLimiter(deps.clock, deps.config.gateway.rateLimit);
    this.#app = this.#build();
  }

  /** The node:http server underneath, for tests that cut connections as a network would. */
  get nodeServer(): HttpServer {
    return this.#app.server;
  }

  get status(): GatewayStatus {
    return this.#status;
  }

  onStatus(listener: (status: GatewayStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Binds 127.0.0.1 only. A port already held is not a crash: if the holder proves it is a
   * Custodian on this same data directory, the state is `elsewhere`; anything else is
   * `port-in-use` with what can be told of the holder, and the gateway stays off (issue 9), which
   * the desk, `serve` and `custodian doctor` show as ERR-PORT-IN-USE.
   */
  async start(): Promise<GatewayStatus> {
    const { port } = this.#deps.config.gateway;
    try {
      await this.#app.listen({ port, host: '127.0.0.1', listenTextResolver: () => '' });
      this.#set({ state: 'listening', port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const held = await this.#whoHolds(port);
      this.#set(held.state === 'elsewhere' ? { state: 'elsewhere', port } : { state: 'port-in-use', port, ...(held.holder ? { holder: held.holder } : {}) });
    }
    return this.#status;
  }

  /** For `custodian doctor`: whether the port is free, served by this Custodian, or held by something else. */
  async inspectPort(): Promise<PortInspection> {
    if (this.#status.state === 'listening') return { state: 'listening' };
    const { port } = this.#deps.config.gateway;
    return (await portIsFree(port)) ? { state: 'free' } : this.#whoHolds(port);
  }

  async #whoHolds(port: number): Promise<Extract<PortInspection, { state: 'elsewhere' | 'port-in-use' }>> {
    if (await proveInstance(port, this.#deps.instanceSecret)) return { state: 'elsewhere' };
    let holder: PortHolder | undefined;
    try {
      holder = findPortHolder(port) ?? undefined;
    } catch {
      holder = undefined; // A hint for the message only.
    }
    return { state: 'port-in-use', holder };
  }

  /** Answers every long-poll at once (with the current status), then closes every connection. */
  async close(): Promise<void> {
    this.#deps.requests.releaseAll();
    await this.#app.close();
    if (this.#status.state === 'listening') this.#set({ state: 'stopped', port: this.#status.port });
  }

  #set(status: GatewayStatus): void {
    this.#status = status;
    for (const listener of this.#listeners) listener(status);
  }

  #build(): FastifyInstance {
    const { config, integrations, requests, tokens } = this.#deps;
    const allowedHosts = new Set([`127.0.0.1:${config.gateway.port}`, `localhost:${config.gateway.port}`]);
    // DNS rebinding defense (DESIGN.md "Gateway"): a page on evil.example that resolves to
    // 127.0.0.1 still sends its own name in Host. Backup tools send no Origin; browsers always do
    // on cross-origin and POST requests.
    const refusedFor = (request: FastifyRequest): ErrorCode | null => {
      const host = request.headers.host?.toLowerCase();
      if (host === undefined || !allowedHosts.has(host)) return 'ERR-HOST-FORBIDDEN';
      if (request.headers.origin !== undefined) return 'ERR-ORIGIN-FORBIDDEN';
      return null;
    };

    const app = Fastify({
      bodyLimit: BODY_LIMIT,
      logger: false,
      // Long-polls would otherwise hold close() for up to a minute.
      forceCloseConnections: true,
      // Keys never appear in a URL, but an over-long one is refused rather than parsed.
      routerOptions: { maxParamLength: 100 },
      return503OnClosing: true,
      // Issue 9: a socket may not hold a slot forever. A local tool sends a whole request in
      // microseconds; these are generous for it and short for a slowloris.
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      http: {
        headersTimeout: HEADERS_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
        // Node answers a missing Host itself, with an empty 400; the Host check below answers it
        // in the error contract instead.
        requireHostHeader: false,
      },
      // The router's own refusals (a bad percent-encoding, an over-long id) come before any hook:
      // they get the Host check and the error contract here, and never echo the URL.
      frameworkErrors: (error, request, reply) => {
        const refused = refusedFor(request);
        if (refused) return void sendError(reply, refused);
        switch (error.code) {
          case 'FST_ERR_BAD_URL':
            return void sendError(reply, 'ERR-VALIDATION', { field: 'url' });
          case 'FST_ERR_MAX_PARAM_LENGTH':
            // No id that long exists.
            return void sendError(reply, 'ERR-NOT-FOUND');
          default: {
            const { code, details } = classify(error);
            return void sendError(reply, code, details);
          }
        }
      },
      clientErrorHandler: answerClientError,
    });
    guardConnections(app.server, config.gateway.maxConnections);
    app.server.on('checkExpectation', answerUnknownExpectation);
    // JSON only (issue #5): fastify also parses text/plain by default.
    app.removeContentTypeParser('text/plain');
    app.setValidatorCompiler(zodValidator);
    app.decorateRequest('integration', null);

    // A callback hook rather than an async one: every request passes here, and a promise per
    // request is measurable at the gateway's throughput.
    app.addHook('onRequest', (request, reply, done) => {
      const refused = refusedFor(request);
      if (refused) return void sendError(reply, refused);
      if (OPEN_PATHS.has(`${request.method} ${request.url}`)) return done();
      let integration: Integration;
      try {
        integration = integrations.authenticate(bearer(request));
      } catch (error) {
        return done(error instanceof Error ? error : new AppError('ERR-INTERNAL'));
      }
      const allowed = this.#limiter.take(integration.id);
      if (!allowed.ok) return void sendError(reply, 'ERR-RATE-LIMITED', { retryAfterSeconds: allowed.retryAfterSeconds });
      request.integration = integration;
      done();
    });

    app.setErrorHandler((error: FastifyError, _request, reply) => {
      const { code, details } = classify(error);
      return sendError(reply, code, details);
    });
    app.setNotFoundHandler((_request, reply) => sendError(reply, 'ERR-NOT-FOUND'));

    const integrationOf = (request: FastifyRequest): Integration => {
      if (!request.integration) throw new AppError('ERR-AUTH-INVALID-KEY');
      return request.integration;
    };

    app.get('/v1/health', async () => ({ status: 'ok', service: 'custodian', version: APP_VERSION }));

    // The handshake (issue 9): a client proves nothing here and sends nothing secret; the server
    // proves it holds the key's verifier, bound to the client's nonce, its own and this port. The
    // client then sends its key on the same connection, so the answer it trusts comes from the
    // server that proved itself.
    app.post('/v1/auth/challenge', { schema: { body: challengeBodySchema } }, async (request, reply) => {
      const { keyId, nonce } = request.body as z.output<typeof challengeBodySchema>;
      const serverNonce = randomNonce();
      const proof = integrations.proveKeyHolder(keyId, { clientNonce: nonce, serverNonce, port: config.gateway.port });
      return reply.header('cache-control', 'no-store').send({ keyId, serverNonce, proof: proof.toString('base64url') });
    });

    // "Are you a Custodian on this data directory?", asked by a second app, `serve` or `doctor`.
    app.post('/v1/auth/instance', { schema: { body: instanceChallengeBodySchema } }, async (request, reply) => {
      const { nonce } = request.body as z.output<typeof instanceChallengeBodySchema>;
      const serverNonce = randomNonce();
      const proof = instanceProof(this.#deps.instanceSecret, { clientNonce: nonce, serverNonce, port: config.gateway.port });
      return reply.header('cache-control', 'no-store').send({ serverNonce, proof: proof.toString('base64url') });
    });

    app.post('/v1/restore-requests', { schema: { body: createRestoreRequestBodySchema } }, async (request, reply) => {
      // Issue 9: a tool that retries after a reset connection sends the same key and gets the
      // same request back, rather than a second prompt on the desk.
      const rawKey = request.headers['idempotency-key'];
      const idempotencyKey = rawKey === undefined ? undefined : idempotencyKeySchema.safeParse(rawKey);
      if (idempotencyKey && !idempotencyKey.success) throw new AppError('ERR-VALIDATION', { field: 'Idempotency-Key' });
      await this.#deps.ready?.();
      const created = await requests.create(
        integrationOf(request),
        request.body as CreateRestoreRequestBody,
        { ip: request.ip, userAgent: request.headers['user-agent'] },
        idempotencyKey?.data,
      );
      return reply.code(202).header('cache-control', 'no-store').send(created);
    });

    app.get('/v1/restore-requests/:id', { schema: { querystring: waitQuerySchema } }, async (request, reply) => {
      // The key check may have seen a cached row; a status is told only to an integration that
      // is still active now.
      const integration = integrations.current(integrationOf(request).id);
      const params = requestIdParamsSchema.safeParse(request.params);
      if (!params.success) throw new AppError('ERR-NOT-FOUND');
      const { waitSeconds } = request.query as z.output<typeof waitQuerySchema>;
      // The requester hanging up releases its waiter at once rather than at its deadline.
      const hangUp = new AbortController();
      reply.raw.on('close', () => hangUp.abort());
      const status = await requests.waitForChange(integration.id, params.data.id, waitSeconds, hangUp.signal);
      // A requester that hung up meanwhile gets nothing minted: the token is handed out once, and
      // a reply nobody reads would spend it.
      if (status.status !== 'approved' || hangUp.signal.aborted) return reply.header('cache-control', 'no-store').send(status);
      // Handing the token out is an audited change.
      await this.#deps.ready?.();
      const token = tokens.collect(status.id, integration.id);
      return reply.header('cache-control', 'no-store').send(token ? { ...status, ...token } : status);
    });

    // Issue 11: once, within the TTL, for the token's own requester and integration.
    app.post('/v1/restore-tokens/redeem', { schema: { body: redeemBodySchema } }, async (request, reply) => {
      const integration = integrations.current(integrationOf(request).id);
      const { token, requester } = request.body as z.output<typeof redeemBodySchema>;
      await this.#deps.ready?.();
      const redeemed = tokens.redeem(integration, token, requester, { ip: request.ip, userAgent: request.headers['user-agent'] });
      return reply.header('cache-control', 'no-store').send(redeemed);
    });

    return app;
  }
}

/** Whether the gateway could bind its port on loopback right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
