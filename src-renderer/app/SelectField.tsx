import type { ChangeEvent, ReactNode } from 'react';

export interface SelectOption<T extends string | number> {
  value: T;
  label: string;
  /** For an option written in another language than the page, so it is read out in its own. */
  lang?: string;
}

interface SelectFieldProps<T extends string | number> {
  id: string;
  label: string;
  hint?: string | undefined;
  value: T;
  options: readonly SelectOption<T>[];
  // A state setter passed straight in would otherwise widen T to any string or number.
  onChange(value: NoInfer<T>): void;
  testId: string;
  /** The id of a description rendered elsewhere (e.g. in `children`), read after the hint. */
  describedBy?: string | undefined;
  /** Spans the whole row of a field grid. */
  wide?: boolean;
  autoFocus?: boolean;
  /** Held still while what it chose is being paid for (a role change's chain). */
  disabled?: boolean;
  /** Shown below the hint: notes or errors that belong to this field. */
  children?: ReactNode;
}

/** A labelled native <select>, handing back the option's own value rather than its string form. */
export function SelectField<T extends string | number>({
  id,
  label,
  hint,
  value,
  options,
  onChange,
  testId,
  describedBy,
  wide = false,
  autoFocus,
  disabled,
  children,
}: SelectFieldProps<T>) {
  const hintId = `${id}-hint`;
  const ariaDescribedBy = [hint ? hintId : null, describedBy ?? null].filter(Boolean).join(' ') || undefined;

  function onSelect(event: ChangeEvent<HTMLSelectElement>) {
    // The DOM gives back a string; matching it to an option keeps numbers numbers and anything
    // not offered out.
    const chosen = options.find((option) => String(option.value) === event.target.value);
    if (chosen) onChange(chosen.value);
  }

  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <select
        id={id}
        className="select"
        value={value}
        onChange={onSelect}
        disabled={disabled}
        aria-describedby={ariaDescribedBy}
        data-testid={testId}
        data-autofocus={autoFocus ? '' : undefined}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value} lang={option.lang}>
            {option.label}
          </option>
        ))}
      </select>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {children}
    </div>
  );
}
