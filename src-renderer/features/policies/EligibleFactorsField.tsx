import { useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ENROLLABLE_FACTOR_TYPES, type Factor } from '../../../src-shared/domain/mfa';
import { eligibleFactors, FACTOR_TYPES, type ChainFactor, type ChainMode, type EligibleFactors, type FactorType } from '../../../src-shared/domain/policy';
import { useAppStore } from '../../app/app.store';
import { ArrowDownIcon, ArrowUpIcon } from '../../app/icons';
import { message as makeMessage, messageText, type Message } from '../../app/message';
import { movedId, withId, withType } from './eligible-draft';

interface EligibleFactorsFieldProps {
  value: EligibleFactors;
  mode: ChainMode;
  /** Every factor the Factors screen knows, so a listed factor that is no longer active still shows (to be unchecked). */
  factors: readonly Factor[];
  /** The active ones, in main's order. */
  active: readonly ChainFactor[];
  /** Held still while a chain pays for the change. */
  disabled: boolean;
  onChange(value: EligibleFactors): void;
  /** The live "enough factors?" line, read with the group. */
  describedBy: string;
}

/**
 * Which factors a policy admits (issue 10 "Policies": "eligible factors (by id or by type)"):
 * any active factor of some types, or a list of factors, whose order in a fixed-order policy is
 * the chain's. Each choice is remembered while the other is shown, so flipping between them
 * loses nothing. A type with no factor method in this build is shown, disabled, with the reason.
 */
export function EligibleFactorsField({ value, mode, factors, active, disabled, onChange, describedBy }: EligibleFactorsFieldProps) {
  const { t } = useTranslation();
  const name = useId();
  const typesId = useId();
  const idsId = useId();
  // Switching to "only these factors" starts from the factors the types admit now: the same
  // chain, so the switch alone is neither weaker nor stronger.
  const [types, setTypes] = useState<FactorType[]>(() => (value.by === 'types' ? value.types : [...ENROLLABLE_FACTOR_TYPES]));
  const [ids, setIds] = useState<string[]>(() => (value.by === 'ids' ? value.ids : eligibleFactors({ eligible: value }, active).map((f) => f.id)));

  const chooseTypes = (next: FactorType[]) => {
    setTypes(next);
    onChange({ by: 'types', types: next });
  };
  const chooseIds = (next: string[]) => {
    setIds(next);
    onChange({ by: 'ids', ids: next });
  };

  return (
    <fieldset className="eligible" disabled={disabled} aria-describedby={describedBy} data-testid="policy-eligible">
      <legend className="field-label">{t('policies.eligibleTitle')}</legend>
      <div className="eligible-option">
        <Choice id={typesId} name={name} checked={value.by === 'types'} onSelect={() => chooseTypes(types)} testId="policy-eligible-types">
          {t('policies.eligibleByTypes')}
        </Choice>
        {value.by === 'types' ? <TypeChoices chosen={value.types} active={active} onChange={chooseTypes} /> : null}
      </div>
      <div className="eligible-option">
        <Choice id={idsId} name={name} checked={value.by === 'ids'} onSelect={() => chooseIds(ids)} testId="policy-eligible-ids">
          {t('policies.eligibleByIds')}
        </Choice>
        {value.by === 'ids' ? <FactorChoices chosen={value.ids} mode={mode} factors={factors} active={active} onChange={chooseIds} /> : null}
      </div>
    </fieldset>
  );
}

interface ChoiceProps {
  id: string;
  name: string;
  checked: boolean;
  onSelect(): void;
  testId: string;
  children: ReactNode;
}

/** One of the two ways to name the factors: a radio button and its label. */
function Choice({ id, name, checked, onSelect, testId, children }: ChoiceProps) {
  return (
    <div className="checkbox-row">
      <input id={id} type="radio" className="checkbox" name={name} checked={checked} onChange={onSelect} data-testid={testId} />
      <label htmlFor={id}>{children}</label>
    </div>
  );
}

function TypeChoices({ chosen, active, onChange }: { chosen: readonly FactorType[]; active: readonly ChainFactor[]; onChange(types: FactorType[]): void }) {
  const { t } = useTranslation();
  const base = useId();
  // Until app:info answers, no method is said to be off: main decides again when it saves.
  const turnedOn = useAppStore((s) => s.info?.mfaMethods) ?? FACTOR_TYPES;
  return (
    <fieldset className="eligible-choices">
      <legend className="visually-hidden">{t('policies.typesLegend')}</legend>
      {FACTOR_TYPES.map((type) => {
        const id = `${base}-${type}`;
        const checked = chosen.includes(type);
        const enrollable = ENROLLABLE_FACTOR_TYPES.some((m) => m === type);
        // MFA_METHODS may turn a method off (issue 12): its factors count for no policy.
        const on = turnedOn.includes(type);
        const count = active.filter((f) => f.type === type).length;
        return (
          <div key={type} className="checkbox-row eligible-row" data-testid="policy-type" data-type={type}>
            <input
              id={id}
              type="checkbox"
              className="checkbox"
              checked={checked}
              // A type no method can enroll, or one turned off, may still be unchecked if a policy already names it.
              disabled={(!enrollable || !on) && !checked}
              aria-describedby={`${id}-note`}
              onChange={(event) => onChange(withType(chosen, type, event.target.checked))}
            />
            <label htmlFor={id} className="eligible-label">
              {t(`chain.type.${type}`)}
            </label>
            <span id={`${id}-note`} className="field-hint">
              {!enrollable ? t('policies.typeUnavailable') : on ? t('policies.typeActive', { count }) : t('policies.typeTurnedOff')}
            </span>
          </div>
        );
      })}
    </fieldset>
  );
}

