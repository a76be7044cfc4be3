import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role } from '../../../src-shared/domain/mfa';
import { toCustodianError } from '../../app/errors';
import { SubmitButton } from '../../app/FormActions';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { SelectField } from '../../app/SelectField';
import { useSessionStore } from '../../app/session.store';
import { PRINCIPAL_PATTERN, ROLE_OPTIONS } from './roles';

type FieldName = 'displayName' | 'principal';

/** Step 1 of the setup: who approves on this desktop (profile:init). */
export function ProfileForm({ onCreated, onCancel }: { onCreated(): void; onCancel(): void }) {
  const { t } = useTranslation();
  const initProfile = useSessionStore((state) => state.initProfile);
  const [displayName, setDisplayName] = useState('');
  const [principal, setPrincipal] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [invalid, setInvalid] = useState<Partial<Record<FieldName, string>>>({});
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const ids = {
    displayName: useId(),
    principal: useId(),
    role: useId(),
    error: useId(),
  };

  // The button that opened the setup is gone; the first field takes focus.
  useEffect(() => {
    document.getElementById(ids.displayName)?.focus();
  }, [ids.displayName]);

  function validate(): Partial<Record<FieldName, string>> {
    const found: Partial<Record<FieldName, string>> = {};
    if (!displayName.trim()) found.displayName = t('common.required');
    if (!principal.trim()) found.principal = t('common.required');
    else if (!PRINCIPAL_PATTERN.test(principal.trim())) found.principal = t('onboarding.principalInvalid');
    return found;
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || form.blocked) return;
    const found = validate();
    setInvalid(found);
    const first = (['displayName', 'principal'] as const).find((name) => found[name]);
    if (first) {
      document.getElementById(ids[first])?.focus();
      return;
    }
    setBusy(true);
    form.clear();
    try {
      await initProfile({ displayName: displayName.trim(), principal: principal.trim(), role });
      onCreated();
    } catch (error) {
      form.show(toCustodianError(error));
      setBusy(false);
    }
  }

  function describedBy(name: FieldName): string {
    return invalid[name] ? `${ids[name]}-hint ${ids[name]}-error` : `${ids[name]}-hint`;
  }

  return (
    <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate data-testid="onboarding-form">
      <p className="muted">{t('onboarding.profileIntro')}</p>
      <div className="field">
        <label htmlFor={ids.displayName} className="field-label">
          {t('profile.displayName')}
        </label>
        <input
          id={ids.displayName}
          className="input"
          type="text"
          value={displayName}
          maxLength={80}
          autoComplete="name"
          onChange={(event) => setDisplayName(event.target.value)}
          aria-describedby={describedBy('displayName')}
          aria-invalid={invalid.displayName ? true : undefined}
          data-testid="onboarding-name"
          data-autofocus=""
        />
        <p id={`${ids.displayName}-hint`} className="field-hint">
          {t('profile.displayNameHint')}
        </p>
        {invalid.displayName ? (
          <p id={`${ids.displayName}-error`} className="field-error">
            {invalid.displayName}
          </p>
        ) : null}
      </div>

      <div className="field">
        <label htmlFor={ids.principal} className="field-label">
          {t('profile.principal')}
        </label>
        <input
          id={ids.principal}
          className="input input-mono"
          type="text"
          value={principal}
          maxLength={120}
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          onChange={(event) => setPrincipal(event.target.value)}
          aria-describedby={describedBy('principal')}
          aria-invalid={invalid.principal ? true : undefined}
          data-testid="onboarding-principal"
        />
        <p id={`${ids.principal}-hint`} className="field-hint">
          {t('profile.principalHint')}
        </p>
        {invalid.principal ? (
          <p id={`${ids.principal}-error`} className="field-error">
            {invalid.principal}
          </p>
        ) : null}
      </div>

      <RoleField id={ids.role} label={t('profile.role')} value={role} onChange={setRole} testId="onboarding-role" />

      <FormErrorNotice form={form} id={ids.error} />
      <div className="button-row">
        <SubmitButton busy={busy} disabled={busy || form.blocked} testId="onboarding-submit">
          {t('onboarding.submit')}
        </SubmitButton>
        <button type="button" className="button button-secondary" onClick={onCancel} data-testid="onboarding-cancel">
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

interface RoleFieldProps {
  id: string;
  label: string;
  value: Role;
  onChange(role: Role): void;
  testId: string;
  autoFocus?: boolean;
  disabled?: boolean;
}

/** The role picker, with every role's ceiling beside it so the choice is an informed one. */
export function RoleField({ id, label, value, onChange, testId, autoFocus, disabled }: RoleFieldProps) {
  const { t } = useTranslation();
  const ceilingsId = useId();
  return (
    <SelectField
      id={id}
      label={label}
      value={value}
      options={ROLE_OPTIONS.map((role) => ({ value: role, label: t(`profile.roles.${role}`) }))}
      onChange={onChange}
      testId={testId}
      describedBy={ceilingsId}
      wide
      autoFocus={autoFocus}
      disabled={disabled}
    >
      <RoleCeilings id={ceilingsId} selected={value} />
    </SelectField>
  );
}

/** Each role's approval ceiling on one line, the chosen one marked. */
function RoleCeilings({ id, selected }: { id: string; selected: Role }) {
  const { t } = useTranslation();
  return (
    <div id={id} className="role-ceilings">
      <p className="field-hint">{t('profile.roleHint')}</p>
      <ul className="role-list">
        {ROLE_OPTIONS.map((option) => (
          <li key={option} className={option === selected ? 'role-item role-item-selected' : 'role-item'}>
            <span className="role-name">{t(`profile.roles.${option}`)}</span>
            <span className="role-ceiling">{t(`profile.ceilings.${option}`)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
