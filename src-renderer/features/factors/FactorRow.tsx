import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Factor } from '../../../src-shared/domain/mfa';
import { MANAGE } from '../../../src-shared/domain/policy';
import { ConfirmDialog } from '../../app/ConfirmDialog';
import { Dialog } from '../../app/Dialog';
import { assertNever } from '../../app/errors';
import { SubmitButton } from '../../app/FormActions';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { useDateFormats } from '../../app/format';
import { AlertIcon, BanIcon, CloseIcon, MessageIcon, MonitorIcon, PencilIcon, PhoneIcon, RefreshIcon } from '../../app/icons';
import { message, type Message } from '../../app/message';
import { callError } from '../../app/session.store';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { useFactorsStore } from './factors.store';

interface FactorRowProps {
  factor: Factor;
  isLastActive: boolean;
  onMessage(message: Message): void;
  /** "Resume" on a pending factor: the enrollment dialog, at what its method needs (issue 9, item 7; issue 12). */
  onResume(factor: Factor): void;
}

/**
 * One factor in the calm list (Aegis, Ente Auth): what it is, its state and dates, and its
 * actions. A pending one can be resumed or removed; a recovery one says when it gets full rights
 * and can be stopped.
 */
export function FactorRow({ factor, isLastActive, onMessage, onResume }: FactorRowProps) {
  const { t } = useTranslation();
  const formats = useDateFormats();
  const [renaming, setRenaming] = useState(false);
  const [disabling, setDisabling] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [focusLabel, setFocusLabel] = useState(false);
  const renameButton = useRef<HTMLButtonElement>(null);
  const labelRef = useRef<HTMLHeadingElement>(null);
  const labelId = useId();

  // After a disable the buttons are gone with the dialog's opener; the row's name takes focus so
  // the keyboard user stays in the list.
  useEffect(() => {
    if (!focusLabel) return;
    labelRef.current?.focus();
    setFocusLabel(false);
  }, [focusLabel]);
  const canAct = factor.state !== 'disabled';

  const dates: string[] = [];
  if (factor.state === 'pending' && factor.pendingExpiresAt) {
    dates.push(t('factors.pendingLapses', { time: formats.time(factor.pendingExpiresAt) }));
  }
  if (factor.state === 'pending' && factor.recovery) dates.push(t('factors.recoveryPending'));
  if (factor.recoveryUntil) dates.push(t('factors.recoveryUntil', { date: formats.dateTime(factor.recoveryUntil) }));
  if (factor.confirmedAt) dates.push(t('factors.confirmedAt', { date: formats.dateTime(factor.confirmedAt) }));
  if (factor.state === 'active') {
    dates.push(factor.lastUsedAt ? t('factors.lastUsedAt', { date: formats.dateTime(factor.lastUsedAt) }) : t('factors.neverUsed'));
  }

  function endRename() {
    setRenaming(false);
    // The form is gone; focus goes back to the button that opened it.
    requestAnimationFrame(() => renameButton.current?.focus());
  }

  return (
    <li className={`card factor-row factor-${factor.state}`} data-testid="factor-row" data-factor-id={factor.id} data-state={factor.state}>
      <div className="factor-icon" data-type={factor.type}>
        <FactorIcon type={factor.type} />
      </div>
      <div className="factor-main">
        {renaming ? (
          <RenameForm
            factor={factor}
            onDone={(label) => {
              if (label) onMessage(message('factors.renamed', { label }));
              endRename();
            }}
          />
        ) : (
          <div className="factor-title-row">
            <h3 id={labelId} className="factor-label" ref={labelRef} tabIndex={-1}>
              {factor.label}
            </h3>
            <StateBadge state={factor.state} />
            {factor.state === 'active' && factor.recovery ? (
              <span className="badge badge-recovery" data-testid="factor-recovery">
                {t('factors.recovery')}
              </span>
            ) : null}
          </div>
        )}
        <p className="factor-meta">
          <span>{t(`factors.type.${factor.type}`)}</span>
          <span className="factor-params">
            {factor.type === 'totp'
              ? t('factors.params', {
                  digits: factor.digits,
                  period: factor.period,
                  algorithm: t(`factors.algorithms.${factor.algorithm}`),
                })
              : factor.type === 'sms'
                ? factor.phoneMasked
                : t('factors.pushAnswer')}
          </span>
        </p>
        {factor.type === 'sms' ? (
          // NIST SP 800-63B §5.1.3.3: SMS is a restricted authenticator (a text can be intercepted,
          // a number ported to another SIM); issue 12 asks the list to say so beside each one.
          <p className="factor-note" data-testid="factor-nist-note">
            <AlertIcon />
            <span>{t('factors.smsNist')}</span>
          </p>
        ) : null}
        {dates.length > 0 ? (
          <p className="factor-dates">
            {dates.map((text) => (
              <span key={text}>{text}</span>
            ))}
          </p>
        ) : null}
      </div>
      {canAct && !renaming ? (
        <div className="factor-actions">
          {factor.state === 'pending' ? (
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => onResume(factor)}
              aria-describedby={labelId}
              data-testid="factor-resume"
            >
              <RefreshIcon />
              {t('factors.resume')}
            </button>
          ) : null}
          <button
            ref={renameButton}
            type="button"
            className="button button-secondary button-small"
            onClick={() => setRenaming(true)}
            aria-describedby={labelId}
            data-testid="factor-rename"
          >
            <PencilIcon />
            {t('factors.rename')}
          </button>
          {factor.state === 'active' ? (
            <button
              type="button"
              className="button button-danger-quiet button-small"
              onClick={() => setDisabling(true)}
              aria-describedby={labelId}
              data-testid="factor-disable"
            >
              <BanIcon />
              {factor.recovery ? t('factors.cancelRecovery') : t('factors.disable')}
            </button>
          ) : null}
          {factor.state === 'pending' ? (
            <button
              type="button"
              className="button button-danger-quiet button-small"
              onClick={() => setRemoving(true)}
              aria-describedby={labelId}
              data-testid="factor-remove"
            >
              <CloseIcon />
              {t('factors.remove')}
            </button>
          ) : null}
        </div>
      ) : null}
      {removing ? (
        <RemoveDialog
          factor={factor}
          onClose={() => setRemoving(false)}
          onRemoved={() => {
            setRemoving(false);
            onMessage(message('factors.removed', { label: factor.label }));
          }}
        />
      ) : null}
      {disabling ? (
        <DisableDialog
          factor={factor}
          isLastActive={isLastActive}
          onClose={() => setDisabling(false)}
          onDisabled={() => {
            setDisabling(false);
            setFocusLabel(true);
            onMessage(message(factor.recovery ? 'factors.recoveryCancelled' : 'factors.disabled', { label: factor.label }));
          }}
        />
      ) : null}
    </li>
  );
}

