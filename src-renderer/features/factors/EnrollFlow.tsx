import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { ENROLLABLE_FACTOR_TYPES, factorDigits, type EnrollParams, type EnrollmentView, type Factor, type TotpAlgorithm } from '../../../src-shared/domain/mfa';
import { parsePhone, PHONE_INPUT_MAX, type PhoneProblem } from '../../../src-shared/domain/phone';
import { FACTOR_TYPES, MANAGE, type FactorType } from '../../../src-shared/domain/policy';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { useAppStore, useLocalDeadline } from '../../app/app.store';
import { CodeEntry } from '../../app/CodeField';
import { CountdownRing } from '../../app/CountdownRing';
import { focusInitial } from '../../app/Dialog';
import { FormActions } from '../../app/FormActions';
import { assertNever, errorText } from '../../app/errors';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useDateFormats } from '../../app/format';
import { useFormError, type FormError } from '../../app/form-error';
import { AlertIcon, CopyIcon, SpinnerIcon } from '../../app/icons';
import { ResendCode } from '../../app/ResendCode';
import { SelectField } from '../../app/SelectField';
import { callError, selectMfaEnabled, useSessionStore } from '../../app/session.store';
import { formatMinutes, useSecondsLeft } from '../../app/ticker';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { BackupCodesSheet } from './BackupCodesSheet';
import { PushEnrollWait } from './EnrollPush';
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

/** What the form can enroll: one per method this build has (`EnrollParams`' union). */
type EnrollMethod = EnrollParams['type'];

function isEnrollMethod(type: FactorType): type is EnrollMethod {
  return (ENROLLABLE_FACTOR_TYPES as readonly string[]).includes(type);
}

/**
 * The methods the form offers (issue 12): those this build can enroll and this desk turns on
 * (`MFA_METHODS`, told by app:info as the Policies screen learns it). Until app:info answers no
 * method is said to be off: main refuses a turned-off one with ERR-MFA-METHOD-DISABLED anyway.
 */
