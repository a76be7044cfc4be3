// STYLE.md "The screens": a countdown is a ring and the seconds in text, turning to a warning
// colour in its last 10 s. The ring is drawn with SVG presentation attributes, which the CSP
// allows, rather than a style attribute, which it does not.
const RADIUS = 9;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;
const WARNING_SECONDS = 10;

export function CountdownRing({ secondsLeft, totalSeconds }: { secondsLeft: number; totalSeconds: number }) {
  const fraction = totalSeconds > 0 ? Math.min(1, Math.max(0, secondsLeft / totalSeconds)) : 0;
  const warning = secondsLeft <= WARNING_SECONDS;
  return (
    <svg
      className={warning ? 'countdown-ring countdown-warning' : 'countdown-ring'}
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
    >
      <circle className="countdown-track" cx="12" cy="12" r={RADIUS} fill="none" strokeWidth="3" />
      <circle
        className="countdown-arc"
        cx="12"
        cy="12"
        r={RADIUS}
        fill="none"
        strokeWidth="3"
        strokeLinecap="round"
        strokeDasharray={CIRCUMFERENCE}
        strokeDashoffset={CIRCUMFERENCE * (1 - fraction)}
        transform="rotate(-90 12 12)"
      />
    </svg>
  );
}
