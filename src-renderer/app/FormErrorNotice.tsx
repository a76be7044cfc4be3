import { useTranslation } from 'react-i18next';
import { errorText } from './errors';
import type { FormError } from './form-error';
import { CountdownRing } from './CountdownRing';

// Stands in for the number while the message is translated, so the live seconds can sit in
// their own element in either language's word order.
const SECONDS_MARK = '\u0000seconds\u0000';

/**
 * Any form's error message: `form-error` with the code, and for a rate limit the seconds left in
 * `rate-limit-countdown`. The alert is announced once when it appears; the ticking number is
 * kept out of the live region so a screen reader does not read it out every second.
 */
export function FormErrorNotice({ form, id }: { form: FormError; id?: string }) {
  const { t } = useTranslation();
  const { state, secondsLeft } = form;
  if (!state) return null;
  const { error } = state;

  if (state.deadline === null) {
    return (
      <p id={id} className="notice notice-error" role="alert" data-testid="form-error" data-code={error.code}>
        {errorText(t, error)}
      </p>
    );
  }

  const [before, after] = errorText(t, { ...error, details: { ...error.details, retryAfterSeconds: SECONDS_MARK } }).split(
    SECONDS_MARK,
  );
  const seconds = (
    <span className="countdown-seconds" data-testid="rate-limit-countdown" data-seconds={secondsLeft} aria-live="off">
      {secondsLeft}
    </span>
  );
  return (
    <div id={id} className="notice notice-error notice-with-ring" role="alert" data-testid="form-error" data-code={error.code}>
      <CountdownRing secondsLeft={secondsLeft} totalSeconds={state.totalSeconds} />
      <p>
        {before}
        {/* A translation without the placeholder still shows the wait, after the message. */}
        {after === undefined ? ' ' : null}
        {seconds}
        {after}
      </p>
    </div>
  );
}
