import { createServer } from 'node:net';
import { isAppError, type ErrorCode } from '../../src-shared/errors';
import type { Custodian } from '../composition';
import { probeCustodian } from '../gateway/health-probe';
import { schemaVersion } from '../platform/db/database';
import { describeVerification } from './audit-verdict';

export interface Check {
  name: 'config' | 'database' | 'keychain' | 'audit-anchor' | 'gateway-port';
  ok: boolean;
  detail: string;
  code?: ErrorCode;
}

/** Whether the gateway could bind its port on loopback right now. */
export function probePort(port: number): Promise<{ free: boolean; reason?: string }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ free: false, reason: error.code === 'EADDRINUSE' ? 'in use' : (error.code ?? 'unavailable') });
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve({ free: true }));
    });
  });
}

/** The checks behind `custodian doctor`: each is OK or says why not, none throws. */
export async function runDoctor(custodian: Custodian, message: (code: ErrorCode, details?: Record<string, string | number>) => string): Promise<Check[]> {
  const checks: Check[] = [];
  const { config, db } = custodian;
  checks.push({ name: 'config', ok: true, detail: `data directory ${config.dataDir}` });

  try {
    const quick = db.pragma('quick_check', { simple: true }) as string;
    const journal = db.pragma('journal_mode', { simple: true }) as string;
    const rows = custodian.audit.head()?.id ?? 0;
    checks.push({
      name: 'database',
      ok: quick === 'ok',
      detail: `${db.name} (schema v${schemaVersion(db)}, ${journal}, ${rows} audit rows, integrity ${quick})`,
    });
  } catch {
    checks.push({ name: 'database', ok: false, detail: 'the database cannot be read', code: 'ERR-INTERNAL' });
  }

  try {
    await custodian.secrets.probe();
    checks.push({ name: 'keychain', ok: true, detail: `service "${config.keychain.service}" is reachable and writable` });
  } catch (error) {
    const code: ErrorCode = isAppError(error) ? error.code : 'ERR-KEYCHAIN-UNAVAILABLE';
    checks.push({ name: 'keychain', ok: false, detail: message(code), code });
  }

  // Issue 9: the keychain anchor must vouch for the whole log. An anchor that lags the head means
  // writes to the keychain failed (or another process is mid-write): say so, with the numbers.
  try {
    const verdict = await custodian.audit.verify();
    checks.push({
      name: 'audit-anchor',
      ok: verdict.ok,
      detail: describeVerification(verdict),
      ...(!verdict.ok && verdict.reason === 'anchor-unavailable' ? { code: 'ERR-KEYCHAIN-UNAVAILABLE' as const } : {}),
    });
  } catch {
    checks.push({ name: 'audit-anchor', ok: false, detail: 'the audit log cannot be verified', code: 'ERR-INTERNAL' });
  }

  const port = await probePort(config.gateway.port);
  // A port held by a running Custodian (the app or `custodian serve`) is the gateway doing its
  // job; one held by anything else is the startup error the desk shows (issue #5).
  const holder = port.free ? null : await probeCustodian(config.gateway.port);
  checks.push(
    port.free
      ? { name: 'gateway-port', ok: true, detail: `127.0.0.1:${config.gateway.port} is free` }
      : holder?.custodian
        ? { name: 'gateway-port', ok: true, detail: `127.0.0.1:${config.gateway.port} is served by a running Custodian ${holder.version}` }
        : { name: 'gateway-port', ok: false, detail: message('ERR-PORT-IN-USE', { port: config.gateway.port }), code: 'ERR-PORT-IN-USE' },
  );
  return checks;
}
