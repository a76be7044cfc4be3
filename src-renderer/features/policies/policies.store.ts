import { create } from 'zustand';
import type { Policy } from '../../../src-shared/domain/policy';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

interface PoliciesState {
  policies: Policy[];
  loadState: 'loading' | 'ready' | 'error';
  loadError: CustodianError | null;
  load(): Promise<void>;
  /** Saves one policy; rejects with the typed error (ERR-MFA-REQUIRED: a weakening wants a chain first). */
  save(policy: Policy): Promise<Policy>;
}

/** The four policies as main last answered them (issue 10 "Policies"). */
export const usePoliciesStore = create<PoliciesState>()((set) => ({
  policies: [],
  loadState: 'loading',
  loadError: null,

  load: async () => {
    try {
      set({ policies: await window.custodian.policies.list(), loadState: 'ready', loadError: null });
    } catch (error) {
      set({ loadState: 'error', loadError: toCustodianError(error) });
    }
  },

  save: async (policy) => {
    const saved = await window.custodian.policies.save(policy);
    set((state) => ({ policies: state.policies.map((p) => (p.sensitivity === saved.sensitivity ? saved : p)) }));
    return saved;
  },
}));
