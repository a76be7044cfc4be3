import type { HostKind } from '../../src-shared/domain/settings';
import type { Custodian } from '../composition';
import { createHandlers, lockGate } from './handlers';
import { createIpcRouter, type IpcRouter } from './ipc-router';

/** The router every host uses: the real handlers, the lock's gate, the approver's language. */
export function createAppRouter(custodian: Custodian, host: HostKind, isTrustedUrl: (url: URL) => boolean): IpcRouter {
  return createIpcRouter({
    handlers: createHandlers(custodian, host),
    isTrustedUrl,
    language: () => custodian.settings.get().language,
    admit: lockGate(custodian),
  });
}
