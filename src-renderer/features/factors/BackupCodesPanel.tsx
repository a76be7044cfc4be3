import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MANAGE } from '../../../src-shared/domain/policy';
import { Dialog } from '../../app/Dialog';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useDateFormats } from '../../app/format';
import { AlertIcon, RefreshIcon } from '../../app/icons';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { BackupCodesSheet } from './BackupCodesSheet';
import { useFactorsStore } from './factors.store';

/** "N of 10 remaining", until when, a warning when few are left, and Regenerate. */
export function BackupCodesPanel({ hasActiveFactor }: { hasActiveFactor: boolean }) {
  const { t } = useTranslation();
  const formats = useDateFormats();
  const status = useFactorsStore((state) => state.backupCodes);
  const [regenerating, setRegenerating] = useState(false);
  const titleId = useId();

  const issued = status !== null && status.total > 0;
  const expired = status?.expiresAt ? Date.parse(status.expiresAt) <= Date.now() : false;
  const warn = issued && (status.low || expired);

  return (
    <section className={warn ? 'card panel panel-warning' : 'card panel'} aria-labelledby={titleId} data-testid="backup-panel">
      <div className="panel-header">
        <h2 id={titleId} className="section-heading">
          {t('factors.backup.title')}
        </h2>
        {hasActiveFactor ? (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => setRegenerating(true)}
            data-testid="backup-regenerate"
          >
            <RefreshIcon />
            {t('factors.backup.regenerate')}
          </button>
        ) : null}
      </div>
      {issued ? (
        <>
          <p className="backup-summary">
            <span className="backup-remaining" data-testid="backup-remaining" data-remaining={status.remaining} data-low={status.low}>
              {t('factors.backup.remaining', { remaining: status.remaining, total: status.total })}
            </span>
            {status.expiresAt && !expired ? (
              <span className="muted">{t('factors.backup.validUntil', { date: formats.date(status.expiresAt) })}</span>
            ) : null}
          </p>
          {expired && status.expiresAt ? (
            <p className="notice notice-warning notice-small">
              <AlertIcon />
              <span>{t('factors.backup.expiredOn', { date: formats.date(status.expiresAt) })}</span>
            </p>
          ) : status.low ? (
            <p className="notice notice-warning notice-small" data-testid="backup-low">
              <AlertIcon />
              <span>{t('factors.backup.low')}</span>
            </p>
          ) : null}
          <p className="field-hint">{t('factors.backup.intro')}</p>
        </>
      ) : (
        <p className="muted">{t('factors.backup.none')}</p>
      )}
      {regenerating ? <RegenerateDialog onClose={() => setRegenerating(false)} /> : null}
    </section>
  );
}

/**
 * A critical chain first (no backup code may stand in: backup codes must not mint backup codes),
 * then the new set, shown once; the old set stops working.
 */
function RegenerateDialog({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const [codes, setCodes] = useState<string[] | null>(null);
  const stepUp = useStepUp({
    purpose: MANAGE.regenerateCodes,
    action: () => window.custodian.backupCodes.regenerate(),
    onDone: (result) => {
      useFactorsStore.getState().applyBackupCodes(result.status);
      setCodes(result.codes);
    },
    onCancel: onClose,
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void stepUp.run();
  }

  return (
    <Dialog title={t('factors.backup.regenerateTitle')} onClose={onClose} dismissible={codes === null} wide={codes !== null} testId="regenerate-dialog">
      {codes ? (
        <BackupCodesSheet codes={codes} intro={t('factors.backup.newCodesIntro')} onDone={onClose} />
      ) : (
        <>
          <form className="stack" onSubmit={onSubmit} noValidate>
            <p>{t('factors.backup.regenerateIntro')}</p>
            <p className="field-hint">{t('factors.backup.regenerateChain')}</p>
            <FormErrorNotice form={stepUp.form} />
            <StepUpActions
              onCancel={onClose}
              stepUp={stepUp}
              testId="regenerate-confirm"
              icon={<RefreshIcon />}
              cancelAutoFocus
            >
              {t('factors.backup.regenerateSubmit')}
            </StepUpActions>
          </form>
          {/* After the form, not in it: the prompt's step forms cannot nest. */}
          {stepUp.prompt}
        </>
      )}
    </Dialog>
  );
}
