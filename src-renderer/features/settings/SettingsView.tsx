import { useId, type ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language } from '../../../src-shared/i18n';
import { selectLanguage, useAppStore } from '../../app/app.store';
import { errorText } from '../../app/errors';
import { ProfileCard } from './ProfileCard';
import { IntegrationsCard } from './IntegrationsCard';

export function SettingsView() {
  const { t } = useTranslation();
  const language = useAppStore(selectLanguage);
  const setLanguage = useAppStore((state) => state.setLanguage);
  const languageError = useAppStore((state) => state.languageError);
  const info = useAppStore((state) => state.info);
  const loadState = useAppStore((state) => state.loadState);
  // When app:info failed the shell already shows why; a dash keeps the rows from saying "Loading" forever.
  const missing = loadState === 'loading' ? t('app.loading') : '–';
  const selectId = useId();
  const hintId = useId();

  function onLanguageChange(event: ChangeEvent<HTMLSelectElement>) {
    const { value } = event.target;
    if (isLanguage(value)) void setLanguage(value);
  }

  return (
    <div className="stack">
      <ProfileCard />
      <div className="card form-card">
        <div className="field">
          <label htmlFor={selectId} className="field-label">
            {t('settings.language')}
          </label>
          <select
            id={selectId}
            className="select"
            value={language}
            onChange={onLanguageChange}
            aria-describedby={hintId}
            data-testid="language-select"
          >
            {LANGUAGES.map((option) => (
              // Each name in its own language, so someone who cannot read the current one still finds theirs.
              <option key={option} value={option} lang={option}>
                {t(`settings.languages.${option}`)}
              </option>
            ))}
          </select>
          <p id={hintId} className="field-hint">
            {t('settings.languageHint')}
          </p>
          {languageError ? (
            <p className="notice notice-error" role="alert">
              {errorText(t, languageError)}
            </p>
          ) : null}
        </div>
      </div>

      <div className="card">
        <dl className="facts">
          <div className="fact">
            <dt>{t('settings.version')}</dt>
            <dd data-testid="app-version">{info ? info.version : missing}</dd>
          </div>
          <div className="fact">
            <dt>{t('settings.dataDir')}</dt>
            <dd>
              {info ? <code className="path" data-testid="app-data-dir">{info.dataDir}</code> : missing}
            </dd>
          </div>
          <div className="fact">
            <dt>{t('settings.gatewayPort')}</dt>
            <dd data-testid="app-gateway-port">{info ? <code>{info.gatewayPort}</code> : missing}</dd>
          </div>
        </dl>
      </div>

      <IntegrationsCard />
    </div>
  );
}

// A plain guard rather than the zod schema: importing zod here would put all of it in the bundle.
function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}
