import { create } from 'zustand';
import type { BackupCodesStatus, Factor } from '../../../src-shared/domain/mfa';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { callError } from '../../app/session.store';

export type ListState = 'loading' | 'ready' | 'error';

/**
 * What the Factors screen lists. It holds states and counts only (DESIGN.md: the renderer holds
 * no secrets): a revealed secret and freshly issued backup codes live in the component that
 * shows them once, and go with it.
 */
interface FactorsState {
  factors: Factor[];
  backupCodes: BackupCodesStatus | null;
  listState: ListState;
  listError: CustodianError | null;
  refresh(): Promise<void>;
  applyFactor(factor: Factor): void;
  applyBackupCodes(status: BackupCodesStatus): void;
}

// Actions and factors:changed events both refresh; only the newest answer may land.
let generation = 0;

export const useFactorsStore = create<FactorsState>()((set, get) => ({
  factors: [],
  backupCodes: null,
  listState: 'loading',
  listError: null,

  refresh: async () => {
    const current = ++generation;
    if (get().listState === 'error') set({ listState: 'loading' });
    try {
      const { factors, backupCodes } = await window.custodian.factors.list();
      if (current !== generation) return;
      set({ factors, backupCodes, listState: 'ready', listError: null });
    } catch (error) {
      if (current !== generation) return;
      set({ listState: 'error', listError: callError(error) });
    }
  },

  applyFactor: (factor) =>
    set((state) => ({
      factors: state.factors.some((f) => f.id === factor.id)
        ? state.factors.map((f) => (f.id === factor.id ? factor : f))
        : [...state.factors, factor],
    })),

  applyBackupCodes: (backupCodes) => set({ backupCodes }),
}));

const STATE_ORDER: Record<Factor['state'], number> = { active: 0, pending: 1, disabled: 2 };

/** Active first, then pending set-ups, then the disabled ones kept for the record; oldest first within each. */
export function sortFactors(factors: readonly Factor[]): Factor[] {
  return [...factors].sort(
    (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.createdAt.localeCompare(b.createdAt),
  );
}
