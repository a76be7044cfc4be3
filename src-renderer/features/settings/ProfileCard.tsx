import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Profile, Role } from '../../../src-shared/domain/mfa';
import { CodeField, normalizeCode } from '../../app/CodeField';
import { Dialog } from '../../app/Dialog';
import { toCustodianError } from '../../app/errors';
import { FormActions } from '../../app/FormActions';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { selectHasProfile, selectMfaEnabled, useSessionStore } from '../../app/session.store';
import { RoleField } from '../onboarding/ProfileForm';
import { SetupCallout } from '../onboarding/SetupCallout';

/** Who approves here, and the role change that needs a code (profile:set-role). */
export function ProfileCard() {
  const { t } = useTranslation();
  const hasProfile = useSessionStore(selectHasProfile);
  const profile = useSessionStore((state) => state.profile);
  const mfaEnabled = useSessionStore(selectMfaEnabled);
  const [changing, setChanging] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const titleId = useId();

  if (!hasProfile) return <SetupCallout />;

  return (
    <section className="card" aria-labelledby={titleId} data-testid="profile-card">
      <div className="panel-header panel-header-padded">
        <h2 id={titleId} className="section-heading">
          {t('settings.profileTitle')}
        </h2>
        {profile ? (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setMessage(null);
              setChanging(true);
            }}
            data-testid="change-role"
          >
            {t('profile.changeRole')}
          </button>
        ) : null}
      </div>
      {profile ? (
        <dl className="facts">
          <div className="fact">
            <dt>{t('profile.displayName')}</dt>
            <dd data-testid="profile-name">{profile.displayName}</dd>
          </div>
          <div className="fact">
            <dt>{t('profile.principal')}</dt>
            <dd>
              <code data-testid="profile-principal">{profile.principal}</code>
            </dd>
          </div>
          <div className="fact">
            <dt>{t('profile.role')}</dt>
            <dd>
              <span data-testid="profile-role" data-role={profile.role}>
                {t(`profile.roles.${profile.role}`)}
              </span>
              <span className="fact-note">{t(`profile.ceilings.${profile.role}`)}</span>
            </dd>
          </div>
          <div className="fact">
            <dt>{t('profile.mfa')}</dt>
            <dd data-testid="profile-mfa" data-enabled={mfaEnabled}>
              <span className={mfaEnabled ? 'badge badge-active' : 'badge badge-disabled'}>
                {mfaEnabled ? t('profile.mfaOn') : t('profile.mfaOff')}
              </span>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="muted panel-body">{t('app.loading')}</p>
      )}
      <p className="status-line status-ok panel-status" role="status">
        {message ?? ''}
      </p>
      {changing && profile ? (
        <ChangeRoleDialog
          profile={profile}
          mfaEnabled={mfaEnabled}
          onClose={() => setChanging(false)}
          onChanged={(role) => {
            setChanging(false);
            setMessage(t('profile.roleChanged', { role: t(`profile.roles.${role}`) }));
          }}
        />
      ) : null}
    </section>
  );
}

interface ChangeRoleDialogProps {
  profile: Profile;
  mfaEnabled: boolean;
  onClose(): void;
  onChanged(role: Role): void;
}

function ChangeRoleDialog({ profile, mfaEnabled, onClose, onChanged }: ChangeRoleDialogProps) {
  const { t } = useTranslation();
  const setRole = useSessionStore((state) => state.setRole);
  const [role, setSelected] = useState<Role>(profile.role);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const ids = { role: useId(), code: useId(), error: useId() };
  const value = normalizeCode(code);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || form.blocked || role === profile.role || (mfaEnabled && !value)) return;
    setBusy(true);
    form.clear();
    try {
      // With MFA off there is no code to give; main decides whether the change may go ahead.
      const updated = await setRole(role, mfaEnabled ? value : '');
      onChanged(updated.role);
    } catch (error) {
      form.show(toCustodianError(error));
      setCode('');
      setBusy(false);
    }
  }

  return (
    <Dialog title={t('profile.changeRoleTitle')} onClose={onClose} testId="change-role-dialog">
      <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        <p>{mfaEnabled ? t('profile.changeRoleIntro') : t('profile.changeRoleNoMfa')}</p>
        <RoleField id={ids.role} label={t('profile.newRole')} value={role} onChange={setSelected} testId="change-role-select" autoFocus />
        {mfaEnabled ? (
          <CodeField
            id={ids.code}
            label={t('code.totpLabel')}
            hint={t('code.totpHint')}
            value={code}
            onChange={setCode}
            kind="totp"
            testId="change-role-code"
            errorId={form.state ? ids.error : undefined}
          />
        ) : null}
        <FormErrorNotice form={form} id={ids.error} />
        <FormActions
          onCancel={onClose}
          busy={busy}
          disabled={busy || form.blocked || role === profile.role || (mfaEnabled && !value)}
          testId="change-role-confirm"
        >
          {t('profile.changeRoleSubmit')}
        </FormActions>
      </form>
    </Dialog>
  );
}
