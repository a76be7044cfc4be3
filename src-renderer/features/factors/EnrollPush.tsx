import { useCallback, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { EnrollmentView, Factor } from '../../../src-shared/domain/mfa';
import { useAppStore } from '../../app/app.store';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { selectMfaEnabled, useSessionStore } from '../../app/session.store';
import { PushNumber, usePushWait } from '../push/push-wait';
import { useFactorsStore } from './factors.store';

/** The methods the window can enroll; SMS has its own form (phone number and settings). */
export type EnrollMethod = 'totp' | 'push';

/**
 * Whether a push factor may be added here: MFA_METHODS leaves push on (issue 12; until app:info
 * answers, it is not offered), and MFA is already on. Not as the first factor: the lock screen
 * takes a single code, which a push cannot give, so a desk with only a push factor could be
 * opened with backup codes alone.
 */
export function usePushEnrollable(): boolean {
  const on = useAppStore((s) => s.info?.mfaMethods.includes('push') ?? false);
  return useSessionStore(selectMfaEnabled) && on;
}

/**
 * Which kind of factor to add: an authenticator app, or push to this window (issue 12). Shown only
 * where push is on; the TOTP form stays as it was otherwise.
 */
export function EnrollMethodChoice({ value, onChange }: { value: EnrollMethod; onChange(method: EnrollMethod): void }) {
  const { t } = useTranslation();
  const base = useId();
  const hintId = useId();
  if (!usePushEnrollable()) return null;
  return (
    <fieldset className="field enroll-methods">
      <legend className="field-label">{t('factors.enroll.method')}</legend>
      {(['totp', 'push'] as const).map((method) => (
        <div key={method} className="checkbox-row">
          <input
            id={`${base}-${method}`}
            type="radio"
            className="checkbox"
            name={`${base}-method`}
            checked={value === method}
            onChange={() => onChange(method)}
            aria-describedby={method === 'push' ? hintId : undefined}
            data-testid={`enroll-method-${method}`}
          />
          <label htmlFor={`${base}-${method}`}>{t(`factors.type.${method}`)}</label>
        </div>
      ))}
      <p id={hintId} className="field-hint">
        {t('factors.enroll.pushHint')}
      </p>
    </fieldset>
  );
}

interface PushEnrollWaitProps {
  enrollment: EnrollmentView & { push: NonNullable<EnrollmentView['push']> };
  onConfirmed(factor: Factor, codes: string[] | null): void;
  onRestart(): void;
  onCancel(): void;
  cancelLabel: string;
  cancelTestId?: string | undefined;
}

/**
 * Confirming a push factor (issue 12): its first push waits in this window's push prompt; once the
 * approver picks the number shown here, the factor is confirmed with it, by itself (the chain's
 * push step waits the same way). A denied, wrong or ignored push ends the setup: starting again
 * sends a new push, and the pending factor is dropped.
 */
export function PushEnrollWait({ enrollment, onConfirmed, onRestart, onCancel, cancelLabel, cancelTestId }: PushEnrollWaitProps) {
  const { t } = useTranslation();
  const { factor, push } = enrollment;
  const form = useFormError();
  const [failed, setFailed] = useState(false);
  const { show } = form;

  const poll = useCallback(async (): Promise<'pending' | 'done'> => {
    try {
      const result = await window.custodian.factors.confirm(factor.id, String(push.number));
      void useFactorsStore.getState().refresh();
      // The first factor turns MFA on, which brings the lock (and "Lock now") with it.
      if (result.backupCodes) void useSessionStore.getState().refreshLock();
      onConfirmed(result.factor, result.backupCodes);
      return 'done';
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 'ERR-MFA-PUSH-PENDING') return 'pending';
      throw error;
    }
  }, [factor.id, push.number, onConfirmed]);
  const onError = useCallback(
    (error: Parameters<typeof show>[0]) => {
      setFailed(true);
      show(error);
    },
    [show],
  );
  usePushWait(failed ? null : `${factor.id}:${push.number}:${push.expiresAt}`, poll, onError);

  async function restart() {
    // The failed setup's factor can never be confirmed now: it goes, rather than wait out its 10 minutes.
    await window.custodian.factors.removePending(factor.id).catch(() => undefined);
    void useFactorsStore.getState().refresh();
    onRestart();
  }

  return (
    <div className="stack" data-testid="enroll-push" data-state={failed ? 'failed' : 'waiting'}>
      {failed ? (
        <>
          <FormErrorNotice form={form} />
          <p>{t('factors.enroll.pushFailed', { label: factor.label })}</p>
        </>
      ) : (
        <>
          <p>{t('factors.enroll.pushIntro', { label: factor.label })}</p>
          <PushNumber factorId={factor.id} number={push.number} expiresAt={push.expiresAt} lead={t('chain.push.pickLead')} hint={t('factors.enroll.pushWaiting')} />
        </>
      )}
      <div className="button-row button-row-end">
        <button type="button" className="button button-secondary" onClick={onCancel} data-testid={cancelTestId}>
          {cancelLabel}
        </button>
        {failed ? (
          <button type="button" className="button button-primary" onClick={() => void restart()} data-autofocus="" data-testid="enroll-push-restart" autoFocus>
            {t('factors.enroll.startAgain')}
          </button>
        ) : null}
      </div>
    </div>
  );
}
