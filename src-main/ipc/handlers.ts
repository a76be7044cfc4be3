import type { Enrollment, EnrollmentView } from '../../src-shared/domain/mfa';
import type { HostKind } from '../../src-shared/domain/settings';
import { LOCK_EXEMPT_CHANNELS, type Channel } from '../../src-shared/ipc/contract';
import { AppError } from '../../src-shared/errors';
import type { Custodian } from '../composition';
import type { MfaContext } from '../services/mfa/mfa.service';
import type { ApprovalContext } from '../services/restore/approval.service';
import { APP_VERSION } from '../version';
import type { Handlers } from './ipc-router';

/** Everything from the window is one source in the audit rows (the rate limit is per profile). */
const DESKTOP: MfaContext = { source: 'desktop' };
const DESKTOP_APPROVAL: ApprovalContext = { source: 'desktop' };

/**
 * The lock's gate for the IPC router: while locked only the lock's own channels pass. A call is
 * not activity: the window makes many by itself (the request list refreshes on every arrival,
 * the Audit screen re-verifies on every append), and counting them kept the desk from ever
 * idle-locking while requests came in (issue 9). Only `lock:activity`, which the renderer sends
 * on real keyboard and pointer input, resets the idle timer.
 */
export function lockGate(custodian: Custodian): (channel: Channel) => void {
  return (channel) => {
    if (LOCK_EXEMPT_CHANNELS.includes(channel)) return;
    if (custodian.lock.isLocked()) throw new AppError('ERR-LOCKED');
  };
}

function enrollmentView(enrollment: Enrollment): EnrollmentView {
  // `sent` (SMS, issue 12) is when the next code may be asked for; it carries no code. `push` is
  // the number to pick in the window's push prompt: the window is the device it confirms.
  const view: EnrollmentView = { factor: enrollment.factor, qrDataUrl: enrollment.qrDataUrl, secretMasked: enrollment.secretMasked };
  return { ...view, ...(enrollment.sent ? { sent: enrollment.sent } : {}), ...(enrollment.push ? { push: enrollment.push } : {}) };
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
      mfaMethods: custodian.methods.enabled(),
    }),
    'audit:list': ({ limit, beforeId }) => custodian.audit.list(limit, beforeId),
    'audit:verify': () => custodian.audit.verify(),
    'settings:get': () => custodian.settings.get(),
    'settings:set-language': ({ language }) => custodian.settings.setLanguage(language, actor(custodian)),
    'settings:set-token-ttl': ({ seconds }) => custodian.settings.setTokenTtl(seconds, { actor: actor(custodian), source: DESKTOP.source }),
    'profile:get': () => ({ profile: custodian.mfa.profile() }),
    'profile:init': (request) => custodian.mfa.initProfile(request, DESKTOP),
    'profile:set-role': ({ role }) => custodian.mfa.setRole(role, DESKTOP),
    'factors:list': () => custodian.mfa.listFactors(),
    // The window gets the QR image and the masked secret, never the key URI (issue 9, item 4).
    'factors:enroll': async (request) => {
      // By its `type`, not by which keys are there: the service reads any `type` as SMS.
      const options =
        request.type === 'sms'
          ? { label: request.label, type: request.type, phone: request.phone }
          : request.type === 'push'
            ? { label: request.label, type: request.type }
            : { label: request.label, digits: request.digits, period: request.period, algorithm: request.algorithm };
      return enrollmentView(await custodian.mfa.startEnrollment(options, DESKTOP));
    },
    'factors:resume': async ({ factorId }) => enrollmentView(await custodian.mfa.resumeEnrollment(factorId, DESKTOP)),
    'factors:resend-code': ({ factorId }) => custodian.mfa.resendEnrollmentCode(factorId, DESKTOP),
    'factors:remove-pending': ({ factorId }) => custodian.mfa.removePendingEnrollment(factorId, DESKTOP),
    'factors:reveal-secret': async ({ factorId }) => ({ secret: await custodian.mfa.revealSecret(factorId, DESKTOP) }),
    'factors:confirm': ({ factorId, code }) => custodian.mfa.confirmEnrollment(factorId, code, DESKTOP),
    'factors:rename': ({ factorId, label }) => custodian.mfa.renameFactor(factorId, label, DESKTOP),
    'factors:disable': ({ factorId }) => custodian.mfa.disableFactor(factorId, DESKTOP),
    'backup-codes:regenerate': () => custodian.mfa.regenerateBackupCodes(DESKTOP),
    'lock:status': () => custodian.lock.status(),
    'lock:unlock': ({ code }) => custodian.lock.unlock(code, DESKTOP),
    'lock:lock': () => custodian.lock.lock('manual'),
    'lock:activity': () => {
      custodian.lock.touch();
      return custodian.lock.status();
    },
    'chain:start': ({ purpose, sensitivity }) => custodian.chain.start(purpose, sensitivity, DESKTOP),
    'chain:verify-step': ({ attemptId, factorId, code }) => custodian.chain.verifyStep(attemptId, factorId, code, DESKTOP),
    'chain:challenge': ({ attemptId }) => custodian.chain.challenge(attemptId, DESKTOP),
    'chain:get': ({ attemptId }) => custodian.chain.attempt(attemptId),
    'policies:list': () => ({ policies: custodian.policies.list() }),
    'policies:save': ({ policy }) => custodian.policies.save(policy, { actor: actor(custodian), source: DESKTOP.source }),
    'approvals:preview': ({ requestId }) => custodian.approvals.preview(requestId),
    'approvals:approve': ({ requestId, matchCode }) => custodian.approvals.approve(requestId, matchCode, DESKTOP_APPROVAL),
    'tokens:get': ({ requestId }) => ({ token: custodian.tokens.view(requestId) }),
    'tokens:revoke': ({ requestId }) => custodian.tokens.revoke(requestId, actor(custodian)),
    'push:pending': () => ({ prompts: custodian.push.pending() }),
    'push:answer': ({ id, number }) => custodian.push.answer(id, number, DESKTOP),
    'push:deny': ({ id }) => custodian.push.deny(id, DESKTOP),
    'incident:get': () => custodian.incident.state(),
    'incident:on': () => custodian.incident.turnOn({ actor: actor(custodian), source: DESKTOP.source }),
    'incident:off': () => custodian.incident.turnOff({ actor: actor(custodian), source: DESKTOP.source }),
    'sms:get-config': () => custodian.sms.config(),
    'sms:set-config': (config) => custodian.sms.setConfig(config, actor(custodian)),
    'sms:test': ({ to }) => custodian.sms.sendTest(to, actor(custodian)),
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
