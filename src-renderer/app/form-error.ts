import { useCallback, useEffect, useState } from 'react';
import type { CustodianError } from '../../src-shared/ipc/api';
import { useSecondsLeft } from './ticker';

export interface FormErrorState {
  error: CustodianError;
  /**
   * For ERR-MFA-RATE-LIMITED: when the wait ends, on this renderer's clock. Computed once, when
   * the error arrives, so a re-render never restarts the wait.
   */
  deadline: number | null;
  /** The wait as main announced it, for the ring's full circle. */
  totalSeconds: number;
}

export interface FormError {
  state: FormErrorState | null;
  secondsLeft: number;
  /** True while a rate limit runs: the form's submit stays disabled until it ends. */
  blocked: boolean;
  show(error: CustodianError): void;
  clear(): void;
}

function toState(error: CustodianError): FormErrorState {
  const wait = error.code === 'ERR-MFA-RATE-LIMITED' ? Number(error.details?.retryAfterSeconds) : Number.NaN;
  if (!Number.isFinite(wait) || wait <= 0) return { error, deadline: null, totalSeconds: 0 };
  return { error, deadline: Date.now() + wait * 1000, totalSeconds: Math.ceil(wait) };
}

/**
 * A form's error, with the live rate-limit countdown issue #4 asks for: the message counts down
 * each second, and at 0 it goes away and the form is usable again.
 */
export function useFormError(): FormError {
  const [state, setState] = useState<FormErrorState | null>(null);
  const secondsLeft = useSecondsLeft(state?.deadline ?? null);
  const waiting = state !== null && state.deadline !== null;

  useEffect(() => {
    if (waiting && secondsLeft === 0) setState(null);
  }, [waiting, secondsLeft]);

  const show = useCallback((error: CustodianError) => setState(toState(error)), []);
  const clear = useCallback(() => setState(null), []);
  return { state, secondsLeft, blocked: waiting && secondsLeft > 0, show, clear };
}
