import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Profile, Role } from '../../../src-shared/domain/mfa';
import { MANAGE } from '../../../src-shared/domain/policy';
import { Dialog } from '../../app/Dialog';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { message as makeMessage, messageText, type Message } from '../../app/message';
import { selectHasProfile, selectMfaEnabled, useSessionStore } from '../../app/session.store';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { RoleField } from '../onboarding/ProfileForm';
import { SetupCallout } from '../onboarding/SetupCallout';

/** Who approves here, and the role change that takes a critical chain (profile:set-role). */
export function ProfileCard() {
  const { t } = useTranslation();
  const hasProfile = useSessionStore(selectHasProfile);
  const profile = useSessionStore((state) => state.profile);
  const mfaEnabled = useSessionStore(selectMfaEnabled);
  const [changing, setChanging] = useState(false);
  // Kept as key and parameters, so the line follows a switch of language.
  const [message, setMessage] = useState<Message | null>(null);
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
        {message ? messageText(t, message) : ''}
      </p>
      {changing && profile ? (
        <ChangeRoleDialog
          profile={profile}
          mfaEnabled={mfaEnabled}
          onClose={() => setChanging(false)}
          onChanged={(role) => {
            setChanging(false);
            setMessage(makeMessage('profile.roleChanged', { role: { key: `profile.roles.${role}` } }));
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
  const roleId = useId();
  // A privilege change: a critical chain whose grant serves this very role and no other.
  const stepUp = useStepUp({ purpose: MANAGE.role(role), action: () => setRole(role), onDone: (updated) => onChanged(updated.role), onCancel: onClose });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (role === profile.role || !mfaEnabled) return;
    void stepUp.run();
  }

  return (
    <Dialog title={t('profile.changeRoleTitle')} onClose={onClose} testId="change-role-dialog">
      <form className="stack" onSubmit={onSubmit} noValidate>
        <p>{mfaEnabled ? t('profile.changeRoleIntro') : t('profile.changeRoleNoMfa')}</p>
        <RoleField
          id={roleId}
          label={t('profile.newRole')}
          value={role}
          onChange={setSelected}
          testId="change-role-select"
          autoFocus
          disabled={stepUp.chaining}
        />
        <FormErrorNotice form={stepUp.form} />
        <StepUpActions
          onCancel={onClose}
          stepUp={stepUp}
          disabled={role === profile.role || !mfaEnabled}
          testId="change-role-confirm"
        >
          {t('profile.changeRoleSubmit')}
        </StepUpActions>
      </form>
      {/* After the form, not in it: the prompt's step forms cannot nest. */}
      {stepUp.prompt}
    </Dialog>
  );
}
