import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocalDeadline } from './app.store';
import { CountdownRing } from './CountdownRing';
import { RefreshIcon, SpinnerIcon } from './icons';
import { formatMinutes, useSecondsLeft } from './ticker';

interface ResendCodeProps {
  /** When main allows the next send, on main's clock (an SMS challenge's `resendAfter`). */
  resendAfter: string;
  /** A send is under way. */
  busy: boolean;
  /** The form's own reason to wait (a rate limit counting down in its error). */
  blocked: boolean;
  onResend(): void;
  testId: string;
}

/**
 * "Send again" for a texted code (issue 12), held with a live countdown until `resendAfter`: a
 * text costs money and counts against the send limit, so the approver waits for the first one
 * to arrive before asking again. The deadline is main's, turned into this renderer's time by the
 * one clock offset; the ring and the seconds move on the one shared ticker.
 */
export function ResendCode({ resendAfter, busy, blocked, onResend, testId }: ResendCodeProps) {
  const { t } = useTranslation();
  const noteId = useId();
  const deadline = useLocalDeadline(resendAfter);
  const secondsLeft = useSecondsLeft(deadline);
  // The full circle is the wait as it was when this send's countdown first showed (keyed by the caller).
  const [totalSeconds] = useState(() => Math.max(secondsLeft, 1));
  const waiting = secondsLeft > 0;
  return (
    <div className="resend-code">
      <button
        type="button"
        className="button button-secondary button-small"
        onClick={onResend}
        disabled={busy || blocked || waiting}
        aria-describedby={waiting ? noteId : undefined}
        data-testid={testId}
        data-waiting={waiting}
      >
        {busy ? <SpinnerIcon /> : <RefreshIcon />}
        {t('common.sendAgain')}
      </button>
      {waiting ? (
        <span id={noteId} className="countdown-note">
          <CountdownRing secondsLeft={secondsLeft} totalSeconds={totalSeconds} />
          {/* Off the live region: a reader is not told every second. */}
          <span aria-live="off" data-testid={`${testId}-countdown`} data-seconds={secondsLeft}>
            {t('common.sendAgainIn', { time: formatMinutes(secondsLeft) })}
          </span>
        </span>
      ) : null}
    </div>
  );
}
