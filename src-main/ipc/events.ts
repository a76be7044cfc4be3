import type { EventName, EventPayload } from '../../src-shared/ipc/contract';
import type { Custodian } from '../composition';

export type EventSink = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** Forwards service events to a window; returns the function that stops forwarding. */
export function forwardEvents(custodian: Custodian, send: EventSink): () => void {
  const offs = [
    custodian.audit.onAppended((appended) => send('audit:appended', appended)),
    custodian.settings.onChanged((settings) => send('settings:changed', settings)),
    custodian.lock.onChanged((status) => send('lock:changed', status)),
    custodian.mfa.onChanged(() => send('factors:changed', {})),
    // --- gateway (issue #5) ---
    custodian.requests.onChanged((change) => send('requests:changed', change)),
    custodian.integrations.onChanged(() => send('integrations:changed', {})),
    custodian.gateway.onStatus((status) => send('gateway:status', status)),
    // --- end gateway ---
  ];
  return () => {
    for (const off of offs) off();
  };
}
