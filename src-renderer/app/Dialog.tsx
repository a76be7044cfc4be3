import { useEffect, useId, useRef, type ReactNode, type SyntheticEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { CloseIcon } from './icons';

/*
 * A modal on the native <dialog> element rather than @radix-ui/react-dialog. STYLE.md prefers
 * Radix, but its modal content locks scrolling through react-remove-scroll, which injects a
 * <style> element; the renderer's CSP (style-src 'self', no 'unsafe-inline') refuses it and
 * logs a violation on every open. showModal() gives what we used Radix for: the top layer, an
 * inert page behind it (so focus cannot leave), and Escape to cancel.
 */

interface DialogProps {
  title: string;
  onClose(): void;
  children: ReactNode;
  /**
   * False while closing would lose something shown only once (new backup codes): Escape and the
   * close button are then refused, and the content's own Done button ends it.
   */
  dismissible?: boolean;
  wide?: boolean;
  /**
   * An urgent question the app asks by itself (a push prompt, issue 12): role="alertdialog", so a
   * screen reader announces it, with `describedBy` read out after the title.
   */
  alert?: boolean;
  describedBy?: string;
  testId?: string;
}

/** Mount it to open it, unmount it to close it. Focus returns to what had it before. */
export function Dialog({ title, onClose, children, dismissible = true, wide = false, alert = false, describedBy, testId }: DialogProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closing = useRef(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    closing.current = false;
    dialog.showModal();
    focusInitial(dialog);
    return () => {
      closing.current = true;
      dialog.close();
      // Chromium restores focus itself only in recent versions; a keyboard user must land back
      // on the button that opened the dialog either way.
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  function onCancel(event: SyntheticEvent<HTMLDialogElement>) {
    event.preventDefault();
    if (dismissible) onClose();
  }

  // Chromium's close watcher lets a second Escape close a dialog even when cancel was refused.
  // A close event that arrives while the dialog is open again is a stale one (StrictMode's
  // remount in development closes and reopens it).
  function onNativeClose() {
    const dialog = ref.current;
    if (closing.current || !dialog || dialog.open) return;
    if (dismissible) onClose();
    else {
      dialog.showModal();
      focusInitial(dialog);
    }
  }

  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      role={alert ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      aria-describedby={describedBy}
      onCancel={onCancel}
      onClose={onNativeClose}
      data-testid={testId}
    >
      <div className="dialog-header">
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        {dismissible ? (
          <button type="button" className="icon-button" aria-label={t('common.close')} title={t('common.close')} onClick={onClose}>
            <CloseIcon />
          </button>
        ) : null}
      </div>
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}

/** The element marked `data-autofocus`, else the dialog's own default (its first control). */
export function focusInitial(root: HTMLElement): void {
  root.querySelector<HTMLElement>('[data-autofocus]')?.focus();
}
