import { create } from 'zustand';
import { BACKUP_STEP, type ChainAttemptView, type ChainStartPurpose, type FactorChallenge } from '../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { toCustodianError } from '../../app/errors';
import { useFactorsStore } from '../factors/factors.store';

/**
 * What the prompt explains in plain words after a step (issue 10 "UI"): the chain went back to
 * step 1 after a wrong code, or after a step out of turn (a breach), or the time ran out; for a
 * push step (issue 12), after the approver denied the push or let it run out.
 */
export type ChainNotice = 'reset' | 'breach' | 'expired' | 'denied' | 'pushExpired';

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
  /**
   * Submits the current push step with the number its push shows (issue 12): 'pending' while the
   * approver has not answered (nothing counted, nothing changed, the notice left as it is);
   * otherwise as `submit`.
   */
  submitPush(number: number): Promise<'pending' | 'done'>;
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
      throw await afterFailure(attempt, toCustodianError(error));
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

  submitPush: async (number) => {
    const attempt = get().attempt;
    const current = attempt?.status === 'open' ? attempt.steps[attempt.position] : undefined;
    if (!attempt || !current) return 'done';
    let view: ChainAttemptView;
    try {
      view = await window.custodian.chain.verifyStep(attempt.attemptId, current.id, String(number));
    } catch (error) {
      const failure = toCustodianError(error);
      if (failure.code === 'ERR-MFA-PUSH-PENDING') return 'pending';
      void useFactorsStore.getState().refresh();
      throw await afterFailure(attempt, failure);
    }
    set({ attempt: view, notice: null, failure: null });
    void useFactorsStore.getState().refresh();
    return 'done';
  },

  close: () => set({ attempt: null, notice: null, failure: null, startError: null, challenge: null }),
}));

/**
 * After a refused step: reads the attempt again where the chain moved (a reset, a breach, the
 * time up) and says why; the challenge of the failed round is spent. Answers the error to throw.
 */
async function afterFailure(attempt: ChainAttemptView, failure: CustodianError): Promise<CustodianError> {
  let notice = noticeFor(failure.code);
  if (!notice) return failure;
  const fresh = await window.custodian.chain.get(attempt.attemptId).catch(() => null);
  // A push left until its own timeout fails the step with ERR-MFA-EXPIRED while the attempt
  // itself may still run: that is a reset, not the chain's time running out.
  if (notice === 'expired' && fresh?.status === 'open') notice = 'pushExpired';
  const over = notice === 'expired';
  useChainStore.setState((state) => ({
    attempt: fresh ?? (over ? { ...attempt, status: 'expired' } : { ...attempt, position: 0 }),
    notice,
    failure,
    challenge: null,
    resets: over ? state.resets : state.resets + 1,
  }));
  return failure;
}

function noticeFor(code: string): ChainNotice | null {
  switch (code) {
    case 'ERR-MFA-INVALID':
    case 'ERR-MFA-REPLAYED':
      return 'reset';
    case 'ERR-MFA-CHAIN-BREACHED':
      return 'breach';
    case 'ERR-MFA-EXPIRED':
      return 'expired';
    case 'ERR-MFA-PUSH-DENIED':
      return 'denied';
    default:
      // A rate limit or a keychain failure leaves the chain where it was.
      return null;
  }
}
