import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { factorDigits, type EnrollmentView, type Factor, type TotpAlgorithm } from '../../../src-shared/domain/mfa';
import { MANAGE } from '../../../src-shared/domain/policy';
import { useLocalDeadline } from '../../app/app.store';
import { CodeEntry } from '../../app/CodeField';
import { CountdownRing } from '../../app/CountdownRing';
import { focusInitial } from '../../app/Dialog';
import { FormActions } from '../../app/FormActions';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useDateFormats } from '../../app/format';
import { useFormError } from '../../app/form-error';
import { AlertIcon, CopyIcon, SpinnerIcon } from '../../app/icons';
import { SelectField } from '../../app/SelectField';
import { callError, selectMfaEnabled, useSessionStore } from '../../app/session.store';
import { formatMinutes, useSecondsLeft } from '../../app/ticker';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { BackupCodesSheet } from './BackupCodesSheet';
import { EnrollMethodChoice, PushEnrollWait, type EnrollMethod } from './EnrollPush';
import { useFactorsStore } from './factors.store';

export type EnrollStepName = 'details' | 'resume' | 'verify' | 'codes';

type Step =
  | { name: 'details' }
  | { name: 'resume'; factor: Factor }
  | { name: 'verify'; enrollment: EnrollmentView }
  | { name: 'codes'; factor: Factor; codes: string[] };

// Local lists rather than the domain's zod-backed ones, which would pull zod into the bundle.
const ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const satisfies readonly TotpAlgorithm[];
const DIGITS = [6, 8] as const;
const PERIODS = [30, 60] as const;
type Digits = (typeof DIGITS)[number];
type Period = (typeof PERIODS)[number];
/** The pending enrollment's life (DESIGN.md "Enrollment"), for the ring's full circle. */
const PENDING_SECONDS = 600;

interface EnrollFlowProps {
  onFinished(factor: Factor): void;
  onCancel(): void;
  cancelLabel: string;
  cancelTestId?: string;
  onStepChange?(step: EnrollStepName): void;
  /** h3 inside the dialog (whose title is the h2), h2 in the first-run setup. */
  headingLevel: 'h2' | 'h3';
  /** A pending factor to show again ("Resume"), instead of a new one. */
  resume?: Factor | undefined;
}

/**
 * Adding a TOTP factor (issue #4), Aegis-style: name it, scan the QR code (or reveal the secret
 * once to type it in), confirm with a code, and, for the first factor, save the backup codes.
 * The revealed secret and the codes live in this component only and go when it unmounts.
 */
