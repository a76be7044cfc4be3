import type { HostKind } from '../../src-shared/domain/settings';
import type { Custodian } from '../composition';
import { APP_VERSION } from '../version';
import type { Handlers } from './ipc-router';

/** The approver at this desktop. Profiles arrive with the MFA issue; until then, `local`. */
const LOCAL_ACTOR = 'local';

/** Maps each channel to a service call: validation already happened, nothing else belongs here. */
export function createHandlers(custodian: Custodian, host: HostKind): Handlers {
  return {
    'app:info': () => ({
      version: APP_VERSION,
      host,
      now: custodian.clock.now(),
      dataDir: custodian.config.dataDir,
      gatewayPort: custodian.config.gateway.port,
    }),
    'audit:list': ({ limit, beforeId }) => custodian.audit.list(limit, beforeId),
    'audit:verify': () => custodian.audit.verify(),
    'settings:get': () => custodian.settings.get(),
    'settings:set-language': ({ language }) => custodian.settings.setLanguage(language, LOCAL_ACTOR),
    // --- gateway (issue #5) ---
    'requests:list': ({ view, limit }) => ({ requests: custodian.requests.list(view, limit) }),
    'requests:deny': ({ id }) => custodian.requests.deny(id, LOCAL_ACTOR),
    'requests:report': ({ id }) => custodian.requests.report(id, LOCAL_ACTOR),
    'integrations:list': () => ({ integrations: custodian.integrations.list() }),
    'integrations:add': ({ name }) => custodian.integrations.add(name, LOCAL_ACTOR),
    'integrations:revoke': ({ id }) => custodian.integrations.revoke(id, LOCAL_ACTOR),
    'gateway:status': () => custodian.gateway.status,
    // --- end gateway ---
  };
}
