import { LOCK_EXEMPT_EVENTS, type EventName, type EventPayload } from '../../src-shared/ipc/contract';
import type { Custodian } from '../composition';
import { watchTraySummary } from '../services/restore/requests-presenter';

export type EventSink = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/**
 * Forwards service events to a window; returns the function that stops forwarding. While the
 * desk is locked only LOCK_EXEMPT_EVENTS reach the window: it shows the lock screen then, and
 * must learn nothing about requests, factors or the audit log beyond the pending count.
 */
export function forwardEvents(custodian: Custodian, send: EventSink): () => void {
  const gated: EventSink = (event, payload) => {
    if (custodian.lock.isLocked() && !LOCK_EXEMPT_EVENTS.includes(event)) return;
    send(event, payload);
  };
  // The tray's watcher already counts a burst of arrivals once; the window hears the count only
  // when it changes.
  let lastCount: number | undefined;
  const offs = [
    custodian.audit.onAppended((appended) => gated('audit:appended', appended)),
    custodian.settings.onChanged((settings) => gated('settings:changed', settings)),
    custodian.lock.onChanged((status) => gated('lock:changed', status)),
    custodian.mfa.onChanged(() => gated('factors:changed', {})),
    custodian.requests.onChanged((change) => gated('requests:changed', { id: change.id })),
    custodian.incident.onChanged((state) => gated('incident:changed', state)),
    custodian.push.onChanged(() => gated('push:changed', {})),
    custodian.integrations.onChanged(() => gated('integrations:changed', {})),
    custodian.gateway.onStatus((status) => gated('gateway:status', status)),
    // --- end gateway ---
    watchTraySummary({ requests: custodian.requests, settings: custodian.settings, incident: custodian.incident }, ({ pending }) => {
      if (pending === lastCount) return;
      lastCount = pending;
      gated('requests:pending-count', { count: pending });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
