import type { FormEvent, ReactNode } from 'react';
import { Dialog } from './Dialog';
import { FormActions } from './FormActions';

interface ConfirmDialogProps {
  title: string;
  /** What will happen, in full: the approver confirms consequences, not a button name. */
  children: ReactNode;
  confirmLabel: string;
  busy: boolean;
  onConfirm(): void;
  onCancel(): void;
  testId: string;
}

/**
 * A last look before a step that cannot be undone (revoking a key, reporting an integration).
 * Focus starts on Cancel, so an Enter pressed by reflex does nothing harmful.
 */
export function ConfirmDialog({ title, children, confirmLabel, busy, onConfirm, onCancel, testId }: ConfirmDialogProps) {
  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!busy) onConfirm();
  }
  return (
    <Dialog title={title} onClose={onCancel} testId={testId}>
      <form className="stack" onSubmit={onSubmit}>
        {children}
        <FormActions onCancel={onCancel} cancelTestId={`${testId}-cancel`} cancelAutoFocus busy={busy} disabled={busy} testId={`${testId}-confirm`} danger>
          {confirmLabel}
        </FormActions>
      </form>
    </Dialog>
  );
}
