import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES } from '../../../src-shared/i18n';
import { selectLanguage, useAppStore } from '../../app/app.store';
import { errorText } from '../../app/errors';
import { SelectField } from '../../app/SelectField';
import { ProfileCard } from './ProfileCard';
import { IntegrationsCard } from './IntegrationsCard';
import { SmsCard } from './SmsCard';
import { TokenTtlCard } from './TokenTtlCard';

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

  return (
    <div className="stack">
      <ProfileCard />
      <div className="card form-card">
        <SelectField
          id={selectId}
          label={t('settings.language')}
          hint={t('settings.languageHint')}
          value={language}
          // Each name in its own language, so someone who cannot read the current one still finds theirs.
          options={LANGUAGES.map((option) => ({ value: option, label: t(`settings.languages.${option}`), lang: option }))}
          onChange={(value) => void setLanguage(value)}
          testId="language-select"
        >
          {languageError ? (
            <p className="notice notice-error" role="alert">
              {errorText(t, languageError)}
            </p>
          ) : null}
        </SelectField>
      </div>

      <TokenTtlCard />

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
      <SmsCard />
    </div>
  );
}
