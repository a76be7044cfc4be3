import { request } from 'node:http';

/**
 * Asks whatever holds a port whether it is a Custodian gateway (GET /v1/health), so a second
 * process can say "another Custodian already serves it" instead of failing (DESIGN.md "Several
 * processes, one database"). Anything but Custodian's own health answer is "something else".
 */
export function probeCustodian(port: number, timeoutMs = 1500): Promise<{ custodian: true; version: string } | { custodian: false }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/health', method: 'GET', headers: { host: `127.0.0.1:${port}` }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { service?: unknown; version?: unknown };
            if (res.statusCode === 200 && parsed.service === 'custodian') {
              resolve({ custodian: true, version: typeof parsed.version === 'string' ? parsed.version : '?' });
              return;
            }
          } catch {
            // Not JSON: not Custodian.
          }
          resolve({ custodian: false });
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ custodian: false }));
    req.end();
  });
}
