import { translator, type Language } from '../../../src-shared/i18n';
import type { Clock } from '../../clock';
import type { Notifier } from '../../platform/notifier';
import type { Schedule } from '../audit/group-commit';
import type { IncidentService } from '../incident/incident.service';
import type { SettingsService } from '../settings/settings.service';
import type { RequestsChange, RestoreRequestsService } from './restore-requests.service';

/**
 * What the approver is told about restore requests outside the window: the arrival notices and
 * the tray (issue 11: the request lifecycle lives in RestoreRequestsService, its presentation
 * here, fed by the service's change events). Text comes from the catalogs in the approver's
 * language.
 */

/**
 * At most one arrival notice per this window; the rest of a burst becomes one "N more" notice.
 * A flood of prompts is what push fatigue attacks rely on, and building each notice's text is
 * the costliest part of an arrival that is not the database.
 */
export const NOTIFY_WINDOW_MS = 1000;

export interface RequestNoticesDeps {
  clock: Clock;
  notifier: Notifier;
  language: () => Language;
}

/**
 * Desktop notices of arrivals (issue #5): one at once, the rest of a burst held back and told as
 * one "N more" notice on the shared tick once the window has passed. Never the match code: the
 * approver must read it from the requester.
 */
export class RequestNotices {
  readonly #deps: RequestNoticesDeps;
  #lastNoticeAt = Number.NEGATIVE_INFINITY;
  #heldBack = 0;

  constructor(deps: RequestNoticesDeps) {
    this.#deps = deps;
  }

  /** A listener for `RestoreRequestsService.onChanged`: only arrivals make a notice. */
  readonly onChange = (change: RequestsChange): void => {
    switch (change.kind) {
      case 'arrived':
        this.#arrived(change.arrival);
        return;
      case 'changed':
        return;
      default: {
        const never: never = change;
        return never;
      }
    }
  };

  /** On the shared tick: once the window has passed, the held-back arrivals become one notice. */
  flush(): void {
    if (this.#heldBack === 0 || this.#deps.clock.now() - this.#lastNoticeAt < NOTIFY_WINDOW_MS) return;
    const count = this.#heldBack;
    this.#heldBack = 0;
    this.#lastNoticeAt = this.#deps.clock.now();
    this.#notify((t) => ({ title: t('notifications.moreTitle'), body: t('notifications.moreBody', { count }) }));
  }

  #arrived(arrival: Extract<RequestsChange, { kind: 'arrived' }>['arrival']): void {
    if (this.#deps.clock.now() - this.#lastNoticeAt < NOTIFY_WINDOW_MS) {
      this.#heldBack += 1;
      return;
    }
    this.#lastNoticeAt = this.#deps.clock.now();
    this.#notify((t) => ({
      title: t('notifications.requestTitle', { requester: arrival.requester }),
      body: t('notifications.requestBody', {
        backupId: arrival.backupId,
        target: arrival.target,
        sensitivity: t(`approvals.sensitivity.${arrival.sensitivity}`),
        integration: arrival.integrationName,
      }),
    }));
  }

  #notify(build: (t: ReturnType<typeof translator>) => { title: string; body: string }): void {
    try {
      this.#deps.notifier.notify(build(translator(this.#deps.language())));
    } catch {
      // A notification that cannot be shown must not fail the request: the desk still lists it.
    }
  }
}

/** What the tray shows, in the approver's language. */
export interface TraySummary {
  pending: number;
  tooltip: string;
  /** The menu's first line; null when nothing waits. Linux trays often show no tooltip at all. */
  pendingLine: string | null;
  /** Present only while incident mode is on: a menu line of its own, and in the tooltip. */
  incidentLine?: string;
  menu: { show: string; lock: string; quit: string };
}

export interface TraySummaryDeps {
  requests: Pick<RestoreRequestsService, 'pendingCount' | 'onChanged'>;
  settings: Pick<SettingsService, 'get' | 'onChanged'>;
  incident: Pick<IncidentService, 'isOn' | 'onChanged'>;
  schedule?: Schedule;
}

export function traySummary(deps: Pick<TraySummaryDeps, 'requests' | 'settings' | 'incident'>): TraySummary {
  const t = translator(deps.settings.get().language);
  const pending = deps.requests.pendingCount();
  const line = pending === 0 ? null : t('tray.pending', { count: pending });
  const incidentLine = deps.incident.isOn() ? t('tray.incident') : null;
  const base = line ?? t('tray.idle');
  return {
    pending,
    tooltip: incidentLine ? `${base}\n${incidentLine}` : base,
    pendingLine: line,
    ...(incidentLine ? { incidentLine } : {}),
    menu: { show: t('tray.show'), lock: t('tray.lock'), quit: t('tray.quit') },
  };
}

/**
 * Tells `listener` the tray's summary now and after every change to the requests, incident mode
 * or the language (issue #5: "the tray shows the pending count"; issue 11: and incident mode).
 * Kept apart from Electron so it is tested. A burst of arrivals is counted once per event-loop
 * turn, not once per request; an unchanged summary is not told again.
 */
export function watchTraySummary(deps: TraySummaryDeps, listener: (summary: TraySummary) => void): () => void {
  const schedule = deps.schedule ?? ((fn) => setImmediate(fn));
  let scheduled = false;
  let last = '';
  let stopped = false;
  const publish = (): void => {
    scheduled = false;
    if (stopped) return;
    let summary: TraySummary;
    try {
      summary = traySummary(deps);
    } catch {
      // The database busy for a moment: the next change recounts.
      return;
    }
    const key = JSON.stringify(summary);
    if (key === last) return;
    last = key;
    listener(summary);
  };
  const changed = (): void => {
    if (scheduled) return;
    scheduled = true;
    schedule(publish);
  };
  const offs = [deps.requests.onChanged(changed), deps.settings.onChanged(changed), deps.incident.onChanged(changed)];
  publish();
  return () => {
    stopped = true;
    for (const off of offs) off();
  };
}
