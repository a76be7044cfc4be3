import { create } from 'zustand';
import type { PushPrompt } from '../../../src-shared/domain/push';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';

/** A number this window shows for its own push: the factor's and the push's expiry tell which push. */
export interface ShownHere {
  factorId: string;
  expiresAt: string;
  number: number;
  /**
   * The step showing it takes a backup code instead (the chain allows one): the prompt offers it,
   * for an approver who cannot answer the push.
   */
  onBackup?: (() => void) | undefined;
}

/** A push this window set aside: its step takes a backup code instead (matched as `ShownHere` is). */
export interface SetAside {
  factorId: string;
  expiresAt: string;
}

/** An answer that ended a push without approving it: said in the prompt until the approver closes it. */
export interface PushResult {
  prompt: PushPrompt;
  outcome: 'mismatched' | 'denied';
}

interface PushStoreState {
  /** The pushes waiting for this approver, oldest first, wherever on the data directory they were raised. */
  prompts: PushPrompt[];
  result: PushResult | null;
  /** The push an answer is on its way for: its buttons hold still meanwhile. */
  busyId: string | null;
  /** Why the last answer was refused (the push ran out, or another window answered it first). */
  error: { id: string; error: CustodianError } | null;
  /**
   * The numbers this window itself shows where it started a push (its chain's push step, a push
   * factor's enrollment). The prompt covers them, so it repeats the one for its push: a push
   * raised here is the same screen twice anyway (issue 12: push is a second channel when the step
   * is started elsewhere, as in a shell).
   */
  shownHere: ShownHere[];
  showHere(shown: ShownHere): () => void;
  /**
   * Pushes whose own step (in this window) takes a backup code instead: the prompt does not cover
   * the code field while it is typed. Main withdraws the push once the code is submitted; "Use
   * <factor> instead" puts it back.
   */
  setAside: SetAside[];
  putAside(push: SetAside): () => void;
  load(): Promise<void>;
  answer(id: string, number: number): Promise<void>;
  deny(id: string): Promise<void>;
  dismissResult(): void;
  clear(): void;
}

// `push:changed` carries nothing, so every event reads the list again; only the newest read counts.
let generation = 0;

/**
 * The push prompts (issue 12): this window is the approver's push device. Fed by `push:pending` on
 * start, on every unlock and on every `push:changed` (raised here, in a shell's `custodian verify`
 * or `custodian approve`, answered, or run out). Main owns the pushes; the store only mirrors them
 * and never knows which of the three numbers is right.
 */
export const usePushStore = create<PushStoreState>()((set) => ({
  prompts: [],
  result: null,
  busyId: null,
  error: null,
  shownHere: [],
  setAside: [],

  showHere: (shown) => {
    set((state) => ({ shownHere: [...state.shownHere, shown] }));
    return () => set((state) => ({ shownHere: state.shownHere.filter((s) => s !== shown) }));
  },

  putAside: (push) => {
    set((state) => ({ setAside: [...state.setAside, push] }));
    return () => set((state) => ({ setAside: state.setAside.filter((s) => s !== push) }));
  },

  load: async () => {
    const mine = ++generation;
    try {
      const prompts = await window.custodian.push.pending();
      if (mine === generation) set((state) => ({ prompts, error: state.error && prompts.some((p) => p.id === state.error?.id) ? state.error : null }));
    } catch {
      // Refused while the desk locks: the next unlock reads the list again.
    }
  },

  answer: async (id, number) => {
    await settle(id, () => window.custodian.push.answer(id, number));
  },

  deny: async (id) => {
    await settle(id, () => window.custodian.push.deny(id));
  },

  dismissResult: () => set({ result: null }),
  clear: () => set({ prompts: [], result: null, busyId: null, error: null }),
}));

/** The pushes the prompt shows: those waiting, but for any set aside for a backup code. */
export function shownPrompts(prompts: PushPrompt[], setAside: readonly SetAside[]): PushPrompt[] {
  if (setAside.length === 0) return prompts;
  return prompts.filter((p) => !setAside.some((a) => a.factorId === p.factorId && a.expiresAt === p.expiresAt));
}

/** Whether the prompt is up (a push or an answer's result): it is modal, so nothing behind it takes the focus. */
export function selectPromptOpen(state: PushStoreState): boolean {
  return state.result !== null || shownPrompts(state.prompts, state.setAside).length > 0;
}

/** One answer at a time; the list is read again afterwards, whatever happened. */
async function settle(id: string, call: () => Promise<{ outcome: 'approved' | 'mismatched' | 'denied' }>): Promise<void> {
  const { busyId, prompts } = usePushStore.getState();
  const prompt = prompts.find((p) => p.id === id);
  if (busyId !== null || !prompt) return;
  usePushStore.setState({ busyId: id, error: null });
  try {
    const { outcome } = await call();
    // Approved: the prompt simply goes; the step where it started moves on.
    if (outcome !== 'approved') usePushStore.setState({ result: { prompt, outcome } });
  } catch (error) {
    usePushStore.setState({ error: { id, error: toCustodianError(error) } });
  } finally {
    usePushStore.setState({ busyId: null });
    await usePushStore.getState().load();
  }
}
