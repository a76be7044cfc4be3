import { isAppError, type ErrorCode } from '../../src-shared/errors';
import type { Custodian } from '../composition';
import { describePortHolder, type PortHolder } from '../../src-shared/domain/restore-request';
import { translator } from '../../src-shared/i18n';
import { schemaVersion } from '../platform/db/database';
import { describeVerification } from './audit-verdict';

export interface Check {
  name: 'config' | 'database' | 'keychain' | 'factor-secrets' | 'audit-anchor' | 'state-seals' | 'gateway-port';
  ok: boolean;
  detail: string;
  code?: ErrorCode;
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

  // Issue 13: an active factor whose secret is gone from the keychain can verify nothing.
  try {
    const missing = await custodian.mfa.missingSecrets();
    checks.push(
      missing.length === 0
        ? { name: 'factor-secrets', ok: true, detail: 'every active factor has its secret in the keychain' }
        : { name: 'factor-secrets', ok: false, detail: `${message('ERR-MFA-SECRET-MISSING')} (${missing.join(', ')})`, code: 'ERR-MFA-SECRET-MISSING' },
    );
  } catch (error) {
    const code: ErrorCode = isAppError(error) ? error.code : 'ERR-KEYCHAIN-UNAVAILABLE';
    checks.push({ name: 'factor-secrets', ok: false, detail: message(code), code });
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

  // Issue 13: every sealed security-state row against its MAC, each set seal against its rows, and
  // the root against the seals; each finding names its table and row (a profile, a factor, a code).
  const sealed = await custodian.integrity.check();
  if (!sealed.ok) {
    checks.push({ name: 'state-seals', ok: false, detail: message(sealed.error.code, sealed.error.details), code: sealed.error.code });
  } else if (sealed.findings.length === 0) {
    checks.push({ name: 'state-seals', ok: true, detail: 'every sealed security-state row matches its MAC' });
  } else {
    const [first] = sealed.findings;
    const named = sealed.findings.map((f) => `${f.table} ${f.row}`).join(', ');
    checks.push({
      name: 'state-seals',
      ok: false,
      detail: `${message('ERR-STATE-TAMPERED', first ? { table: first.table, row: first.row } : undefined)} Changed: ${named}`,
      code: 'ERR-STATE-TAMPERED',
    });
  }

  // A port held by a Custodian that proves it serves this data directory (the app or `custodian
  // serve`) is the gateway doing its job; anything else holding it is the startup error the desk
  // shows, with what holds it (issue 9: answering like Custodian is not proof).
  const { port } = config.gateway;
  const held = await custodian.gateway.inspectPort();
  switch (held.state) {
    case 'free':
      checks.push({ name: 'gateway-port', ok: true, detail: `127.0.0.1:${port} is free` });
      break;
    case 'listening':
      checks.push({ name: 'gateway-port', ok: true, detail: `127.0.0.1:${port} is served by this process` });
      break;
    case 'elsewhere':
      checks.push({ name: 'gateway-port', ok: true, detail: `127.0.0.1:${port} is served by a running Custodian on this data directory` });
      break;
    case 'port-in-use':
      checks.push({ name: 'gateway-port', ok: false, detail: `${message('ERR-PORT-IN-USE', { port })} ${heldBy(held.holder)}`, code: 'ERR-PORT-IN-USE' });
      break;
    default: {
      const never: never = held;
      return never;
    }
  }
  return checks;
}

/** "It is held by uid 65534 (nobody), pid 4242 (node), not by this Custodian." */
export function heldBy(holder: PortHolder | undefined): string {
  const t = translator('en');
  const who = holder ? describePortHolder(holder) : null;
  return who ? t('approvals.gatewayHeldBy', { holder: who }) : t('approvals.gatewayHeldByUnknown');
}
