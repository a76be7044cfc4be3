import { create } from 'zustand';
import type { LockStatus, Profile, Role } from '../../src-shared/domain/mfa';
import type { CustodianError } from '../../src-shared/ipc/api';
import { toCustodianError } from './errors';

/** Issue #4: report activity at most this often, however busy the keyboard and mouse are. */
export const ACTIVITY_THROTTLE_MS = 30_000;

export type GateState = 'loading' | 'ready';

interface SessionState {
  /** 'loading' until the first lock:status answers: nothing but the splash may show before it. */
  gate: GateState;
  lock: LockStatus | null;
  /** Why lock:status could not be read. */
  gateError: CustodianError | null;
  profile: Profile | null;
  refreshLock(): Promise<void>;
  applyLock(status: LockStatus): void;
  loadProfile(): Promise<void>;
  initProfile(input: { displayName: string; principal: string; role: Role }): Promise<Profile>;
  /** Rejects with ERR-MFA-REQUIRED until a critical chain for `profile:role:<role>` passed. */
  setRole(role: Role): Promise<Profile>;
  lockNow(): Promise<void>;
  reportActivity(): void;
}

// lock:changed events are newer than any read that was already in flight when they arrived, so a
// slow lock:status answer must not undo them.
let lockGeneration = 0;
let lastActivity = Number.NEGATIVE_INFINITY;

export const useSessionStore = create<SessionState>()((set, get) => ({
  gate: 'loading',
  lock: null,
  gateError: null,
  profile: null,

  refreshLock: async () => {
    const generation = lockGeneration;
    try {
      const status = await window.custodian.lock.status();
      if (generation === lockGeneration) get().applyLock(status);
    } catch (error) {
      // Not callError: an ERR-LOCKED here would only ask again.
      set({ gate: 'ready', gateError: toCustodianError(error) });
    }
  },

  applyLock: (status) => {
    lockGeneration++;
    set((state) => ({
      gate: 'ready',
      lock: status,
      gateError: null,
      profile: status.hasProfile ? state.profile : null,
    }));
  },

  loadProfile: async () => {
    try {
      const { profile } = await window.custodian.profile.get();
      set({ profile });
    } catch (error) {
      callError(error);
    }
  },

  initProfile: async (input) => {
    try {
      const profile = await window.custodian.profile.init(input);
      set({ profile });
      await get().refreshLock();
      return profile;
    } catch (error) {
      throw callError(error);
    }
  },

  setRole: async (role) => {
    try {
      const profile = await window.custodian.profile.setRole(role);
      set({ profile });
      return profile;
    } catch (error) {
      throw callError(error);
    }
  },

  lockNow: async () => {
    try {
      get().applyLock(await window.custodian.lock.lock());
    } catch (error) {
      callError(error);
    }
  },

  reportActivity: () => {
    const { lock } = get();
    if (!lock || lock.locked || !lock.hasProfile) return;
    const now = Date.now();
    if (now - lastActivity < ACTIVITY_THROTTLE_MS) return;
    lastActivity = now;
    window.custodian.lock.activity().then(
      (status) => get().applyLock(status),
      (error: unknown) => {
        callError(error);
      },
    );
  },
}));

/**
 * toCustodianError for a window.custodian call that failed. ERR-LOCKED from any call means the
 * idle lock closed in (or another window locked): ask main again so the lock screen shows.
 */
export function callError(value: unknown): CustodianError {
  const error = toCustodianError(value);
  if (error.code === 'ERR-LOCKED') void useSessionStore.getState().refreshLock();
  return error;
}

export function selectHasProfile(state: SessionState): boolean {
  return state.lock?.hasProfile === true;
}

export function selectMfaEnabled(state: SessionState): boolean {
  return state.lock?.mfaEnabled === true;
}
