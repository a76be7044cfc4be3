import { create } from 'zustand';
import type { RestoreTokenView } from '../../../src-shared/domain/approval';
import { REQUESTS_LIST_MAX, type GatewayStatus, type RestoreRequestView } from '../../../src-shared/domain/restore-request';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

export type ApprovalsTab = 'pending' | 'history';

interface ApprovalsState {
  tab: ApprovalsTab;
  /**
   * Newest first. Holds the pending requests and those that expired or were approved while on
   * screen (an approved card shows its token until dismissed).
   */
  pending: RestoreRequestView[];
  history: RestoreRequestView[];
  /** The token of each approved request on screen, by request id; null when none is on record. */
  tokens: Readonly<Record<string, RestoreTokenView | null>>;
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
  /** An approval this window made: the card turns to approved at once, with its token. */
  applyApproved(request: RestoreRequestView, token: RestoreTokenView): void;
  /** Takes back an unredeemed token; rejects with the typed error. */
  revokeToken(id: string): Promise<void>;
  dismiss(id: string): void;
  setGateway(status: GatewayStatus): void;
}

let generation = 0;

/**
 * Every pending request is listed (issue 13, item 8: the screen holds 1,000 and more, windowed);
 * the contract's ceiling for one read.
 */
export const PENDING_LIMIT = REQUESTS_LIST_MAX;

// A burst of arrivals sends a change event each; while one read is running, the rest fold into
// a single read after it, so 1,000 arrivals cost a handful of reads rather than 1,000.
let running: Promise<void> | null = null;
let queued: Promise<void> | null = null;

export const useApprovalsStore = create<ApprovalsState>()((set, get) => ({
  tab: 'pending',
  pending: [],
  history: [],
  tokens: {},
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

  refresh: () => {
    if (!running) {
      running = readLists().finally(() => {
        running = null;
      });
      return running;
    }
    // Whoever asks now is answered by a read that starts after their change.
    queued ??= running.then(() => {
      queued = null;
      return get().refresh();
    });
    return queued;
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

  applyApproved: (request, token) =>
    set((state) => ({
      pending: state.pending.map((r) => (r.id === request.id ? request : r)),
      tokens: { ...state.tokens, [request.id]: token },
    })),

  revokeToken: async (id) => {
    const token = await window.custodian.tokens.revoke(id);
    set((state) => ({ tokens: { ...state.tokens, [id]: token } }));
    await get().refresh();
  },

  dismiss: (id) => set((state) => ({ pending: state.pending.filter((r) => r.id !== id) })),

  setGateway: (gateway) => set({ gateway }),
}));

/** One read of both lists and the approved requests' tokens, into the store. */
async function readLists(): Promise<void> {
  const mine = ++generation;
  const { getState: get, setState: set } = useApprovalsStore;
  try {
    const [pending, history] = await Promise.all([
      window.custodian.requests.list('pending', PENDING_LIMIT),
      window.custodian.requests.list('history'),
    ]);
    // A request that expired while on screen stays, marked expired, until dismissed (issue
    // #5: it "turns to expired without a reload" rather than vanishing); one approved while on
    // screen (here or from a shell) stays too, with its token (issue 11 "UI").
    const fresh = new Set(pending.map((r) => r.id));
    const ended = new Map(history.filter((r) => r.status === 'expired' || r.status === 'approved').map((r) => [r.id, r]));
    const kept = get().pending.flatMap((r) => (fresh.has(r.id) ? [] : ended.has(r.id) ? [ended.get(r.id) as RestoreRequestView] : []));
    const merged = [...pending, ...kept].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    // Each approved request's token, read afresh: a redeem or a revoke moves it.
    const approved = history.filter((r) => r.status === 'approved').map((r) => r.id);
    const views = await Promise.all(approved.map((id) => window.custodian.tokens.get(id)));
    if (mine !== generation) return;
    const tokens = Object.fromEntries(approved.map((id, i) => [id, views[i] ?? null]));
    set((state) => {
      // Cards dismissed while the lists were read stay dismissed.
      const shown = new Set(state.pending.map((r) => r.id));
      return { pending: merged.filter((r) => fresh.has(r.id) || shown.has(r.id)), history, tokens, loadState: 'ready', loadError: null };
    });
  } catch (error) {
    if (mine !== generation) return;
    set({ loadState: 'error', loadError: toCustodianError(error) });
  }
}
