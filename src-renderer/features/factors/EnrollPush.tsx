import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { EnrollmentView, Factor } from '../../../src-shared/domain/mfa';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { useSessionStore } from '../../app/session.store';
import { PushNumber, usePushWait } from '../push/push-wait';
import { useFactorsStore } from './factors.store';


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
