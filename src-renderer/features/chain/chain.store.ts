import { create } from 'zustand';
import { BACKUP_STEP, type ChainAttemptView, type ChainStartPurpose, type FactorChallenge } from '../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';
import { useFactorsStore } from '../factors/factors.store';

/**
 * What the prompt explains in plain words after a step (issue 10 "UI"): the chain went back to
 * step 1 after a wrong code, or after a step out of turn (a breach), or the time ran out.
 */
export type ChainNotice = 'reset' | 'breach' | 'expired';

interface ChainState {
  attempt: ChainAttemptView | null;
  notice: ChainNotice | null;
  /** The refusal behind the notice: the step's form that showed it is gone after a reset. */
  failure: CustodianError | null;
  /** Counts resets, so the current step's field starts afresh (and takes the focus) after each. */
  resets: number;
  starting: boolean;
  startError: CustodianError | null;
  /**
   * What main answered for the current step's challenge, with the step it is for (issue 12): an
   * SMS step's "Send code" asks for one; TOTP needs nothing sent. Dropped whenever the chain moves
   * (a pass, a reset, a new attempt), so a step reached again starts from its own "Send code".
   */
  challenge: { attemptId: string; position: number; factorId: string; challenge: FactorChallenge } | null;
  start(purpose: ChainStartPurpose, sensitivity: Sensitivity): Promise<void>;
  /**
   * Submits the current step's code, or a backup code standing in for it (once per attempt);
   * rejects with the typed error, after the state follows main's.
   */
  submit(code: string, backup?: boolean): Promise<void>;
  /** Asks main for the current step's challenge; rejects with the typed error. */
  requestChallenge(): Promise<FactorChallenge | null>;
  close(): void;
}

/**
 * The one chain prompt's state (issue 10): the attempt as main last answered it. Main owns the
 * chain; after any refusal the store reads the attempt again rather than guess what happened to
 * it (in random mode a reset draws a fresh chain).
 */
export const useChainStore = create<ChainState>()((set, get) => ({
  attempt: null,
  notice: null,
  failure: null,
  resets: 0,
  starting: false,
  startError: null,
  challenge: null,

  start: async (purpose, sensitivity) => {
    set({ starting: true, startError: null, notice: null, failure: null, attempt: null, challenge: null });
    try {
      set({ attempt: await window.custodian.chain.start(purpose, sensitivity) });
    } catch (error) {
      set({ startError: toCustodianError(error) });
    } finally {
      set({ starting: false });
    }
  },

  submit: async (code, backup = false) => {
    const attempt = get().attempt;
    const current = attempt?.status === 'open' ? attempt.steps[attempt.position] : undefined;
    if (!attempt || !current) return;
    set({ notice: null, failure: null });
    try {
      set({ attempt: await window.custodian.chain.verifyStep(attempt.attemptId, backup ? BACKUP_STEP : current.id, code), challenge: null });
    } catch (error) {
      const failure = toCustodianError(error);
      const notice = noticeFor(failure.code);
      if (notice) {
        const fresh = await window.custodian.chain.get(attempt.attemptId).catch(() => null);
        set((state) => ({
          attempt: fresh ?? (notice === 'expired' ? { ...attempt, status: 'expired' } : { ...attempt, position: 0 }),
          notice,
          failure,
          challenge: null,
          resets: notice === 'expired' ? state.resets : state.resets + 1,
        }));
      }
      throw failure;
    } finally {
      // A step moves a factor's "last used" and may use up a backup code; main tells the window
      // of changes made by other processes only, so the Factors list reads them afresh here.
      void useFactorsStore.getState().refresh();
    }
  },

  requestChallenge: async () => {
    const attempt = get().attempt;
    const current = attempt?.status === 'open' ? attempt.steps[attempt.position] : undefined;
    if (!attempt || !current) return null;
    try {
      const challenge = await window.custodian.chain.challenge(attempt.attemptId);
      set({ challenge: { attemptId: attempt.attemptId, position: attempt.position, factorId: current.id, challenge } });
      return challenge;
    } catch (error) {
      const failure = toCustodianError(error);
      // The attempt's time ran out before the send: the prompt says so, as after a late step.
      if (failure.code === 'ERR-MFA-EXPIRED') {
        const fresh = await window.custodian.chain.get(attempt.attemptId).catch(() => null);
        set({ attempt: fresh ?? { ...attempt, status: 'expired' }, notice: 'expired', failure, challenge: null });
      }
      throw failure;
    }
  },

  close: () => set({ attempt: null, notice: null, failure: null, startError: null, challenge: null }),
}));

function noticeFor(code: string): ChainNotice | null {
  switch (code) {
    case 'ERR-MFA-INVALID':
    case 'ERR-MFA-REPLAYED':
      return 'reset';
    case 'ERR-MFA-CHAIN-BREACHED':
      return 'breach';
    case 'ERR-MFA-EXPIRED':
      return 'expired';
    default:
      // A rate limit or a keychain failure leaves the chain where it was.
      return null;
  }
}
