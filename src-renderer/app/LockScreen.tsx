import { useEffect, useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { CodeEntry, normalizeCode } from './CodeField';
import { focusInitial } from './Dialog';
import { SubmitButton } from './FormActions';
import { useCodeSubmit } from './code-submit';
import { LockIcon, ShieldIcon } from './icons';
import { usePendingStore } from './pending.store';
import { useSessionStore } from './session.store';

/**
 * The whole window while locked (issue #4): nothing else is rendered, since main refuses every
 * other call anyway. It takes a TOTP code or a backup code.
 */
export function LockScreen() {
  const { t } = useTranslation();
  const lock = useSessionStore((state) => state.lock);
  const applyLock = useSessionStore((state) => state.applyLock);
  // The count only: what the requests are waits behind the code.
  const pending = usePendingStore((state) => state.count);
  const { code, setCode, busy, form, codeId, errorId, onSubmit } = useCodeSubmit(async (value) => {
    // The App swaps this screen for the window as soon as the new status lands.
    applyLock(await window.custodian.lock.unlock(value));
  });
  const ref = useRef<HTMLElement>(null);
  const titleId = useId();

  useEffect(() => {
    if (ref.current) focusInitial(ref.current);
  }, []);

  return (
    <main className="lock-screen" data-testid="lock-screen" ref={ref} aria-labelledby={titleId}>
      <div className="card lock-card">
        <div className="lock-brand">
          <ShieldIcon className="lock-brand-icon" />
          <p className="lock-app-name">{t('app.title')}</p>
        </div>
        <div className="lock-heading">
          <LockIcon className="lock-heading-icon" />
          <h1 id={titleId} className="lock-title">
            {t('lock.title')}
          </h1>
        </div>
        {pending > 0 ? (
          <p className="notice notice-info lock-pending" role="status" data-testid="lock-pending">
            {t('lock.pending', { count: pending })}
          </p>
        ) : null}
        <p className="muted">{t('lock.intro')}</p>
        <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
          <CodeEntry
            id={codeId}
            label={t('lock.codeLabel')}
            hint={t('lock.codeHint')}
            value={code}
            onChange={setCode}
            kind="any"
            testId="lock-code"
            form={form}
            errorId={errorId}
            autoFocus
          />
          <SubmitButton
            busy={busy}
            disabled={busy || form.blocked || normalizeCode(code) === ''}
            testId="lock-submit"
            icon={<LockIcon />}
            className="button button-primary button-block"
          >
            {t('lock.unlock')}
          </SubmitButton>
        </form>
        {lock && lock.idleLockMinutes > 0 ? (
          <p className="field-hint lock-note">{t('lock.idleNote', { minutes: lock.idleLockMinutes })}</p>
        ) : null}
      </div>
    </main>
  );
}