export function EnrollFlow({ onFinished, onCancel, cancelLabel, cancelTestId, onStepChange, headingLevel, resume }: EnrollFlowProps) {
  const { t } = useTranslation();
  const [step, setStep] = useState<Step>(() => (resume ? { name: 'resume', factor: resume } : { name: 'details' }));
  // The first factor turns MFA on and adds the backup-codes step; decided once, at the start.
  const [total] = useState(() => (selectMfaEnabled(useSessionStore.getState()) ? 2 : 3));
  const ref = useRef<HTMLDivElement>(null);
  const Heading = headingLevel;
  const headingId = useId();

  const onStepChangeRef = useRef(onStepChange);
  useEffect(() => {
    onStepChangeRef.current = onStepChange;
  });
  useEffect(() => {
    onStepChangeRef.current?.(step.name);
  }, [step.name]);
  // Each step starts with its first control focused, so the keyboard user carries on where the
  // previous one ended.
  useEffect(() => {
    if (ref.current) focusInitial(ref.current);
  }, [step.name]);

  const index = step.name === 'details' || step.name === 'resume' ? 1 : step.name === 'verify' ? 2 : 3;
  const title =
    step.name === 'details'
      ? t('factors.enroll.detailsTitle')
      : step.name === 'resume'
        ? t('factors.enroll.proveTitle')
        : step.name === 'verify'
          ? step.enrollment.push
            ? t('factors.enroll.pushTitle')
            : t('factors.enroll.scanTitle')
          : t('factors.enroll.codesTitle');

  return (
    <section className="enroll" ref={ref} aria-labelledby={headingId}>
      <p className="step-of">{t('factors.enroll.stepOf', { current: index, total })}</p>
      <Heading id={headingId} className="step-title">
        {title}
      </Heading>
      {step.name === 'details' ? (
        <DetailsStep
          onEnrolled={(enrollment) => setStep({ name: 'verify', enrollment })}
          onCancel={onCancel}
          cancelLabel={cancelLabel}
          cancelTestId={cancelTestId}
        />
      ) : step.name === 'resume' ? (
        <ResumeStep
          factor={step.factor}
          onResumed={(enrollment) => setStep({ name: 'verify', enrollment })}
          onCancel={onCancel}
          cancelLabel={cancelLabel}
          cancelTestId={cancelTestId}
        />
      ) : step.name === 'verify' ? (
        <VerifyStep
          // A new enrollment is a new form: nothing typed or revealed for the old one carries over.
          key={step.enrollment.factor.id}
          enrollment={step.enrollment}
          onConfirmed={(factor, codes) => (codes ? setStep({ name: 'codes', factor, codes }) : onFinished(factor))}
          onRestart={() => setStep({ name: 'details' })}
          onCancel={onCancel}
          cancelLabel={cancelLabel}
          cancelTestId={cancelTestId}
        />
      ) : (
        <BackupCodesSheet codes={step.codes} intro={t('factors.enroll.codesIntro')} onDone={() => onFinished(step.factor)} />
      )}
    </section>
  );
}

interface CancelProps {
  onCancel(): void;
  cancelLabel: string;
  cancelTestId?: string | undefined;
}

/**
 * Once MFA is on, adding an authenticator (or showing a pending one's QR code again) takes a chain
 * at the critical policy (issue 10; issue 9, item 4: an unlocked desk alone must not be enough).
 * A backup code may stand in for a step, and then makes the new one a recovery authenticator.
 */
function ChainNote({ mfaOn }: { mfaOn: boolean }) {
  const { t } = useTranslation();
  if (!mfaOn) return null;
  return (
    <p className="field-hint" data-testid="enroll-chain-note">
      {t('factors.enroll.chainIntro')}
    </p>
  );
}

