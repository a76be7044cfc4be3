import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { SpinnerIcon } from './icons';

interface SubmitButtonProps {
  busy: boolean;
  disabled: boolean;
  testId: string;
  /** Shown before the label; the spinner takes its place while busy, so only one icon ever shows. */
  icon?: ReactNode;
  className?: string;
  /** Takes the focus when its dialog or step opens (`data-autofocus`, see `focusInitial`). */
  autoFocus?: boolean;
  children: ReactNode;
}

/** A form's submit button, with a spinner while the call it started is under way. */
export function SubmitButton({ busy, disabled, testId, icon = null, className = 'button button-primary', autoFocus = false, children }: SubmitButtonProps) {
  return (
    <button type="submit" className={className} disabled={disabled} data-testid={testId} data-autofocus={autoFocus ? '' : undefined}>
      {busy ? <SpinnerIcon /> : icon}
      {children}
    </button>
  );
}

interface FormActionsProps extends Omit<SubmitButtonProps, 'className'> {
  onCancel(): void;
  /** Defaults to "Cancel"; flows that leave a larger task say where the button goes. */
  cancelLabel?: string | undefined;
  cancelTestId?: string | undefined;
  /** For a step that cannot be undone, such as disabling a factor. */
  danger?: boolean;
  /** Focus Cancel first when the dialog opens: for confirmations, where Enter must not destroy. */
  cancelAutoFocus?: boolean;
}

/** Cancel, then submit: the row every code-entry dialog and enrollment step ends with. */
export function FormActions({ onCancel, cancelLabel, cancelTestId, danger = false, cancelAutoFocus = false, ...submit }: FormActionsProps) {
  const { t } = useTranslation();
  return (
    <div className="button-row button-row-end">
      <button type="button" className="button button-secondary" onClick={onCancel} data-testid={cancelTestId} data-autofocus={cancelAutoFocus ? '' : undefined}>
        {cancelLabel ?? t('common.cancel')}
      </button>
      <SubmitButton {...submit} className={danger ? 'button button-danger' : 'button button-primary'} />
    </div>
  );
}
