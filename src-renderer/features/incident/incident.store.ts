import { create } from 'zustand';
import type { IncidentState } from '../../../src-shared/domain/incident';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

/** What the last action did, for the status line beside the switch. */
export type IncidentOutcome = 'turnedOn' | 'turnedOff' | 'alreadyOn' | 'alreadyOff';

interface IncidentStoreState {
  /** Main's state; null before the first read answered. */
  state: IncidentState | null;
  busy: boolean;
  error: CustodianError | null;
  outcome: IncidentOutcome | null;
  load(): Promise<void>;
  /** An `incident:changed` event: this window's change, another window's, or another process's. */
  apply(state: IncidentState): void;
  turnOn(): Promise<void>;
  /**
   * Asks main to turn it off; 'needs-chain' when main wants a step-up grant first
   * (ERR-MFA-REQUIRED): the caller runs the chain, then calls this again.
   */
  turnOff(): Promise<'done' | 'needs-chain' | 'failed'>;
  clearError(): void;
}

// An event is newer than any read already in flight when it arrived.
let generation = 0;

/**
 * Incident mode as the window shows it (issue 11): the banner on every screen and the switch on
 * the Approvals screen read it here. Main owns the state; every change, wherever it was made,
 * comes back as an `incident:changed` event.
 */
export const useIncidentStore = create<IncidentStoreState>()((set) => ({
  state: null,
  busy: false,
  error: null,
  outcome: null,

  load: async () => {
    const mine = generation;
    try {
      const state = await window.custodian.incident.get();
      if (mine === generation) set({ state });
    } catch (error) {
      set({ error: toCustodianError(error) });
    }
  },

  apply: (state) => {
    generation++;
    set({ state });
  },

  turnOn: async () => {
    set({ busy: true, error: null, outcome: null });
    try {
      const change = await window.custodian.incident.turnOn();
      generation++;
      set({ state: change.state, outcome: change.changed ? 'turnedOn' : 'alreadyOn' });
    } catch (error) {
      set({ error: toCustodianError(error) });
    } finally {
      set({ busy: false });
    }
  },

  turnOff: async () => {
    set({ busy: true, error: null, outcome: null });
    try {
      const change = await window.custodian.incident.turnOff();
      generation++;
      set({ state: change.state, outcome: change.changed ? 'turnedOff' : 'alreadyOff' });
      return 'done';
    } catch (error) {
      const typed = toCustodianError(error);
      if (typed.code === 'ERR-MFA-REQUIRED') return 'needs-chain';
      set({ error: typed });
      return 'failed';
    } finally {
      set({ busy: false });
    }
  },

  clearError: () => set({ error: null }),
}));