function DetailsStep({ onEnrolled, onCancel, cancelLabel, cancelTestId }: CancelProps & { onEnrolled(enrollment: EnrollmentView): void }) {
  const { t } = useTranslation();
  const mfaOn = useSessionStore(selectMfaEnabled);
  const [label, setLabel] = useState(() => t('factors.enroll.defaultLabel'));
  const [method, setMethod] = useState<EnrollMethod>('totp');
  const [digits, setDigits] = useState<Digits>(6);
  const [period, setPeriod] = useState<Period>(30);
  const [algorithm, setAlgorithm] = useState<TotpAlgorithm>('SHA1');
  const [labelMissing, setLabelMissing] = useState(false);
  const ids = { label: useId(), labelHint: useId(), labelError: useId(), digits: useId(), period: useId(), algorithm: useId() };
  // Before MFA is on (the first factor) main asks for no chain, and the first try goes through.
  const stepUp = useStepUp({
    purpose: MANAGE.enroll,
    action: () =>
      window.custodian.factors.enroll(method === 'push' ? { type: 'push', label: label.trim() } : { label: label.trim(), digits, period, algorithm }),
    onDone: (enrollment) => {
      // The list shows the pending factor too, with when it lapses.
      void useFactorsStore.getState().refresh();
      onEnrolled(enrollment);
    },
    onCancel,
    cancelLabel,
    cancelTestId,
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!label.trim()) {
      setLabelMissing(true);
      document.getElementById(ids.label)?.focus();
      return;
    }
    void stepUp.run();
  }

  return (
    <>
    <form className="stack" onSubmit={onSubmit} noValidate>
      <div className="field">
        <label htmlFor={ids.label} className="field-label">
          {t('factors.enroll.label')}
        </label>
        <input
          id={ids.label}
          className="input"
          type="text"
          value={label}
          maxLength={60}
          autoComplete="off"
          onChange={(event) => {
            setLabel(event.target.value);
            setLabelMissing(false);
          }}
          aria-describedby={labelMissing ? `${ids.labelHint} ${ids.labelError}` : ids.labelHint}
          aria-invalid={labelMissing || undefined}
          data-testid="enroll-label"
          data-autofocus=""
        />
        <p id={ids.labelHint} className="field-hint">
          {t('factors.enroll.labelHint')}
        </p>
        {labelMissing ? (
          <p id={ids.labelError} className="field-error">
            {t('common.required')}
          </p>
        ) : null}
      </div>

      <EnrollMethodChoice
        value={method}
        onChange={(next) => {
          // An untouched default name follows the kind chosen.
          const defaults = [t('factors.enroll.defaultLabel'), t('factors.enroll.defaultPushLabel')];
          if (defaults.includes(label.trim())) setLabel(next === 'push' ? defaults[1] ?? '' : defaults[0] ?? '');
          setMethod(next);
        }}
      />

      {method === 'push' ? null : (
      <details className="disclosure">
        <summary className="disclosure-summary">{t('factors.enroll.advanced')}</summary>
        <div className="disclosure-body">
          <p className="field-hint">{t('factors.enroll.advancedHint')}</p>
          <div className="field-grid">
            <SelectField
              id={ids.digits}
              label={t('factors.enroll.digits')}
              value={digits}
              options={DIGITS.map((value) => ({ value, label: t('factors.enroll.digitsOption', { digits: value }) }))}
              onChange={setDigits}
              testId="enroll-digits"
            />
            <SelectField
              id={ids.period}
              label={t('factors.enroll.period')}
              value={period}
              options={PERIODS.map((value) => ({ value, label: t('factors.enroll.periodOption', { period: value }) }))}
              onChange={setPeriod}
              testId="enroll-period"
            />
            <SelectField
              id={ids.algorithm}
              label={t('factors.enroll.algorithm')}
              value={algorithm}
              options={ALGORITHMS.map((value) => ({ value, label: t(`factors.algorithms.${value}`) }))}
              onChange={setAlgorithm}
              testId="enroll-algorithm"
            />
          </div>
        </div>
      </details>
      )}

      <ChainNote mfaOn={mfaOn} />
      <FormErrorNotice form={stepUp.form} />
      <StepUpActions
        onCancel={onCancel}
        cancelLabel={cancelLabel}
        cancelTestId={cancelTestId}
        stepUp={stepUp}
        testId="enroll-continue"
      >
        {t('common.continue')}
      </StepUpActions>
    </form>
    {/* After the form, not in it: the prompt's step forms cannot nest. */}
    {stepUp.prompt}
    </>
  );
}

