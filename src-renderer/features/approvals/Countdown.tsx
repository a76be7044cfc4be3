import { useTranslation } from 'react-i18next';
import { formatMinutes } from '../../app/ticker';

const RADIUS = 16;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;
/** STYLE.md "The screens": the ring turns to a warning colour in its last 10 s. */
export const WARNING_SECONDS = 10;

/**
 * A ring and the seconds in text. The arc is an SVG presentation attribute, not a style
 * attribute, so the CSP's ban on inline styles still holds.
 */
export function Countdown({ remainingMs, totalMs }: { remainingMs: number; totalMs: number }) {
  const { t } = useTranslation();
  const seconds = Math.max(0, Math.ceil(remainingMs / 1000));
  const fraction = totalMs > 0 ? Math.min(1, Math.max(0, remainingMs / totalMs)) : 0;
  const state = seconds === 0 ? 'expired' : seconds <= WARNING_SECONDS ? 'warning' : 'running';
  return (
    <div className={`countdown countdown-${state}`} data-testid="countdown" data-seconds={seconds} data-state={state}>
      <svg className="countdown-ring" viewBox="0 0 40 40" aria-hidden="true" focusable="false">
        <circle className="countdown-track" cx="20" cy="20" r={RADIUS} />
        <circle
          className="countdown-arc"
          cx="20"
          cy="20"
          r={RADIUS}
          strokeDasharray={CIRCUMFERENCE}
          strokeDashoffset={CIRCUMFERENCE * (1 - fraction)}
          transform="rotate(-90 20 20)"
        />
      </svg>
      <span className="countdown-text" role="timer" aria-label={t('approvals.countdownLabel', { seconds })}>
        {seconds === 0
          ? t('approvals.expired')
          : // A minute or more reads as minutes (a request's 5 minutes, a token's hour), not "284 s".
            seconds >= 60
            ? t('approvals.countdownMinutes', { time: formatMinutes(seconds) })
            : t('approvals.countdown', { seconds })}
      </span>
    </div>
  );
}
