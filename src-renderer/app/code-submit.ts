import { useId, useState, type FormEvent } from 'react';
import { normalizeCode } from './CodeField';
import { useFormError, type FormError } from './form-error';
import { callError } from './session.store';

export interface CodeSubmit {
  code: string;
  setCode(code: string): void;
  busy: boolean;
  form: FormError;
  codeId: string;
  errorId: string;
  onSubmit(event: FormEvent<HTMLFormElement>): Promise<void>;
}

/**
 * The one way a form asks for a code: nothing is sent while busy, empty or rate-limited; a refusal
 * shows its error (with the rate-limit countdown), clears the field and puts the cursor back in it,
 * since a code is never worth retyping from what was there.
 */
export function useCodeSubmit(submit: (code: string) => Promise<void>): CodeSubmit {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const codeId = useId();
  const errorId = useId();

  async function onSubmit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const value = normalizeCode(code);
    if (!value || busy || form.blocked) return;
    setBusy(true);
    form.clear();
    try {
      await submit(value);
    } catch (error) {
      form.show(callError(error));
      setCode('');
      document.getElementById(codeId)?.focus();
    } finally {
      setBusy(false);
    }
  }

  return { code, setCode, busy, form, codeId, errorId, onSubmit };
}
