import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppStore } from '../../app/app.store';
import { ShieldIcon } from '../../app/icons';

/**
 * The first-run call to action (issue #4): with no profile the window still opens on its four
 * sections, and Approvals, Factors and Settings lead into the setup from here.
 */
export function SetupCallout() {
  const { t } = useTranslation();
  const openSetup = useAppStore((state) => state.openSetup);
  const titleId = useId();
  return (
    <section className="card callout" aria-labelledby={titleId}>
      <div className="callout-icon">
        <ShieldIcon />
      </div>
      <div className="callout-text">
        <h2 id={titleId} className="callout-title">
          {t('onboarding.ctaTitle')}
        </h2>
        <p className="muted">{t('onboarding.ctaText')}</p>
      </div>
      <button type="button" className="button button-primary" onClick={openSetup} data-testid="setup-profile">
        {t('onboarding.ctaButton')}
      </button>
    </section>
  );
}
