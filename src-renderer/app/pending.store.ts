import { create } from 'zustand';

/**
 * How many restore requests wait, for the sidebar, the window title and the lock screen (issue
 * 9). Main sends the number, and nothing else about the requests, even while locked.
 */
interface PendingState {
  count: number;
  load(): Promise<void>;
  apply(count: number): void;
}

// An event is newer than any read already in flight when it arrived.
let generation = 0;

export const usePendingStore = create<PendingState>()((set) => ({
  count: 0,

  load: async () => {
    const mine = generation;
    try {
      const count = await window.custodian.requests.pendingCount();
      if (mine === generation) set({ count });
    } catch {
      // Only a count: the next requests:pending-count event brings it.
    }
  },

  apply: (count) => {
    generation++;
    set({ count });
  },
}));
