import type { HostKind } from '../../src-shared/domain/settings';
import { LOCK_EXEMPT_CHANNELS, type Channel } from '../../src-shared/ipc/contract';
import { AppError } from '../../src-shared/errors';
import type { Custodian } from '../composition';
import type { MfaContext } from '../services/mfa/mfa.service';
import { APP_VERSION } from '../version';
import type { Handlers } from './ipc-router';

/** Everything from the window counts as one source for the rate limit. */
const DESKTOP: MfaContext = { source: 'desktop' };

/**
 * The lock's gate for the IPC router: while locked only the lock's exempt channels pass. A call
 * is not activity: screens refresh by themselves when requests arrive, and that must not hold
 * the idle lock open (issue 9); only `lock:activity`, sent on real input, does.
 */
export function lockGate(custodian: Custodian): (channel: Channel) => void {
  return (channel) => {
    if (LOCK_EXEMPT_CHANNELS.includes(channel)) return;
    if (custodian.lock.isLocked()) throw new AppError('ERR-LOCKED');
  };
}

/** Who acts from the window: the profile's principal, or `local` before there is one. */
function actor(custodian: Custodian): string {
  return custodian.mfa.profile()?.principal ?? 'local';
}

/** Maps each channel to a service call: validation already happened, nothing else belongs here. */
export function createHandlers(custodian: Custodian, host: HostKind): Handlers {
  return {
    'app:info': () => ({
      version: APP_VERSION,
      host,
      now: custodian.clock.now(),
      dataDir: custodian.config.dataDir,
      gatewayPort: custodian.config.gateway.port,
      reportMuteMinutes: custodian.config.approvals.reportMuteMinutes,
    }),
    'audit:list': ({ limit, beforeId }) => custodian.audit.list(limit, beforeId),
    'audit:verify': () => custodian.audit.verify(),
    'settings:get': () => custodian.settings.get(),
    'settings:set-language': ({ language }) => custodian.settings.setLanguage(language, actor(custodian)),
    'profile:get': () => ({ profile: custodian.mfa.profile() }),
    'profile:init': (request) => custodian.mfa.initProfile(request, DESKTOP),
    'profile:set-role': ({ role, code }) => custodian.mfa.setRole(role, code, DESKTOP),
    'factors:list': () => custodian.mfa.listFactors(),
    'factors:enroll': (options) => custodian.mfa.startEnrollment(options, DESKTOP),
    'factors:reveal-secret': async ({ factorId }) => ({ secret: await custodian.mfa.revealSecret(factorId, DESKTOP) }),
    'factors:confirm': ({ factorId, code }) => custodian.mfa.confirmEnrollment(factorId, code, DESKTOP),
    'factors:rename': ({ factorId, label }) => custodian.mfa.renameFactor(factorId, label, DESKTOP),
    'factors:disable': ({ factorId, code }) => custodian.mfa.disableFactor(factorId, code, DESKTOP),
    'backup-codes:regenerate': ({ code }) => custodian.mfa.regenerateBackupCodes(code, DESKTOP),
    'lock:status': () => custodian.lock.status(),
    'lock:unlock': ({ code }) => custodian.lock.unlock(code, DESKTOP),
    'lock:lock': () => custodian.lock.lock('manual'),
    'lock:activity': () => {
      custodian.lock.touch();
      return custodian.lock.status();
    },
    // --- gateway (issue #5) ---
    'requests:list': ({ view, limit }) => ({ requests: custodian.requests.list(view, limit) }),
    'requests:deny': ({ id }) => custodian.requests.deny(id, actor(custodian)),
    'requests:report': ({ id }) => custodian.requests.report(id, actor(custodian)),
    'requests:pending-count': () => ({ count: custodian.requests.pendingCount() }),
    'integrations:list': () => ({ integrations: custodian.integrations.list() }),
    'integrations:add': ({ name }) => custodian.integrations.add(name, actor(custodian)),
    'integrations:revoke': ({ id }) => custodian.integrations.revoke(id, actor(custodian)),
    'integrations:unmute': ({ id }) => custodian.integrations.unmute(id, actor(custodian)).integration,
    'gateway:status': () => custodian.gateway.status,
    // --- end gateway ---
  };
}
