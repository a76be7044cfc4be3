import { translator } from '../../../src-shared/i18n';
import type { Schedule } from '../audit/group-commit';
import type { SettingsService } from '../settings/settings.service';
import type { RestoreRequestsService } from './restore-requests.service';

/** What the tray shows, in the approver's language. */
export interface TraySummary {
  pending: number;
  tooltip: string;
  /** The menu's first line; null when nothing waits. Linux trays often show no tooltip at all. */
  pendingLine: string | null;
  menu: { show: string; lock: string; quit: string };
}

export interface TraySummaryDeps {
  requests: Pick<RestoreRequestsService, 'pendingCount' | 'onChanged'>;
  settings: Pick<SettingsService, 'get' | 'onChanged'>;
  schedule?: Schedule;
}

export function traySummary(deps: Pick<TraySummaryDeps, 'requests' | 'settings'>): TraySummary {
  const t = translator(deps.settings.get().language);
  const pending = deps.requests.pendingCount();
  const line = pending === 0 ? null : t('tray.pending', { count: pending });
  return {
    pending,
    tooltip: line ?? t('tray.idle'),
    pendingLine: line,
    menu: { show: t('tray.show'), lock: t('tray.lock'), quit: t('tray.quit') },
  };
}

/**
 * Tells `listener` the tray's summary now and after every change to the requests or the language
 * (issue #5: "the tray shows the pending count"). Kept apart from Electron so it is tested. A
 * burst of arrivals is counted once per event-loop turn, not once per request; an unchanged
 * summary is not told again.
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
  const offs = [deps.requests.onChanged(changed), deps.settings.onChanged(changed)];
  publish();
  return () => {
    stopped = true;
    for (const off of offs) off();
  };
}
