import { useCallback, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { selectHasProfile, useSessionStore } from '../../app/session.store';
import { EnrollFlow, type EnrollStepName } from '../factors/EnrollFlow';
import { ProfileForm } from './ProfileForm';

const STEPS = ['profile', 'factor', 'codes'] as const;
type SetupStep = (typeof STEPS)[number];

/**
 * The first run, in the pane (issue #4): the profile, then straight into the first
 * authenticator, which can be skipped. The window around it stays, so the four sections are
 * always a click away.
 */
export function SetupFlow({ onFinish }: { onFinish(): void }) {
  const { t } = useTranslation();
  const hasProfile = useSessionStore(selectHasProfile);
  const [stage, setStage] = useState<'profile' | 'factor'>(hasProfile ? 'factor' : 'profile');
  const [enrollStep, setEnrollStep] = useState<EnrollStepName>('details');
  const titleId = useId();
  const current: SetupStep = stage === 'profile' ? 'profile' : enrollStep === 'codes' ? 'codes' : 'factor';
  const currentIndex = STEPS.indexOf(current);
  const onStepChange = useCallback((step: EnrollStepName) => setEnrollStep(step), []);

  return (
    <div className="setup">
      <nav aria-label={t('onboarding.progress')}>
        <ol className="stepper">
          {STEPS.map((step, index) => (
            <li
              key={step}
              className={index < currentIndex ? 'stepper-item stepper-done' : index === currentIndex ? 'stepper-item stepper-current' : 'stepper-item'}
              aria-current={index === currentIndex ? 'step' : undefined}
            >
              <span className="stepper-number" aria-hidden="true">
                {index + 1}
              </span>
              <span className="stepper-label">{t(`onboarding.steps.${step}`)}</span>
            </li>
          ))}
        </ol>
      </nav>

      <section className="card setup-card" aria-labelledby={titleId}>
        {stage === 'profile' ? (
          <>
            <h2 id={titleId} className="setup-title">
              {t('onboarding.profileTitle')}
            </h2>
            <ProfileForm onCreated={() => setStage('factor')} onCancel={onFinish} />
          </>
        ) : (
          <>
            <h2 id={titleId} className="setup-title">
              {t('onboarding.factorTitle')}
            </h2>
            {enrollStep !== 'codes' ? <p className="muted setup-intro">{t('onboarding.factorIntro')}</p> : null}
            <EnrollFlow
              headingLevel="h3"
              onFinished={onFinish}
              onCancel={onFinish}
              cancelLabel={t('onboarding.skip')}
              cancelTestId="onboarding-skip"
              onStepChange={onStepChange}
            />
            {enrollStep === 'details' ? <p className="field-hint setup-skip-hint">{t('onboarding.skipHint')}</p> : null}
          </>
        )}
      </section>
    </div>
  );
}
