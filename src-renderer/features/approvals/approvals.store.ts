import { create } from 'zustand';
import type { GatewayStatus, RestoreRequestView } from '../../../src-shared/domain/restore-request';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

export type ApprovalsTab = 'pending' | 'history';

interface ApprovalsState {
  tab: ApprovalsTab;
  /** Newest first. Holds the pending requests and those that expired while on screen. */
  pending: RestoreRequestView[];
  history: RestoreRequestView[];
  loadState: 'loading' | 'ready' | 'error';
  loadError: CustodianError | null;
  actionError: { id: string; error: CustodianError } | null;
  busyId: string | null;
  /** From the main process's config; the report confirmation states it. */
  reportMuteMinutes: number | null;
  gateway: GatewayStatus | null;
  setTab(tab: ApprovalsTab): void;
  load(): Promise<void>;
  refresh(): Promise<void>;
  deny(id: string, report: boolean): Promise<void>;
  dismiss(id: string): void;
  setGateway(status: GatewayStatus): void;
}

let generation = 0;

export const useApprovalsStore = create<ApprovalsState>()((set, get) => ({
  tab: 'pending',
  pending: [],
  history: [],
  loadState: 'loading',
  loadError: null,
  actionError: null,
  busyId: null,
  reportMuteMinutes: null,
  gateway: null,

  setTab: (tab) => set({ tab }),

  load: async () => {
    // The clock offset is the app store's, the one for the whole renderer (issue 10).
    const [info, gateway] = await Promise.allSettled([window.custodian.app.info(), window.custodian.gateway.status()]);
    if (info.status === 'fulfilled') set({ reportMuteMinutes: info.value.reportMuteMinutes });
    if (gateway.status === 'fulfilled') set({ gateway: gateway.value });
    await get().refresh();
  },

  refresh: async () => {
    const mine = ++generation;
    try {
      const [pending, history] = await Promise.all([
        window.custodian.requests.list('pending'),
        window.custodian.requests.list('history'),
      ]);
      if (mine !== generation) return;
      set((state) => {
        // A request that expired while on screen stays, marked expired, until dismissed (issue
        // #5: it "turns to expired without a reload" rather than vanishing).
        const fresh = new Set(pending.map((r) => r.id));
        const expired = new Map(history.filter((r) => r.status === 'expired').map((r) => [r.id, r]));
        const kept = state.pending.flatMap((r) => (fresh.has(r.id) ? [] : expired.has(r.id) ? [expired.get(r.id) as RestoreRequestView] : []));
        const merged = [...pending, ...kept].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
        return { pending: merged, history, loadState: 'ready', loadError: null };
      });
    } catch (error) {
      if (mine !== generation) return;
      set({ loadState: 'error', loadError: toCustodianError(error) });
    }
  },

  deny: async (id, report) => {
    set({ busyId: id, actionError: null });
    try {
      if (report) await window.custodian.requests.report(id);
      else await window.custodian.requests.deny(id);
    } catch (error) {
      set({ actionError: { id, error: toCustodianError(error) } });
    } finally {
      set({ busyId: null });
      await get().refresh();
    }
  },

  dismiss: (id) => set((state) => ({ pending: state.pending.filter((r) => r.id !== id) })),

  setGateway: (gateway) => set({ gateway }),
}));
