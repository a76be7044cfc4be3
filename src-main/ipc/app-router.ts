import type { HostKind } from '../../src-shared/domain/settings';
import type { Channel } from '../../src-shared/ipc/contract';
import type { Custodian } from '../composition';
import { createHandlers, lockGate } from './handlers';
import { createIpcRouter, type IpcRouter } from './ipc-router';

/**
 * The channels that change nothing: they run without asking the keychain first. Every other
 * channel, a new one included, awaits `AuditLog.ready` (issue 13, item 3), so a change made while
 * the keychain is gone is refused rather than committed with no anchor.
 */
const READS: ReadonlySet<Channel> = new Set<Channel>([
  'requests:list',
  'requests:pending-count',
  'integrations:list',
  'gateway:status',
  'app:info',
  'audit:list',
  'audit:verify',
  'settings:get',
  'profile:get',
  'factors:list',
  'lock:status',
  'lock:activity',
  'chain:get',
  'policies:list',
  'approvals:preview',
  'incident:get',
  'tokens:get',
  'sms:get-config',
  'push:pending',
]);

/** The router every host uses: the real handlers, the lock's gate, the approver's language. */
export function createAppRouter(custodian: Custodian, host: HostKind, isTrustedUrl: (url: URL) => boolean): IpcRouter {
  return createIpcRouter({
    handlers: createHandlers(custodian, host),
    isTrustedUrl,
    language: () => custodian.settings.get().language,
    admit: lockGate(custodian),
    prepare: (channel) => (READS.has(channel) ? undefined : custodian.audit.ready()),
  });
}