/** "Resume" on a pending factor: its QR code again, after the same chain a new one takes. */
function ResumeStep({ factor, onResumed, onCancel, cancelLabel, cancelTestId }: CancelProps & { factor: Factor; onResumed(enrollment: EnrollmentView): void }) {
  const { t } = useTranslation();
  const formats = useDateFormats();
  const mfaOn = useSessionStore(selectMfaEnabled);
  const stepUp = useStepUp({
    purpose: MANAGE.enroll,
    action: () => window.custodian.factors.resume(factor.id),
    onDone: (enrollment) => {
      void useFactorsStore.getState().refresh();
      onResumed(enrollment);
    },
    onCancel,
    cancelLabel,
    cancelTestId,
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void stepUp.run();
  }

  return (
    <>
    <form className="stack" onSubmit={onSubmit} noValidate>
      <p>{t('factors.enroll.resumeIntro', { label: factor.label, time: factor.pendingExpiresAt ? formats.time(factor.pendingExpiresAt) : '' })}</p>
      <ChainNote mfaOn={mfaOn} />
      <FormErrorNotice form={stepUp.form} />
      <StepUpActions
        onCancel={onCancel}
        cancelLabel={cancelLabel}
        cancelTestId={cancelTestId}
        stepUp={stepUp}
        testId="enroll-resume-submit"
        autoFocus
      >
        {t('factors.enroll.showQr')}
      </StepUpActions>
    </form>
    {stepUp.prompt}
    </>
  );
}

interface VerifyStepProps extends CancelProps {
  enrollment: EnrollmentView;
  onConfirmed(factor: Factor, codes: string[] | null): void;
  onRestart(): void;
}

function VerifyStep({ enrollment, onConfirmed, onRestart, onCancel, cancelLabel, cancelTestId }: VerifyStepProps) {
  const { t } = useTranslation();
  const { factor } = enrollment;

  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const codeId = useId();
  const errorId = useId();
  const noteId = useId();

  // pendingExpiresAt is main's time; the renderer's one offset turns it into this renderer's.
  const deadline = useLocalDeadline(factor.pendingExpiresAt);
  const secondsLeft = useSecondsLeft(deadline);
  const expired = deadline !== null && secondsLeft === 0;
  const startAgain = useRef<HTMLButtonElement>(null);

  // The code field the approver was typing in is gone; "Start again" takes its focus.
  useEffect(() => {
    if (expired) startAgain.current?.focus();
  }, [expired]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || form.blocked || code.length !== factorDigits(factor)) return;
    setBusy(true);
    form.clear();
    try {
      const result = await window.custodian.factors.confirm(factor.id, code);
      void useFactorsStore.getState().refresh();
      // The first factor turns MFA on, which brings the lock (and "Lock now") with it.
      if (result.backupCodes) void useSessionStore.getState().refreshLock();
      onConfirmed(result.factor, result.backupCodes);
    } catch (error) {
      form.show(callError(error));
      setCode('');
      setBusy(false);
      document.getElementById(codeId)?.focus();
    }
  }

  // A push factor (issue 12) is confirmed by its push's answer, not a typed code.
  if (enrollment.push && !expired) {
    return (
      <PushEnrollWait
        enrollment={{ ...enrollment, push: enrollment.push }}
        onConfirmed={onConfirmed}
        onRestart={onRestart}
        onCancel={onCancel}
        cancelLabel={cancelLabel}
        cancelTestId={cancelTestId}
      />
    );
  }

  if (expired) {
    return (
      <div className="stack">
        <p className="notice notice-warning" role="alert">
          {t('factors.enroll.expired')}
        </p>
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={onCancel} data-testid={cancelTestId}>
            {cancelLabel}
          </button>
          <button ref={startAgain} type="button" className="button button-primary" onClick={onRestart}>
            {t('factors.enroll.startAgain')}
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="stack">
      <div className="enroll-scan">
        <div className="qr-frame">
          <img
            className="qr"
            src={enrollment.qrDataUrl}
            alt={t('factors.enroll.qrAlt', { label: factor.label })}
            width={200}
            height={200}
            data-testid="enroll-qr"
          />
        </div>
        <div className="stack enroll-manual">
          <p>{t('factors.enroll.scanIntro')}</p>
          <div className="field">
            <span className="field-label">{t('factors.enroll.secretMasked')}</span>
            <code className="secret secret-masked" data-testid="enroll-secret-masked">
              {enrollment.secretMasked}
            </code>
          </div>
          <RevealSecret factor={factor} />
        </div>
      </div>
      {factor.recovery ? (
        <p className="notice notice-warning notice-small" data-testid="enroll-recovery-note">
          <AlertIcon />
          <span>{t('factors.enroll.recoveryNote')}</span>
        </p>
      ) : null}

      <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        <CodeEntry
          id={codeId}
          label={t('factors.enroll.codeLabel')}
          hint={t('factors.enroll.codeHint', { digits: factorDigits(factor) })}
          value={code}
          onChange={setCode}
          kind="totp"
          digits={factorDigits(factor)}
          testId="enroll-code"
          form={form}
          errorId={errorId}
          autoFocus
        />
        {deadline !== null ? (
          <p className="countdown-note" id={noteId}>
            <CountdownRing secondsLeft={secondsLeft} totalSeconds={PENDING_SECONDS} />
            <span aria-live="off" data-testid="enroll-expires" data-seconds={secondsLeft}>
              {t('factors.enroll.expiresIn', { time: formatMinutes(secondsLeft) })}
            </span>
          </p>
        ) : null}
        <FormActions
          onCancel={onCancel}
          cancelLabel={cancelLabel}
          cancelTestId={cancelTestId}
          busy={busy}
          disabled={busy || form.blocked || code.length !== factorDigits(factor)}
          testId="enroll-confirm"
        >
          {t('factors.enroll.confirm')}
        </FormActions>
      </form>
    </div>
  );
}

/** "Can't scan?": asks main for the secret once (a second ask is refused) and shows it in blocks of 4. */
function RevealSecret({ factor }: { factor: Factor }) {
  const { t } = useTranslation();
  const [secret, setSecret] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copyStatus, setCopyStatus] = useState<'idle' | 'copied' | 'failed'>('idle');
  const form = useFormError();
  const hintId = useId();
  const boxId = useId();

  async function reveal() {
    setBusy(true);
    form.clear();
    try {
      const result = await window.custodian.factors.revealSecret(factor.id);
      setSecret(result.secret);
    } catch (error) {
      form.show(callError(error));
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    // The button that had focus is gone; the secret box takes it so the reader lands on the key.
    if (secret) document.getElementById(boxId)?.focus();
  }, [secret, boxId]);

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopyStatus('copied');
    } catch {
      setCopyStatus('failed');
    }
  }

  if (!secret) {
    return (
      <div className="stack stack-tight">
        <div>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void reveal()}
            disabled={busy}
            aria-describedby={hintId}
            data-testid="enroll-cant-scan"
          >
            {busy ? <SpinnerIcon /> : null}
            {t('factors.enroll.cantScan')}
          </button>
        </div>
        <p id={hintId} className="field-hint">
          {t('factors.enroll.cantScanHint')}
        </p>
        <FormErrorNotice form={form} />
      </div>
    );
  }

  return (
    <div className="stack stack-tight">
      <span className="field-label">{t('factors.enroll.secretLabel')}</span>
      <div className="secret-box">
        <code
          id={boxId}
          className="secret secret-revealed"
          tabIndex={-1}
          data-testid="enroll-secret"
          data-secret={secret}
        >
          {groupBy4(secret)}
        </code>
        <button type="button" className="button button-secondary" onClick={() => void copy()} data-testid="enroll-secret-copy">
          <CopyIcon />
          {t('common.copy')}
        </button>
        <p className={copyStatus === 'failed' ? 'status-line status-bad' : 'status-line'} role="status">
          {copyStatus === 'copied' ? t('common.copied') : copyStatus === 'failed' ? t('common.copyFailed') : ''}
        </p>
      </div>
      <p className="notice notice-warning notice-small">
        <AlertIcon />
        <span>
          {factor.type === 'totp'
            ? t('factors.enroll.secretOnce', {
                digits: factor.digits,
                period: factor.period,
                algorithm: t(`factors.algorithms.${factor.algorithm}`),
              })
            : null}
        </span>
      </p>
    </div>
  );
}

/** `JBSW Y3DP EHPK 3PXP`: easier to type and to check against the app than one long run. */
function groupBy4(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}