interface FactorChoicesProps {
  chosen: readonly string[];
  mode: ChainMode;
  factors: readonly Factor[];
  active: readonly ChainFactor[];
  onChange(ids: string[]): void;
}

/**
 * The checked factors first, in the chain's order (numbered, with up and down in a fixed-order
 * policy), then the other active ones. A checked factor that is no longer active stays listed so
 * it can be unchecked; main skips it when drawing a chain.
 */
function FactorChoices({ chosen, mode, factors, active, onChange }: FactorChoicesProps) {
  const { t } = useTranslation();
  const base = useId();
  const hintId = `${base}-hint`;
  const ordered = mode === 'fixed';
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  // After a move React may re-insert the row whose button has the focus, which drops it: the
  // keyboard user keeps their place on the same button of the same factor.
  const refocus = useRef<string | null>(null);
  // Key and parameters: the announcement follows a switch of language.
  const [moved, setMoved] = useState<Message | null>(null);

  useLayoutEffect(() => {
    const key = refocus.current;
    refocus.current = null;
    if (key !== null) buttons.current.get(key)?.focus();
  });

  const rows = [
    ...chosen.map((id) => ({ id, checked: true })),
    ...active.filter((f) => !chosen.includes(f.id)).map((f) => ({ id: f.id, checked: false })),
  ];

  const labelOf = (id: string): string => factors.find((f) => f.id === id)?.label ?? t('policies.unknownFactor');

  const move = (id: string, delta: -1 | 1) => {
    const next = movedId(chosen, id, delta);
    // At an end nothing moves (the button is aria-disabled).
    if (next.indexOf(id) !== chosen.indexOf(id)) {
      refocus.current = `${id}:${delta}`;
      setMoved(makeMessage('policies.moved', { label: labelOf(id), position: next.indexOf(id) + 1, total: next.length }));
      onChange(next);
    }
  };

  return (
    <fieldset className="eligible-choices" aria-describedby={hintId}>
      <legend className="visually-hidden">{t('policies.factorsLegend')}</legend>
      <p id={hintId} className="field-hint">
        {rows.length === 0 ? t('policies.noActiveFactors') : ordered ? t('policies.orderFixed') : t('policies.orderRandom')}
      </p>
      <ol className="eligible-factors">
        {rows.map(({ id, checked }, index) => {
          const factor = factors.find((f) => f.id === id);
          const isActive = active.some((f) => f.id === id);
          const inputId = `${base}-${id}`;
          const label = labelOf(id);
          return (
            <li key={id} className="checkbox-row eligible-row" data-testid="policy-factor" data-factor={id} data-checked={checked}>
              <input
                id={inputId}
                type="checkbox"
                className="checkbox"
                checked={checked}
                onChange={(event) => onChange(withId(chosen, id, event.target.checked))}
                data-testid="policy-factor-check"
              />
              <label htmlFor={inputId} className="eligible-label">
                {checked && ordered ? (
                  <span className="eligible-position" aria-hidden="true">
                    {index + 1}
                  </span>
                ) : null}
                <span className="eligible-text">
                  <bdi className="eligible-name">{label}</bdi>
                  <span className="eligible-meta">
                    {[factor ? t(`chain.type.${factor.type}`) : null, isActive ? null : t('policies.notActive')].filter(Boolean).join(' · ')}
                  </span>
                </span>
              </label>
              {checked && ordered ? (
                <span className="eligible-move">
                  {([-1, 1] as const).map((delta) => {
                    const edge = delta === -1 ? index === 0 : index === chosen.length - 1;
                    const text = t(delta === -1 ? 'policies.moveUp' : 'policies.moveDown', { label });
                    return (
                      <button
                        key={delta}
                        ref={(node) => {
                          if (node) buttons.current.set(`${id}:${delta}`, node);
                          else buttons.current.delete(`${id}:${delta}`);
                        }}
                        type="button"
                        className="icon-button icon-button-small"
                        // aria-disabled rather than disabled: a button that reaches the end keeps
                        // the focus instead of dropping it on the page.
                        aria-disabled={edge}
                        aria-label={text}
                        title={text}
                        onClick={() => move(id, delta)}
                        data-testid={delta === -1 ? 'policy-factor-up' : 'policy-factor-down'}
                      >
                        {delta === -1 ? <ArrowUpIcon /> : <ArrowDownIcon />}
                      </button>
                    );
                  })}
                </span>
              ) : null}
            </li>
          );
        })}
      </ol>
      <p className="visually-hidden" role="status">
        {moved ? messageText(t, moved) : ''}
      </p>
    </fieldset>
  );
}
