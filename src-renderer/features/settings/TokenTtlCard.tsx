import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { TOKEN_TTL_PURPOSE, type TokenTtlSetting } from '../../../src-shared/domain/settings';
import { useAppStore } from '../../app/app.store';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { SelectField } from '../../app/SelectField';
import { StepUpActions, useStepUp } from '../chain/step-up';

/** The lifetimes offered: 5, 15, 30 and 60 minutes, 4 and 24 hours (a shell may set any other). */
const CHOICES = [300, 900, 1800, 3600, 14_400, 86_400] as const;

/** "15 min", "4 h", "90 s": the largest whole unit, in the window's language. */
export function formatTtl(t: TFunction, seconds: number): string {
  if (seconds % 3600 === 0) return t('settings.tokenTtl.hours', { count: seconds / 3600 });
  if (seconds % 60 === 0) return t('settings.tokenTtl.minutes', { count: seconds / 60 });
  return t('settings.tokenTtl.seconds', { count: seconds });
}

/**
 * The restore token TTL (issue 11): what tokens issued from now on get, in every process on the
 * data directory. Shorter is saved at once; longer is a weakening, so main answers
 * ERR-MFA-REQUIRED, the one step-up hook runs the critical chain for `settings:token-ttl` and
 * saves again. Pinned by the environment, it is shown read-only with the variable that sets it.
 */
export function TokenTtlCard() {
  const { t } = useTranslation();
  const ttl = useAppStore((state) => state.settings?.tokenTtl ?? null);
  // What this card last saved: its "Saved" line holds only while that is still the setting (a
  // shell may change it a moment later, and the line would then tell an old story).
  const [saved, setSaved] = useState<number | null>(null);
  // Cancel starts the form afresh: its chain ends with it and the choice goes back to the setting.
  const [attempt, setAttempt] = useState(0);
  const titleId = useId();

  return (
    <section className="card form-card stack" aria-labelledby={titleId} data-testid="token-ttl-card">
      <h2 id={titleId} className="section-heading">
        {t('settings.tokenTtl.title')}
      </h2>
      {ttl ? (
        <TokenTtlForm
          key={attempt}
          ttl={ttl}
          onSaved={setSaved}
          onCancel={() => {
            setSaved(null);
            setAttempt((n) => n + 1);
          }}
          onEdit={() => setSaved(null)}
        />
      ) : (
        <p className="muted">{t('app.loading')}</p>
      )}
      <p className="status-line status-ok" role="status" data-testid="token-ttl-saved">
        {saved !== null && ttl?.seconds === saved ? t('settings.tokenTtl.saved', { duration: formatTtl(t, saved) }) : ''}
      </p>
    </section>
  );
}

interface TokenTtlFormProps {
  ttl: TokenTtlSetting;
  onSaved(seconds: number): void;
  onCancel(): void;
  onEdit(): void;
}

function TokenTtlForm({ ttl, onSaved, onCancel, onEdit }: TokenTtlFormProps) {
  const { t } = useTranslation();
  const applySettings = useAppStore((state) => state.applySettings);
  // null follows the setting (a change from another process shows at once); a number is a choice not yet saved.
  const [draft, setDraft] = useState<number | null>(null);
  const chosen = draft ?? ttl.seconds;
  const pinned = ttl.source === 'environment';
  const stepUp = useStepUp({
    purpose: TOKEN_TTL_PURPOSE,
    action: () => window.custodian.settings.setTokenTtl(chosen),
    onDone: (settings) => {
      applySettings(settings);
      setDraft(null);
      onSaved(settings.tokenTtl.seconds);
    },
    onCancel,
  });
  const selectId = useId();
  const sourceId = useId();
  // The setting in force is always offered, even one a shell set outside the choices.
  const options = [...new Set<number>([...CHOICES, ttl.seconds])].sort((a, b) => a - b).map((seconds) => ({ value: seconds, label: formatTtl(t, seconds) }));
  const longer = !pinned && chosen > ttl.seconds;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (pinned || chosen === ttl.seconds) return;
    void stepUp.run();
  }

  return (
    <div className="stack">
      <form className="stack" onSubmit={onSubmit} noValidate data-testid="token-ttl-form">
        <SelectField<number>
          id={selectId}
          label={t('settings.tokenTtl.label')}
          hint={t('settings.tokenTtl.hint')}
          value={chosen}
          options={options}
          onChange={(seconds) => {
            onEdit();
            setDraft(seconds);
          }}
          describedBy={sourceId}
          disabled={pinned || stepUp.chaining}
          testId="token-ttl-select"
        >
          <p id={sourceId} className="field-hint" data-testid="token-ttl-source" data-source={ttl.source}>
            {t(`settings.tokenTtl.source.${ttl.source}`, { duration: formatTtl(t, ttl.seconds), variable: ttl.variable ?? '' })}
          </p>
        </SelectField>
        {longer ? (
          <p className="notice notice-warning notice-small" role="status" data-testid="token-ttl-longer">
            {t('settings.tokenTtl.longerNeedsChain')}
          </p>
        ) : null}
        <FormErrorNotice form={stepUp.form} />
        {pinned ? null : (
          <StepUpActions onCancel={onCancel} stepUp={stepUp} disabled={chosen === ttl.seconds} testId="token-ttl-save">
            {t('settings.tokenTtl.save')}
          </StepUpActions>
        )}
      </form>
      {/* After the form, not in it: the prompt's step forms cannot nest. */}
      {stepUp.prompt}
    </div>
  );
}
