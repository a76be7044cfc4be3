import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { CHAIN_MODES, MAX_CHAIN_STEPS, type ChainMode, type Policy } from '../../../src-shared/domain/policy';
import { errorText } from '../../app/errors';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { SelectField } from '../../app/SelectField';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { usePoliciesStore } from './policies.store';

/** The purpose a weakening's chain is for; main's POLICY_WEAKEN_PURPOSE. */
const WEAKEN = 'policies:weaken';
const TIMEOUTS = [30, 60, 90, 120, 180, 300] as const;

/**
 * The Policies screen (issue 10): one policy per sensitivity, each editable. Making one weaker
 * (fewer steps, fixed instead of random, a longer timeout) takes a chain at the critical policy
 * first, through the same prompt as every step-up; the change is saved when that chain completes.
 */
export function PoliciesView() {
  const { t } = useTranslation();
  const policies = usePoliciesStore((s) => s.policies);
  const loadError = usePoliciesStore((s) => s.loadError);
  const load = usePoliciesStore((s) => s.load);
  const [editing, setEditing] = useState<Policy['sensitivity'] | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="stack">
      <p className="field-hint">{t('policies.intro')}</p>
      <p className="status-line status-ok" role="status" data-testid="policies-status">
        {message ?? ''}
      </p>
      {loadError ? (
        <p className="notice notice-error" role="alert" data-code={loadError.code}>
          {errorText(t, loadError)}
        </p>
      ) : null}
      <ul className="policy-list" aria-label={t('policies.title')}>
        {policies.map((policy) => (
          <li key={policy.sensitivity} className="card panel" data-testid="policy-row" data-sensitivity={policy.sensitivity}>
            {editing === policy.sensitivity ? (
              <PolicyForm
                policy={policy}
                onDone={(saved) => {
                  setEditing(null);
                  if (saved) setMessage(t('policies.saved', { sensitivity: t(`approvals.sensitivity.${saved.sensitivity}`) }));
                }}
              />
            ) : (
              <PolicySummary
                policy={policy}
                onEdit={() => {
                  setMessage(null);
                  setEditing(policy.sensitivity);
                }}
              />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function PolicySummary({ policy, onEdit }: { policy: Policy; onEdit(): void }) {
  const { t } = useTranslation();
  const eligible = policy.eligible.by === 'types' ? policy.eligible.types.map((type) => t(`chain.type.${type}`)).join(', ') : t('policies.byIds', { count: policy.eligible.ids.length });
  return (
    <div className="panel-header">
      <div>
        <h2 className="section-heading">
          <span className={`badge badge-${policy.sensitivity}`}>{t(`approvals.sensitivity.${policy.sensitivity}`)}</span>
        </h2>
        <p data-testid="policy-summary">
          {t('policies.summary', { count: policy.requiredSteps, mode: t(`policies.mode.${policy.mode}`), seconds: policy.challengeTimeoutSeconds })}
        </p>
        <p className="muted">{t('policies.eligible', { factors: eligible })}</p>
      </div>
      <button type="button" className="button button-secondary" onClick={onEdit} data-testid="policy-edit">
        {t('policies.edit')}
      </button>
    </div>
  );
}

function PolicyForm({ policy, onDone }: { policy: Policy; onDone(saved: Policy | null): void }) {
  const { t } = useTranslation();
  const save = usePoliciesStore((s) => s.save);
  const [draft, setDraft] = useState<Policy>(policy);
  // A weakening: main answers ERR-MFA-REQUIRED, a critical chain runs, and this same change
  // (the draft as it is when the chain completes) is saved.
  const stepUp = useStepUp({ purpose: WEAKEN, action: () => save(draft), onDone, onCancel: () => onDone(null) });
  const modeId = useId();
  const stepsId = useId();
  const timeoutId = useId();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void stepUp.run();
  }

  return (
    <div className="stack">
    <form className="stack" onSubmit={onSubmit} noValidate data-testid="policy-form">
      <h2 className="section-heading">{t('policies.editTitle', { sensitivity: t(`approvals.sensitivity.${policy.sensitivity}`) })}</h2>
      <div className="field-grid">
        <SelectField<ChainMode>
          id={modeId}
          label={t('policies.modeLabel')}
          value={draft.mode}
          options={CHAIN_MODES.map((mode) => ({ value: mode, label: t(`policies.mode.${mode}`) }))}
          onChange={(mode) => setDraft({ ...draft, mode })}
          testId="policy-mode"
          autoFocus
        />
        <SelectField<number>
          id={stepsId}
          label={t('policies.stepsLabel')}
          value={draft.requiredSteps}
          options={Array.from({ length: MAX_CHAIN_STEPS }, (_, i) => ({ value: i + 1, label: String(i + 1) }))}
          onChange={(requiredSteps) => setDraft({ ...draft, requiredSteps })}
          testId="policy-steps"
        />
        <SelectField<number>
          id={timeoutId}
          label={t('policies.timeoutLabel')}
          value={draft.challengeTimeoutSeconds}
          options={[...new Set([...TIMEOUTS, policy.challengeTimeoutSeconds])].sort((a, b) => a - b).map((s) => ({ value: s, label: t('policies.seconds', { seconds: s }) }))}
          onChange={(challengeTimeoutSeconds) => setDraft({ ...draft, challengeTimeoutSeconds })}
          testId="policy-timeout"
        />
      </div>
      {stepUp.chaining ? (
        <p className="notice notice-warning notice-small" role="status" data-testid="policy-weaker">
          {t('policies.weakerNeedsChain')}
        </p>
      ) : null}
      <FormErrorNotice form={stepUp.form} />
      <StepUpActions onCancel={() => onDone(null)} stepUp={stepUp} testId="policy-save">
        {t('policies.save')}
      </StepUpActions>
    </form>
    {/* Beside the policy's form, not inside it: the prompt's step forms cannot nest in another form. */}
    {stepUp.prompt}
    </div>
  );
}
