import { useEffect, useRef, useState } from 'react';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { useLocalDeadline } from '../../app/app.store';
import { callError } from '../../app/session.store';
import { useNow } from '../../app/ticker';
import { Countdown } from '../approvals/Countdown';
import { usePushStore } from './push.store';

/** The fallback beat of the wait: `push:changed` usually answers first. */
export const PUSH_POLL_MS = 1000;

/**
 * Waits for the approver's answer to a push (issue 12), as the shell's `awaitPush` does: `poll`
 * submits the number where the push was started; 'pending' (ERR-MFA-PUSH-PENDING: nothing counted,
 * nothing changed) means ask again on the next `push:changed` or within a second. One poll at a
 * time; the wait ends at 'done', at an error (told to `onError`), or when `key` changes (a new
 * push) or becomes null.
 */
export function usePushWait(key: string | null, poll: () => Promise<'pending' | 'done'>, onError: (error: CustodianError) => void): void {
  const latest = useRef({ poll, onError });
  useEffect(() => {
    latest.current = { poll, onError };
  });
  useEffect(() => {
    if (key === null) return;
    let stopped = false;
    let busy = false;
    const tick = async () => {
      if (stopped || busy) return;
      busy = true;
      try {
        if ((await latest.current.poll()) === 'done') stopped = true;
      } catch (error) {
        stopped = true;
        latest.current.onError(callError(error));
      } finally {
        busy = false;
      }
    };
    const off = window.custodian.push.onChanged(() => void tick());
    const timer = setInterval(() => void tick(), PUSH_POLL_MS);
    return () => {
      stopped = true;
      off();
      clearInterval(timer);
    };
  }, [key]);
}

/**
 * The number to find in the push prompt, big, with the push's countdown on main's clock (the
 * chain's push step and the push factor's enrollment).
 */
export function PushNumber({ factorId, number, expiresAt, endsBy, lead, hint, onBackup }: { factorId: string; number: number; expiresAt: string; endsBy?: string | undefined; lead: string; hint: string; onBackup?: (() => void) | undefined }) {
  const showHere = usePushStore((s) => s.showHere);
  useEffect(() => showHere({ factorId, number, expiresAt, onBackup }), [showHere, factorId, number, expiresAt, onBackup]);
  const now = useNow();
  // A chain that runs out before its push (`endsBy`) ends the wait first: the ring counts to
  // whichever comes first, never past the chain's own countdown above it.
  const deadline = useLocalDeadline(endsBy !== undefined && Date.parse(endsBy) < Date.parse(expiresAt) ? endsBy : expiresAt);
  const remainingMs = deadline === null ? 0 : deadline - now;
  // The full circle is what was left when the number first showed (the component is keyed by push).
  const [totalMs] = useState(() => Math.max(remainingMs, 1));
  return (
    <div className="stack stack-tight" data-testid="push-wait" data-number={number}>
      <div className="push-wait">
        <p className="push-wait-text" role="status">
          {lead}{' '}
          <span className="push-wait-number" data-testid="push-wait-number">
            {number}
          </span>
        </p>
        <Countdown remainingMs={remainingMs} totalMs={totalMs} />
      </div>
      <p className="field-hint">{hint}</p>
    </div>
  );
}