function useEnrollMethods(): EnrollMethod[] {
  const turnedOn = useAppStore((s) => s.info?.mfaMethods) ?? FACTOR_TYPES;
  // Push is never the first factor: the lock screen takes a single code, which a push cannot
  // give, so a desk with only a push factor could be opened with backup codes alone.
  const mfaOn = useSessionStore(selectMfaEnabled);
  const methods = FACTOR_TYPES.filter(isEnrollMethod).filter((type) => turnedOn.includes(type) && (type !== 'push' || mfaOn));
  // MFA_METHODS names at least one method; this keeps the form usable if it ever names none here.
  return methods.length > 0 ? methods : ['totp'];
}

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

  // With a choice of method, the first step is choosing one too.
  const choice = useEnrollMethods().length > 1;
  const index = step.name === 'details' || step.name === 'resume' ? 1 : step.name === 'verify' ? 2 : 3;
  const title =
    step.name === 'details'
      ? choice
        ? t('factors.enroll.chooseTitle')
        : t('factors.enroll.detailsTitle')
      : step.name === 'resume'
        ? t('factors.enroll.proveTitle')
        : step.name === 'verify'
          ? step.enrollment.factor.type === 'sms'
            ? t('factors.enroll.smsTitle')
            : step.enrollment.push
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
 * Once MFA is on, adding an authenticator (or resuming a pending one's setup) takes a chain
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

/** Where a refusal of the number belongs: under the phone field, not in the form's notice. */
function phoneRefusal(error: CustodianError | null): boolean {
  if (!error) return false;
  return error.code === 'ERR-SMS-INVALID-NUMBER' || (error.code === 'ERR-VALIDATION' && error.details?.field === 'phone');
}

function DetailsStep({ onEnrolled, onCancel, cancelLabel, cancelTestId }: CancelProps & { onEnrolled(enrollment: EnrollmentView): void }) {
  const { t } = useTranslation();
  const mfaOn = useSessionStore(selectMfaEnabled);
  const methods = useEnrollMethods();
  const [method, setMethod] = useState<EnrollMethod>(() => methods[0] ?? 'totp');
  // Until the approver types a name, the field shows the method's default name in the current
  // language (it follows both the method and a switch of language); once typed, theirs stays.
  const [typedLabel, setTypedLabel] = useState<string | null>(null);
  const [digits, setDigits] = useState<Digits>(6);
  const [period, setPeriod] = useState<Period>(30);
  const [algorithm, setAlgorithm] = useState<TotpAlgorithm>('SHA1');
  const [phone, setPhone] = useState('');
  const [phoneProblem, setPhoneProblem] = useState<PhoneProblem | null>(null);
  const [labelMissing, setLabelMissing] = useState(false);
  const label = typedLabel ?? t(defaultLabelKey(method));
  const ids = {
    method: useId(),
    label: useId(),
    labelHint: useId(),
    labelError: useId(),
    phone: useId(),
    phoneHint: useId(),
    phoneError: useId(),
    digits: useId(),
    period: useId(),
    algorithm: useId(),
  };
  // Before MFA is on (the first factor) main asks for no chain, and the first try goes through.
  const stepUp = useStepUp({
    purpose: MANAGE.enroll,
    action: () =>
      method === 'sms'
        ? window.custodian.factors.enroll({ type: 'sms', label: label.trim(), phone })
        : method === 'push'
          ? window.custodian.factors.enroll({ type: 'push', label: label.trim() })
          : window.custodian.factors.enroll({ label: label.trim(), digits, period, algorithm }),
    onDone: (enrollment) => {
      // The list shows the pending factor too, with when it lapses.
      void useFactorsStore.getState().refresh();
      onEnrolled(enrollment);
    },
    onCancel,
    cancelLabel,
    cancelTestId,
  });
  const refusal = stepUp.form.state?.error ?? null;
  const phoneRefused = method === 'sms' && phoneRefusal(refusal);
  const phoneMessage = phoneProblem
    ? t(`phone.problems.${phoneProblem}`)
    : phoneRefused && refusal
      ? refusal.code === 'ERR-SMS-INVALID-NUMBER'
        ? errorText(t, refusal)
        : t('phone.problems.invalid')
      : null;

  function chooseMethod(next: EnrollMethod) {
    // A name the approver has not typed follows the method (see `label`).
    setMethod(next);
    setPhoneProblem(null);
    stepUp.form.clear();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!label.trim()) {
      setLabelMissing(true);
      document.getElementById(ids.label)?.focus();
      return;
    }
    if (method === 'sms') {
      // The shared libphonenumber check, the one main runs again: a bad number never leaves.
      const parsed = parsePhone(phone);
      if (!parsed.ok) {
        setPhoneProblem(parsed.problem);
        document.getElementById(ids.phone)?.focus();
        return;
      }
    }
    void stepUp.run();
  }

  return (
    <>
    <form className="stack" onSubmit={onSubmit} noValidate>
      {methods.length > 1 ? (
        <fieldset className="method-choices" data-testid="enroll-methods">
          <legend className="field-label">{t('factors.enroll.method')}</legend>
          {methods.map((m) => (
            <div key={m} className="method-choice">
              <input
                id={`${ids.method}-${m}`}
                type="radio"
                className="checkbox"
                name={ids.method}
                checked={method === m}
                onChange={() => chooseMethod(m)}
                disabled={stepUp.chaining}
                aria-describedby={`${ids.method}-${m}-hint`}
                data-testid={`enroll-method-${m}`}
              />
              <label htmlFor={`${ids.method}-${m}`} className="method-choice-text">
                <span className="method-choice-name">{t(`factors.enroll.methods.${m}`)}</span>
                <span id={`${ids.method}-${m}-hint`} className="field-hint">
                  {t(`factors.enroll.methodHints.${m}`)}
                </span>
              </label>
            </div>
          ))}
        </fieldset>
      ) : null}

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
            setTypedLabel(event.target.value);
            setLabelMissing(false);
          }}
          aria-describedby={labelMissing ? `${ids.labelHint} ${ids.labelError}` : ids.labelHint}
          aria-invalid={labelMissing || undefined}
          data-testid="enroll-label"
          data-autofocus=""
        />
        <p id={ids.labelHint} className="field-hint">
          {method === 'sms' ? t('factors.enroll.smsLabelHint') : t('factors.enroll.labelHint')}
        </p>
        {labelMissing ? (
          <p id={ids.labelError} className="field-error">
            {t('common.required')}
          </p>
        ) : null}
      </div>

      {method === 'sms' ? (
        <div className="field">
          <label htmlFor={ids.phone} className="field-label">
            {t('factors.enroll.phone')}
          </label>
          <input
            id={ids.phone}
            className="input input-phone"
            type="tel"
            value={phone}
            maxLength={PHONE_INPUT_MAX}
            autoComplete="tel"
            spellCheck={false}
            placeholder="+1 415 555 0100"
            onChange={(event) => {
              setPhone(event.target.value);
              setPhoneProblem(null);
              if (phoneRefused) stepUp.form.clear();
            }}
            disabled={stepUp.chaining}
            aria-describedby={phoneMessage ? `${ids.phoneHint} ${ids.phoneError}` : ids.phoneHint}
            aria-invalid={phoneMessage ? true : undefined}
            data-testid="enroll-phone"
          />
          <p id={ids.phoneHint} className="field-hint">
            {t('factors.enroll.phoneHint')}
          </p>
          {phoneMessage ? (
            <p id={ids.phoneError} className="field-error" role="alert" data-testid="enroll-phone-error" data-problem={phoneProblem ?? refusal?.code}>
              {phoneMessage}
            </p>
          ) : null}
        </div>
      ) : method === 'push' ? (
        <p className="field-hint">{t('factors.enroll.pushHint')}</p>
      ) : (
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

      {method === 'sms' ? <p className="field-hint">{t('factors.enroll.smsCost')}</p> : null}
      <ChainNote mfaOn={mfaOn} />
      {phoneRefused ? null : <FormErrorNotice form={stepUp.form} />}
      <StepUpActions
        onCancel={onCancel}
        cancelLabel={cancelLabel}
        cancelTestId={cancelTestId}
        stepUp={stepUp}
        testId="enroll-continue"
      >
        {method === 'sms' ? t('factors.enroll.sendCode') : t('common.continue')}
      </StepUpActions>
    </form>
    {/* After the form, not in it: the prompt's step forms cannot nest. */}
    {stepUp.prompt}
    </>
  );
}

