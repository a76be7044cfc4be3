import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Factor } from '../../../src-shared/domain/mfa';
import { Dialog } from '../../app/Dialog';
import { EmptyState } from '../../app/EmptyState';
import { errorText } from '../../app/errors';
import { KeyIcon, PlusIcon } from '../../app/icons';
import { message as makeMessage, messageText, type Message } from '../../app/message';
import { selectHasProfile, useSessionStore } from '../../app/session.store';
import { ChainTestCard } from '../chain/ChainTestCard';
import { SetupCallout } from '../onboarding/SetupCallout';
import { BackupCodesPanel } from './BackupCodesPanel';
import { EnrollFlow, type EnrollStepName } from './EnrollFlow';
import { FactorRow } from './FactorRow';
import { sortFactors, useFactorsStore } from './factors.store';

export function FactorsView() {
  const hasProfile = useSessionStore(selectHasProfile);
  const { t } = useTranslation();
  if (!hasProfile) {
    return (
      <div className="stack">
        <SetupCallout />
        <EmptyState icon={<KeyIcon />} title={t('factors.empty')} hint={t('factors.emptyHintAdd')} />
      </div>
    );
  }
  return <FactorsDesk />;
}

function FactorsDesk() {
  const { t } = useTranslation();
  const refresh = useFactorsStore((state) => state.refresh);
  const factors = useFactorsStore((state) => state.factors);
  const listState = useFactorsStore((state) => state.listState);
  const listError = useFactorsStore((state) => state.listError);
  // `resume` when the dialog shows a pending factor again rather than adding a new one.
  const [enrolling, setEnrolling] = useState<{ resume?: Factor } | null>(null);
  // Kept as key and parameters, so the line follows a switch of language.
  const [message, setMessage] = useState<Message | null>(null);

  useEffect(() => {
    void refresh();
    // The CLI's `custodian factors ...` and the pending-enrollment sweeper change the list too.
    return window.custodian.factors.onChanged(() => void refresh());
  }, [refresh]);

  const sorted = sortFactors(factors);
  const activeCount = factors.filter((factor) => factor.state === 'active').length;
  const onFinished = useCallback(
    (factor: Factor) => {
      setEnrolling(null);
      setMessage(makeMessage('factors.added', { label: factor.label }));
    },
    [],
  );
  const onResume = useCallback((factor: Factor) => {
    setMessage(null);
    setEnrolling({ resume: factor });
  }, []);

  return (
    <div className="stack">
      <div>
        <div className="section-bar">
          <h2 className="section-heading">{t('factors.listTitle')}</h2>
          <button
            type="button"
            className="button button-primary"
            onClick={() => {
              setMessage(null);
              setEnrolling({});
            }}
            data-testid="enroll-start"
          >
            <PlusIcon />
            {t('factors.add')}
          </button>
        </div>
        {/* Outcomes of actions, announced politely; always in the page so the first one is read out. */}
        <p className="status-line status-ok" role="status" data-testid="factors-status">
          {message ? messageText(t, message) : ''}
        </p>
      </div>

      {listError ? (
        <p className="notice notice-error" role="alert" data-testid="form-error" data-code={listError.code}>
          {errorText(t, listError)}
        </p>
      ) : null}

      {sorted.length === 0 ? (
        listState === 'loading' ? (
          <p className="muted">{t('app.loading')}</p>
        ) : listState === 'ready' ? (
          <EmptyState icon={<KeyIcon />} title={t('factors.empty')} hint={t('factors.emptyHintAdd')} />
        ) : null
      ) : (
        <ul className="factor-list" aria-label={t('factors.listTitle')}>
          {sorted.map((factor) => (
            <FactorRow
              key={factor.id}
              factor={factor}
              isLastActive={factor.state === 'active' && activeCount === 1}
              onMessage={setMessage}
              onResume={onResume}
            />
          ))}
        </ul>
      )}

      <BackupCodesPanel hasActiveFactor={activeCount > 0} />

      {activeCount > 0 ? <ChainTestCard /> : null}

      {enrolling ? <EnrollDialog resume={enrolling.resume} onClose={() => setEnrolling(null)} onFinished={onFinished} /> : null}
    </div>
  );
}

function EnrollDialog({ resume, onClose, onFinished }: { resume: Factor | undefined; onClose(): void; onFinished(factor: Factor): void }) {
  const { t } = useTranslation();
  const [step, setStep] = useState<EnrollStepName>(resume ? 'resume' : 'details');
  return (
    <Dialog title={t('factors.enroll.title')} onClose={onClose} dismissible={step !== 'codes'} wide testId="enroll-dialog">
      <EnrollFlow
        headingLevel="h3"
        onFinished={onFinished}
        onCancel={onClose}
        cancelLabel={t('common.cancel')}
        cancelTestId="enroll-cancel"
        onStepChange={setStep}
        resume={resume}
      />
    </Dialog>
  );
}
