import type { ChangeEvent } from 'react';
import { FormErrorNotice } from './FormErrorNotice';
import type { FormError } from './form-error';

interface CodeFieldProps {
  id: string;
  label: string;
  hint?: string | undefined;
  value: string;
  onChange(value: string): void;
  /**
   * 'totp': digits only, exactly `digits` long. 'any': a TOTP code or a backup code, so letters
   * are allowed even though the keypad opens on digits.
   */
  kind: 'totp' | 'any';
  digits?: number;
  testId: string;
  /** The id of the error message, when one shows. */
  errorId?: string | undefined;
  autoFocus?: boolean;
}

const ANY_CODE_MAX = 32;
const TOTP_MAX = 8;

/** One-time-code input: numeric keypad, the OS's code autofill, no spellcheck or autocorrect. */
export function CodeField({ id, label, hint, value, onChange, kind, digits, testId, errorId, autoFocus }: CodeFieldProps) {
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : null, errorId ?? null].filter(Boolean).join(' ') || undefined;

  function onInput(event: ChangeEvent<HTMLInputElement>) {
    const raw = event.target.value;
    onChange(kind === 'totp' ? raw.replace(/\D/g, '') : raw);
  }

  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <input
        id={id}
        className={kind === 'totp' ? 'input input-code' : 'input input-code input-code-any'}
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        autoCapitalize={kind === 'any' ? 'characters' : 'off'}
        autoCorrect="off"
        spellCheck={false}
        maxLength={kind === 'totp' ? (digits ?? TOTP_MAX) : ANY_CODE_MAX}
        pattern={kind === 'totp' ? '[0-9]*' : undefined}
        value={value}
        onChange={onInput}
        aria-describedby={describedBy}
        aria-invalid={errorId ? true : undefined}
        data-testid={testId}
        data-autofocus={autoFocus ? '' : undefined}
      />
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** What was typed, as main should see it: spaces people add for readability removed. */
export function normalizeCode(value: string): string {
  return value.replace(/\s+/g, '');
}

interface CodeEntryProps extends Omit<CodeFieldProps, 'errorId'> {
  form: FormError;
  errorId: string;
}

/** A code field with its form's error under it, the field pointing at the error while one shows. */
export function CodeEntry({ form, errorId, ...field }: CodeEntryProps) {
  return (
    <>
      <CodeField {...field} errorId={form.state ? errorId : undefined} />
      <FormErrorNotice form={form} id={errorId} />
    </>
  );
}