function defaultLabelKey(method: EnrollMethod): 'factors.enroll.defaultLabel' | 'factors.enroll.smsDefaultLabel' | 'factors.enroll.defaultPushLabel' {
  switch (method) {
    case 'totp':
      return 'factors.enroll.defaultLabel';
    case 'sms':
      return 'factors.enroll.smsDefaultLabel';
    case 'push':
      return 'factors.enroll.defaultPushLabel';
    default:
      return assertNever(method);
  }
}

/**
 * What "Resume" offers, by the factor's method: TOTP shows its QR code again, SMS texts a new
 * code, push raises a new push in this window (main's `resumeEnrollment` does each; issue 12).
 */
function resumeText(t: TFunction, factor: Factor, time: string): { intro: string; action: string } {
  switch (factor.type) {
    case 'totp':
      return { intro: t('factors.enroll.resumeIntro', { label: factor.label, time }), action: t('factors.enroll.showQr') };
    case 'sms':
      return { intro: t('factors.enroll.smsResumeIntro', { label: factor.label, phone: factor.phoneMasked, time }), action: t('factors.enroll.sendCode') };
    case 'push':
      return { intro: t('factors.enroll.pushResumeIntro', { label: factor.label, time }), action: t('factors.enroll.sendPush') };
    default:
      return assertNever(factor);
  }
}