/** What the factor is at a glance: an app on a phone, a text message, or this desktop window (push). */
function FactorIcon({ type }: { type: Factor['type'] }) {
  switch (type) {
    case 'totp':
      return <PhoneIcon />;
    case 'sms':
      return <MessageIcon />;
    case 'push':
      return <MonitorIcon />;
    default:
      return assertNever(type);
  }
}

function StateBadge({ state }: { state: Factor['state'] }) {
  const { t } = useTranslation();
  switch (state) {
    case 'active':
    case 'pending':
    case 'disabled':
      return (
        <span className={`badge badge-${state}`} data-testid="factor-state">
          {t(`factors.state.${state}`)}
        </span>
      );
    default:
      return assertNever(state);
  }
}

/** Inline rename: Enter saves, Escape cancels, as in a file manager. */
function RenameForm({ factor, onDone }: { factor: Factor; onDone(label: string | null): void }) {
  const { t } = useTranslation();
  const [label, setLabel] = useState(factor.label);
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const errorId = useId();

  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = label.trim();
    if (busy) return;
    if (!trimmed || trimmed === factor.label) {
      onDone(null);
      return;
    }
    setBusy(true);
    form.clear();
    try {
      const renamed = await window.custodian.factors.rename(factor.id, trimmed);
      useFactorsStore.getState().applyFactor(renamed);
      onDone(renamed.label);
    } catch (error) {
      form.show(callError(error));
      setBusy(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'Escape') {
      event.preventDefault();
      onDone(null);
    }
  }

  return (
    <form className="rename-form" onSubmit={(event) => void onSubmit(event)} noValidate>
      <label htmlFor={inputId} className="visually-hidden">
        {t('factors.nameLabel')}
      </label>
      <input
        ref={inputRef}
        id={inputId}
        className="input rename-input"
        type="text"
        value={label}
        maxLength={60}
        autoComplete="off"
        onChange={(event) => setLabel(event.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={form.state ? errorId : undefined}
        aria-invalid={form.state ? true : undefined}
        data-testid="factor-rename-input"
      />
      <SubmitButton busy={busy} disabled={busy} testId="factor-rename-save" className="button button-primary button-small">
        {t('common.save')}
      </SubmitButton>
      <button type="button" className="button button-secondary button-small" onClick={() => onDone(null)}>
        {t('common.cancel')}
      </button>
      <div className="rename-error">
        <FormErrorNotice form={form} id={errorId} />
      </div>
    </form>
  );
}

interface DisableDialogProps {
  factor: Factor;
  isLastActive: boolean;
  onClose(): void;
  onDisabled(): void;
}

function DisableDialog({ factor, isLastActive, onClose, onDisabled }: DisableDialogProps) {
  const { t } = useTranslation();
  // Tried first: main refuses an admin's last factor, or one a policy still needs, before it asks
  // for the chain; then a critical chain whose grant disables this factor and no other.
  const stepUp = useStepUp({
    purpose: MANAGE.disable(factor.id),
    action: () => window.custodian.factors.disable(factor.id),
    onDone: (disabled) => {
      useFactorsStore.getState().applyFactor(disabled);
      void useFactorsStore.getState().refresh();
      onDisabled();
    },
    onCancel: onClose,
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void stepUp.run();
  }

  // Disabling a recovery factor with one of the owner's other factors stops the recovery.
  const stops = factor.recovery;
  return (
    <Dialog
      title={stops ? t('factors.cancelRecoveryTitle', { label: factor.label }) : t('factors.disableTitle', { label: factor.label })}
      onClose={onClose}
      testId="disable-dialog"
    >
      <form className="stack" onSubmit={onSubmit} noValidate>
        <p>{stops ? t('factors.cancelRecoveryIntro', { label: factor.label }) : t('factors.disableIntro')}</p>
        {isLastActive ? (
          <p className="notice notice-warning notice-small" data-testid="disable-last">
            <AlertIcon />
            <span>{t('factors.disableLast')}</span>
          </p>
        ) : null}
        <p className="field-hint">{t('factors.manageChain')}</p>
        <FormErrorNotice form={stepUp.form} />
        <StepUpActions
          onCancel={onClose}
          stepUp={stepUp}
          testId="disable-confirm"
          icon={<BanIcon />}
          danger
          cancelAutoFocus
        >
          {stops ? t('factors.cancelRecoveryConfirm') : t('factors.disableConfirm')}
        </StepUpActions>
      </form>
      {/* After the form, not in it: the prompt's step forms cannot nest. */}
      {stepUp.prompt}
    </Dialog>
  );
}

/** "Remove" on a pending factor: drops the setup and deletes its secret, after a last look. */
function RemoveDialog({ factor, onClose, onRemoved }: { factor: Factor; onClose(): void; onRemoved(): void }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const form = useFormError();

  async function onConfirm() {
    setBusy(true);
    form.clear();
    try {
      await window.custodian.factors.removePending(factor.id);
      await useFactorsStore.getState().refresh();
      onRemoved();
    } catch (error) {
      form.show(callError(error));
      setBusy(false);
    }
  }

  return (
    <ConfirmDialog
      title={t('factors.removeTitle', { label: factor.label })}
      confirmLabel={t('factors.removeConfirm')}
      busy={busy}
      onConfirm={() => void onConfirm()}
      onCancel={onClose}
      testId="remove-dialog"
    >
      <p>{t('factors.removeBody')}</p>
      <FormErrorNotice form={form} />
    </ConfirmDialog>
  );
}
