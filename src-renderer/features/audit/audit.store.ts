import { create } from 'zustand';
import type { AuditEntry, AuditVerification } from '../../../src-shared/domain/audit';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

export const AUDIT_PAGE_SIZE = 100;

export type ChainStatus =
  | { state: 'verifying' }
  | { state: 'verified'; rows: number; anchor: Extract<AuditVerification, { ok: true }>['anchor'] }
  /** Not trusted: the chain is broken, or the keychain anchor does not vouch for all of it. */
  | {
      state: 'broken';
      rows: number;
      firstBadId: number;
      reason: Extract<AuditVerification, { ok: false }>['reason'];
      headId: number | null;
      anchoredId: number | null;
    }
  /** The check itself could not run (for example the keychain holding the head is locked). */
  | { state: 'error'; error: CustodianError };

export type ListState = 'loading' | 'ready' | 'error';

interface AuditState {
  /** Newest first, as audit:list pages them. */
  entries: AuditEntry[];
  total: number;
  listState: ListState;
  listError: CustodianError | null;
  loadingOlder: boolean;
  /** Set once a page comes back short: nothing older exists, whatever `total` says. */
  reachedOldest: boolean;
  chain: ChainStatus;
  refresh(): Promise<void>;
  loadOlder(): Promise<void>;
  verify(): Promise<void>;
}

// Appends arrive in bursts and each one triggers a refresh and a verify; only the newest call's
// answer may land, or a slow early verify could overwrite the state of a later one.
let listGeneration = 0;
let verifyGeneration = 0;
// Bumped whenever the loaded rows are replaced, so an older page fetched before that cannot be
// glued onto rows it does not border.
let pageEpoch = 0;

function byIdDescending(a: AuditEntry, b: AuditEntry): number {
  return b.id - a.id;
}

/**
 * Merges the newest page into what is loaded, keeping the older pages the user opened. Ids are
 * sequential, so if more rows were appended than one page holds, the page no longer touches what
 * we have and the gap could not be shown honestly: start again from the newest page.
 */
function mergeNewest(current: AuditEntry[], page: AuditEntry[]): AuditEntry[] | null {
  const oldestInPage = page.at(-1);
  const newestLoaded = current[0];
  if (!oldestInPage || !newestLoaded) return null;
  if (page.length === AUDIT_PAGE_SIZE && newestLoaded.id < oldestInPage.id - 1) return null;
  const byId = new Map(current.map((entry) => [entry.id, entry]));
  for (const entry of page) byId.set(entry.id, entry);
  return [...byId.values()].sort(byIdDescending);
}

export const useAuditStore = create<AuditState>()((set, get) => ({
  entries: [],
  total: 0,
  listState: 'loading',
  listError: null,
  loadingOlder: false,
  reachedOldest: false,
  chain: { state: 'verifying' },

  refresh: async () => {
    const generation = ++listGeneration;
    if (get().entries.length === 0) set({ listState: 'loading' });
    try {
      const { entries, total } = await window.custodian.audit.list({ limit: AUDIT_PAGE_SIZE });
      if (generation !== listGeneration) return;
      const merged = mergeNewest(get().entries, entries);
      if (!merged) pageEpoch++;
      set((state) => ({
        entries: merged ?? entries,
        reachedOldest: merged ? state.reachedOldest : entries.length < AUDIT_PAGE_SIZE,
        total,
        listState: 'ready',
        listError: null,
      }));
    } catch (error) {
      if (generation !== listGeneration) return;
      set({ listState: 'error', listError: toCustodianError(error) });
    }
  },

  loadOlder: async () => {
    const { entries, loadingOlder } = get();
    const oldest = entries.at(-1);
    if (loadingOlder || !oldest) return;
    const epoch = pageEpoch;
    set({ loadingOlder: true });
    try {
      const page = await window.custodian.audit.list({ limit: AUDIT_PAGE_SIZE, beforeId: oldest.id });
      if (epoch !== pageEpoch) return;
      set((state) => {
        const byId = new Map(state.entries.map((entry) => [entry.id, entry]));
        // A refresh that landed meanwhile has the fresher copy of any row in both.
        for (const entry of page.entries) if (!byId.has(entry.id)) byId.set(entry.id, entry);
        return {
          entries: [...byId.values()].sort(byIdDescending),
          total: page.total,
          reachedOldest: page.entries.length < AUDIT_PAGE_SIZE,
          listError: null,
        };
      });
    } catch (error) {
      if (epoch === pageEpoch) set({ listError: toCustodianError(error) });
    } finally {
      set({ loadingOlder: false });
    }
  },

  verify: async () => {
    const generation = ++verifyGeneration;
    set({ chain: { state: 'verifying' } });
    try {
      const result = await window.custodian.audit.verify();
      if (generation !== verifyGeneration) return;
      set({
        chain: result.ok
          ? { state: 'verified', rows: result.rows, anchor: result.anchor }
          : {
              state: 'broken',
              rows: result.rows,
              firstBadId: result.firstBadId,
              reason: result.reason,
              headId: result.headId ?? null,
              anchoredId: result.anchoredId ?? null,
            },
      });
    } catch (error) {
      if (generation !== verifyGeneration) return;
      set({ chain: { state: 'error', error: toCustodianError(error) } });
    }
  },
}));

export function selectHasOlder(state: AuditState): boolean {
  return !state.reachedOldest && state.entries.length > 0 && state.entries.length < state.total;
}
