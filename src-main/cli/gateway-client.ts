import { request } from 'node:http';
import { AppError, isErrorCode, type ErrorCode } from '../../src-shared/errors';

export interface GatewayAnswer {
  status: number;
  body: unknown;
}

/** A typed gateway failure: the contract's code, and the server's message (already in words). */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The CLI's side of the Gateway API (DESIGN.md "Gateway API (v1)"): loopback only, the key in the
 * Authorization header (never in a URL or an argument), JSON both ways.
 */
export class GatewayClient {
  readonly #port: number;
  readonly #key: string;

  constructor(port: number, key: string) {
    this.#port = port;
    this.#key = key;
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.#call('POST', path, JSON.stringify(body));
  }

  get(path: string): Promise<unknown> {
    return this.#call('GET', path);
  }

  #call(method: string, path: string, body?: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.#port,
          method,
          path,
          headers: {
            host: `127.0.0.1:${this.#port}`,
            authorization: `Bearer ${this.#key}`,
            'user-agent': 'custodian-cli',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(new AppError('ERR-INTERNAL'));
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(parsed);
              return;
            }
            const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
            const code = isErrorCode(error?.code) ? error.code : 'ERR-INTERNAL';
            const retry = Number(res.headers['retry-after']);
            reject(new GatewayError(code, typeof error?.message === 'string' ? error.message : code, Number.isFinite(retry) ? retry : undefined));
          });
        },
      );
      req.on('error', () => reject(new GatewayUnreachable(this.#port)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

export class GatewayUnreachable extends Error {
  constructor(readonly port: number) {
    super(`no Custodian gateway answers on 127.0.0.1:${port}; start the app or \`custodian serve\``);
  }
}