/** "Resume" on a pending factor: what its method needs to finish, after the same chain a new one takes. */
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
      <p data-testid="enroll-resume-intro">{resumeText(t, factor, factor.pendingExpiresAt ? formats.time(factor.pendingExpiresAt) : '').intro}</p>
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
        {resumeText(t, factor, '').action}
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
  const resend = useResend(factor.id, enrollment.sent ?? null, () => {
    // A new code: what was typed was for the old one.
    setCode('');
    form.clear();
    document.getElementById(codeId)?.focus();
  });

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
        <p className="notice notice-warning" role="alert" data-testid="enroll-expired">
          {t(expiredKey(factor))}
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
      {factor.type === 'sms' ? (
        <p className="enroll-sent" data-testid="enroll-sent-to">
          {t('factors.enroll.smsSentTo', { phone: factor.phoneMasked })}
        </p>
      ) : (
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
      )}
      {factor.recovery ? (
        <p className="notice notice-warning notice-small" data-testid="enroll-recovery-note">
          <AlertIcon />
          <span>{t('factors.enroll.recoveryNote')}</span>
        </p>
      ) : null}

      <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        <CodeEntry
          id={codeId}
          label={factor.type === 'sms' ? t('factors.enroll.smsCodeLabel') : t('factors.enroll.codeLabel')}
          hint={t(factor.type === 'sms' ? 'factors.enroll.smsCodeHint' : 'factors.enroll.codeHint', { digits: factorDigits(factor) })}
          value={code}
          onChange={setCode}
          kind="totp"
          digits={factorDigits(factor)}
          testId="enroll-code"
          form={form}
          errorId={errorId}
          autoFocus
        />
        {factor.type === 'sms' ? <ResendArea resend={resend} phone={factor.phoneMasked} /> : null}
        {deadline !== null ? (
          <p className="countdown-note" id={noteId}>
            <CountdownRing secondsLeft={secondsLeft} totalSeconds={PENDING_SECONDS} />
            <span aria-live="off" data-testid="enroll-expires" data-seconds={secondsLeft}>
              {t(factor.type === 'sms' ? 'factors.enroll.smsExpiresIn' : 'factors.enroll.expiresIn', { time: formatMinutes(secondsLeft) })}
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

/** A lapsed setup says what went with it and what starting again brings, by method. */
function expiredKey(factor: Factor): 'factors.enroll.expired' | 'factors.enroll.smsExpired' | 'factors.enroll.pushExpired' {
  switch (factor.type) {
    case 'totp':
      return 'factors.enroll.expired';
    case 'sms':
      return 'factors.enroll.smsExpired';
    case 'push':
      return 'factors.enroll.pushExpired';
    default:
      return assertNever(factor);
  }
}

interface Resend {
  /** The last send's answer; null when none is known (then "Send again" is free at once). */
  sent: { digits: number; resendAfter: string } | null;
  /** How many sends this step made itself: keys the countdown, so each send gets a full ring. */
  count: number;
  busy: boolean;
  form: FormError;
  run(): void;
}

/**
 * "Send again" on an SMS enrollment (issue 12): `factors:resend-code`, which takes no chain. Its
 * refusals (a Twilio error, the send limit with its wait) have their own form error, so a
 * rate limit on sending never holds the Confirm button.
 */
function useResend(factorId: string, first: { digits: number; resendAfter: string } | null, onSent: () => void): Resend {
  const [sent, setSent] = useState(first);
  const [count, setCount] = useState(0);
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const onSentRef = useRef(onSent);
  useEffect(() => {
    onSentRef.current = onSent;
  });

  async function send(): Promise<void> {
    setBusy(true);
    form.clear();
    try {
      const answer = await window.custodian.factors.resendCode(factorId);
      setSent(answer.sent);
      setCount((n) => n + 1);
      onSentRef.current();
    } catch (error) {
      form.show(callError(error));
    } finally {
      setBusy(false);
    }
  }

  return { sent, count, busy, form, run: () => void send() };
}

function ResendArea({ resend, phone }: { resend: Resend; phone: string }) {
  const { t } = useTranslation();
  return (
    <div className="stack stack-tight">
      <ResendCode
        key={resend.count}
        resendAfter={resend.sent?.resendAfter ?? new Date(0).toISOString()}
        busy={resend.busy}
        blocked={resend.form.blocked}
        onResend={resend.run}
        testId="enroll-resend"
      />
      <FormErrorNotice form={resend.form} />
      <p className="status-line status-ok" role="status" data-testid="enroll-resent">
        {resend.count > 0 && !resend.form.state ? t('factors.enroll.smsResent', { phone }) : ''}
      </p>
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
