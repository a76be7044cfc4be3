import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Factor } from '../../../src-shared/domain/mfa';
import { CHAIN_MODES, MAX_CHAIN_STEPS, weakenings, type ChainFactor, type ChainMode, type Policy } from '../../../src-shared/domain/policy';
import { useAppStore } from '../../app/app.store';
import { errorText } from '../../app/errors';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { message as makeMessage, messageText, type Message } from '../../app/message';
import { SelectField } from '../../app/SelectField';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { useFactorsStore } from '../factors/factors.store';
import { EligibleFactorsField } from './EligibleFactorsField';
import { activeChainFactors, choosesNothing, satisfiability } from './eligible-draft';
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
  // Kept as key and parameters, so the line follows a switch of language.
  const [message, setMessage] = useState<Message | null>(null);

  useEffect(() => {
    void load();
  }, [load]);

  // The eligible factors are named by label and checked against the active ones; the shell's
  // `custodian factors ...` changes them too.
  const refreshFactors = useFactorsStore((s) => s.refresh);
  useEffect(() => {
    void refreshFactors();
    return window.custodian.factors.onChanged(() => void refreshFactors());
  }, [refreshFactors]);

  return (
    <div className="stack">
      <p className="field-hint">{t('policies.intro')}</p>
      <p className="status-line status-ok" role="status" data-testid="policies-status">
        {message ? messageText(t, message) : ''}
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
                  if (saved) setMessage(makeMessage('policies.saved', { sensitivity: { key: `approvals.sensitivity.${saved.sensitivity}` } }));
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

// Stands in for the list while the sentence is translated, so each label can sit in its own <bdi>.
const FACTORS_MARK = '\u0000factors\u0000';

function PolicySummary({ policy, onEdit }: { policy: Policy; onEdit(): void }) {
  const { t } = useTranslation();
  const factors = useFactorsStore((s) => s.factors);
  return (
    <div className="panel-header">
      <div>
        <h2 className="section-heading">
          <span className={`badge badge-${policy.sensitivity}`}>{t(`approvals.sensitivity.${policy.sensitivity}`)}</span>
        </h2>
        <p data-testid="policy-summary">
          {t('policies.summary', { count: policy.requiredSteps, mode: t(`policies.mode.${policy.mode}`), seconds: policy.challengeTimeoutSeconds })}
        </p>
        <EligibleSummary policy={policy} factors={factors} />
      </div>
      <button type="button" className="button button-secondary" onClick={onEdit} data-testid="policy-edit">
        {t('policies.edit')}
      </button>
    </div>
  );
}

/**
 * "Eligible: Authenticator app", or by id the factors' labels, in the chain's order for a fixed
 * policy. A listed factor that is no longer active says so; main skips it when drawing a chain.
 */
function EligibleSummary({ policy, factors }: { policy: Policy; factors: readonly Factor[] }) {
  const { t } = useTranslation();
  const rule = policy.eligible;
  if (rule.by === 'types') {
    return <p className="muted">{t('policies.eligible', { factors: rule.types.map((type) => t(`chain.type.${type}`)).join(', ') })}</p>;
  }
  const [before, after] = t(policy.mode === 'fixed' ? 'policies.eligibleOrdered' : 'policies.eligible', { factors: FACTORS_MARK }).split(FACTORS_MARK);
  return (
    <p className="muted">
      {before}
      <span data-testid="policy-eligible-factors">
        {rule.ids.map((id, index) => {
          const factor = factors.find((f) => f.id === id);
          return (
            <span key={id} data-factor={id}>
              {index > 0 ? ', ' : null}
              <bdi>{factor?.label ?? t('policies.unknownFactor')}</bdi>
              {factor && factor.state !== 'active' ? ` (${t('policies.notActive')})` : null}
            </span>
          );
        })}
      </span>
      {after}
    </p>
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
  const eligibleStatusId = useId();
  const factors = useFactorsStore((s) => s.factors);
  const factorsReady = useFactorsStore((s) => s.listState === 'ready');
  const turnedOn = useAppStore((s) => s.info?.mfaMethods);
  const active = useMemo<ChainFactor[]>(() => activeChainFactors(factors, turnedOn), [factors, turnedOn]);

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
      <EligibleFactorsField
        value={draft.eligible}
        mode={draft.mode}
        factors={factors}
        active={active}
        disabled={stepUp.chaining}
        onChange={(eligible) => setDraft({ ...draft, eligible })}
        describedBy={eligibleStatusId}
      />
      <DraftCheck id={eligibleStatusId} policy={policy} draft={draft} active={active} ready={factorsReady} chaining={stepUp.chaining} />
      {stepUp.chaining ? (
        <p className="notice notice-warning notice-small" role="status" data-testid="policy-weaker">
          {t('policies.weakerNeedsChain')}
        </p>
      ) : null}
      <FormErrorNotice form={stepUp.form} />
      <StepUpActions onCancel={() => onDone(null)} stepUp={stepUp} disabled={choosesNothing(draft.eligible)} testId="policy-save">
        {t('policies.save')}
      </StepUpActions>
    </form>
    {/* Beside the policy's form, not inside it: the prompt's step forms cannot nest in another form. */}
    {stepUp.prompt}
    </div>
  );
}

interface DraftCheckProps {
  id: string;
  policy: Policy;
  draft: Policy;
  active: readonly ChainFactor[];
  /** The factors have loaded: until then "0 eligible" would be a false alarm. */
  ready: boolean;
  chaining: boolean;
}

/**
 * What the draft will meet before it is saved: whether enough active factors are eligible for its
 * steps, and whether saving it will ask for the critical chain (the same `weakenings` main judges
 * with). Main decides again when it saves.
 */
function DraftCheck({ id, policy, draft, active, ready, chaining }: DraftCheckProps) {
  const { t } = useTranslation();
  const nothing = choosesNothing(draft.eligible);
  const check = satisfiability(draft, active);
  const weaker = weakenings(policy, draft, active);
  return (
    <>
      <p
        id={id}
        className={nothing || !check.met ? 'status-line status-bad' : 'status-line status-ok'}
        role="status"
        data-testid="policy-satisfiable"
        data-met={ready && !nothing ? String(check.met) : undefined}
      >
        {!ready ? '' : nothing ? t('policies.chooseOne') : t(check.met ? 'policies.enough' : 'policies.notEnough', { eligible: check.eligible, steps: check.steps })}
      </p>
      {/* While the chain runs, policy-weaker says what happens next instead. */}
      {weaker.length > 0 && !chaining ? (
        <div className="notice notice-warning notice-small" data-testid="policy-weaker-preview" data-weakenings={weaker.join(' ')}>
          <div>
            <p>{t('policies.weakerPreview')}</p>
            <ul className="weakening-list">
              {weaker.map((w) => (
                <li key={w}>{t(`policies.weakening.${w}`)}</li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}
    </>
  );
}
