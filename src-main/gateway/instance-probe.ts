import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { instanceAnswerSchema } from '../../src-shared/domain/restore-request';
import { instanceProof, proofMatches } from '../services/gateway/gateway-proof';

/**
 * Asks whatever holds the gateway port to prove it is a Custodian on this same data directory
 * (issue 9; DESIGN.md "Gateway"): a fresh nonce goes out, and only an HMAC under this database's
 * instance secret comes back right. Answering `"service":"custodian"` on /v1/health proves
 * nothing, since any local user can say that; a Custodian on another data directory cannot
 * answer either, so its requests are never taken for this desk's.
 */
export function proveInstance(port: number, secret: Buffer, timeoutMs = 1500): Promise<boolean> {
  const nonce = randomBytes(32).toString('base64url');
  const body = JSON.stringify({ nonce });
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/auth/instance',
        method: 'POST',
        agent: false,
        headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // A stranger may send anything; a real answer is a few dozen bytes.
          if (text.length < 4096) text += chunk;
        });
        res.on('end', () => {
          try {
            const answer = instanceAnswerSchema.safeParse(JSON.parse(text));
            resolve(
              res.statusCode === 200 &&
                answer.success &&
                proofMatches(instanceProof(secret, { clientNonce: nonce, serverNonce: answer.data.serverNonce, port }), answer.data.proof),
            );
          } catch {
            resolve(false); // Not JSON: not Custodian.
          }
        });
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}
