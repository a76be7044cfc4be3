import { useCallback, useEffect, useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChainAttemptView, ChainFactor, FactorChallenge } from '../../../src-shared/domain/policy';
import { useLocalDeadline } from '../../app/app.store';
import { CodeEntry, normalizeCode } from '../../app/CodeField';
import { SubmitButton } from '../../app/FormActions';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { ResendCode } from '../../app/ResendCode';
import { callError } from '../../app/session.store';
import { useCodeSubmit } from '../../app/code-submit';
import { assertNever } from '../../app/errors';
import { AlertIcon, SpinnerIcon } from '../../app/icons';
import { useNow } from '../../app/ticker';
import { Countdown } from '../approvals/Countdown';
import { useChainStore, type ChainNotice } from './chain.store';
import { selectPromptOpen, usePushStore } from '../push/push.store';
import { PushStepWait } from './PushStepWait';

type StepState = 'done' | 'current' | 'locked';

interface ChainPromptProps {
  onStartAgain(): void;
  onClose(): void;
  /**
   * The chain pays for an action (`useStepUp`), which follows by itself once it completes: no
   * "Close" or "Start again" then, only while the time runs out.
   */
  stepUp?: boolean;
}

/**
 * The one chain prompt (issue 10 "UI"; DESIGN.md "Factor chain"): the steps in order, each done,
 * current or locked with its factor's label and type; a code field of the factor's digit count
 * for the current step only, which takes the focus whenever the current step changes; the
 * countdown to `expiresAt` on main's clock; resets and breaches said in plain words.
 */
export function ChainPrompt({ onStartAgain, onClose, stepUp = false }: ChainPromptProps) {
  const { t } = useTranslation();
  const attempt = useChainStore((s) => s.attempt);
  const notice = useChainStore((s) => s.notice);
  const failure = useChainStore((s) => s.failure);
  const titleId = useId();
  if (!attempt) return null;
  const done = attempt.status === 'completed';
  const expired = attempt.status === 'expired';

  return (
    <section className="chain-prompt stack" aria-labelledby={titleId} data-testid="chain-prompt" data-status={attempt.status} data-position={attempt.position}>
      <div className="chain-header">
        <h3 id={titleId} className="section-heading">
          {t('chain.title', { sensitivity: t(`approvals.sensitivity.${attempt.sensitivity}`) })}
        </h3>
        {attempt.status === 'open' ? <ChainCountdown key={attempt.attemptId} attempt={attempt} /> : null}
      </div>
      {/* A push step takes no code (issue 12): the intro says how each kind of step is passed. */}
      <p className="muted">{t(attempt.steps.some((s) => s.type === 'push') ? 'chain.introPush' : 'chain.intro', { count: attempt.steps.length })}</p>
      {notice ? <NoticeLine notice={notice} code={failure?.code ?? null} /> : null}
      <ol className="chain-steps" aria-label={t('chain.stepsLabel')}>
        {attempt.steps.map((step, index) => {
          const state: StepState = done || index < attempt.position ? 'done' : index === attempt.position && !expired ? 'current' : 'locked';
          return <StepItem key={`${step.id}:${index}`} step={step} index={index} total={attempt.steps.length} state={state} backupAllowed={attempt.backupAllowed && !attempt.backupUsed} />;
        })}
      </ol>
      {done ? (
        <p className="notice notice-ok" role="status" data-testid="chain-completed">
          {t('chain.completed', { count: attempt.steps.length })}
        </p>
      ) : null}
      {(done && !stepUp) || expired ? (
        <div className="button-row">
          <button type="button" className="button button-secondary" onClick={onClose} data-testid="chain-close">
            {t('chain.close')}
          </button>
          <button type="button" className="button button-primary" onClick={onStartAgain} data-testid="chain-again" autoFocus>
            {t('chain.startAgain')}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function ChainCountdown({ attempt }: { attempt: ChainAttemptView }) {
  const now = useNow();
  const deadline = useLocalDeadline(attempt.expiresAt);
  const remainingMs = deadline === null ? 0 : deadline - now;
  // The full circle is what was left when the prompt first showed this attempt (keyed by it).
  const [totalMs] = useState(() => Math.max(remainingMs, 1));
  return <Countdown remainingMs={remainingMs} totalMs={totalMs} />;
}

function NoticeLine({ notice, code }: { notice: ChainNotice; code: string | null }) {
  const { t } = useTranslation();
  let text: string;
  switch (notice) {
    case 'reset':
      text = t('chain.notice.reset');
      break;
    case 'breach':
      text = t('chain.notice.breach');
      break;
    case 'expired':
      text = t('chain.notice.expired');
      break;
    case 'denied':
      text = t('chain.notice.denied');
      break;
    case 'pushExpired':
      text = t('chain.notice.pushExpired');
      break;
    default:
      return assertNever(notice);
  }
  return (
    <p className="notice notice-warning notice-small" role="status" data-testid="chain-notice" data-notice={notice} data-code={code ?? undefined}>
      <AlertIcon />
      <span>{text}</span>
    </p>
  );
}

interface StepItemProps {
  step: ChainFactor;
  index: number;
  total: number;
  state: StepState;
  backupAllowed: boolean;
}

function StepItem({ step, index, total, state, backupAllowed }: StepItemProps) {
  const { t } = useTranslation();
  return (
    <li className={`chain-step chain-step-${state}`} data-testid="chain-step" data-state={state} data-factor={step.id} aria-current={state === 'current' ? 'step' : undefined}>
      <div className="chain-step-line">
        <span className="chain-step-number" aria-hidden="true">
          {index + 1}
        </span>
        <span className="chain-step-label">
          <bdi>{step.label}</bdi>
          <span className="muted"> · {t(`chain.type.${step.type}`)}</span>
        </span>
        <span className={`badge chain-badge-${state}`}>{t(`chain.state.${state}`, { current: index + 1, total })}</span>
      </div>
      {state === 'current' ? (
        // Each method's own control (issue 12): a push step waits for the answer in the push prompt.
        step.type === 'push' ? (
          <PushStep step={step} index={index} backupAllowed={backupAllowed} />
        ) : (
          <StepForm step={step} index={index} backupAllowed={backupAllowed} />
        )
      ) : null}
    </li>
  );
}

/**
 * A push step (issue 12): the wait for its push, or, where the chain lets a backup code stand in,
 * a backup code instead, for an approver who cannot answer the push (chosen here or in the push
 * prompt). While the code is typed, the step's push is set aside so its prompt does not cover the
 * field; main withdraws the push once the code is submitted.
 */
function PushStep({ step, index, backupAllowed }: { step: ChainFactor; index: number; backupAllowed: boolean }) {
  const [backup, setBackup] = useState(false);
  const useBackup = backup && backupAllowed;
  const push = useChainStore((s) => (s.challenge?.factorId === step.id && s.challenge.challenge.kind === 'push' ? s.challenge.challenge : null));
  const putAside = usePushStore((s) => s.putAside);
  const expiresAt = push?.expiresAt ?? null;
  useEffect(() => (useBackup && expiresAt ? putAside({ factorId: step.id, expiresAt }) : undefined), [useBackup, expiresAt, putAside, step.id]);
  const onBackup = useCallback(() => setBackup(true), []);
  if (useBackup) {
    // The prompt, modal, held the focus: the code field takes it once the prompt has gone.
    return <StepForm step={step} index={index} backupAllowed backup={{ onFactor: () => setBackup(false) }} />;
  }
  return <PushStepWait step={step} index={index} onBackup={backupAllowed ? onBackup : undefined} />;
}

interface StepFormProps {
  step: ChainFactor;
  index: number;
  backupAllowed: boolean;
  /**
   * A push step taking a backup code instead (`PushStep`): the form has no code of its own, and
   * "Use <factor> instead" goes back to the push.
   */
  backup?: { onFactor(): void } | undefined;
}

function StepForm({ step, index, backupAllowed, backup: standIn }: StepFormProps) {
  const { t } = useTranslation();
  const submit = useChainStore((s) => s.submit);
  const resets = useChainStore((s) => s.resets);
  // A backup code may stand in for one step per attempt (DESIGN.md "Factor chain").
  const [chosen, setBackup] = useState(false);
  const backup = standIn !== undefined || chosen;
  const useBackup = backup && backupAllowed;
  const { code, setCode, busy, form, codeId, errorId, onSubmit } = useCodeSubmit((value) => submit(value, useBackup));
  // An SMS step asks for its code first (issue 12); a backup code standing in needs no text.
  const sms = step.type === 'sms' && !useBackup;
  const sent = useSentChallenge(step, index);
  const codeShown = !sms || sent !== null;
  const sendId = useId();

  // Keyboard use (issue 10): the focus follows the current step, after a pass and after a reset;
  // on an SMS step it rests on "Send code" until the code is sent, then on the code field, and
  // there again after each "Send again". While a push prompt is open (modal) the chain behind it
  // is inert and cannot take the focus: the step takes it once the prompt has gone (a push step
  // passed, then an SMS or code step; or a push step's backup code).
  const promptOpen = usePushStore(selectPromptOpen);
  useEffect(() => {
    if (promptOpen) return;
    document.getElementById(codeShown ? codeId : sendId)?.focus();
  }, [codeId, sendId, codeShown, sent?.resendAfter, step.id, index, resets, useBackup, promptOpen]);

  const ready = useBackup ? normalizeCode(code).length >= 8 : normalizeCode(code).length === step.digits;
  const codeEntry = codeShown ? (
    <CodeEntry
      id={codeId}
      label={useBackup ? t('chain.backupLabel') : t('chain.codeLabel', { label: step.label })}
      hint={
        useBackup
          ? t('chain.backupHint')
          : t(sms ? 'chain.sms.codeHint' : 'chain.codeHint', { digits: step.digits, label: step.label })
      }
      value={code}
      onChange={setCode}
      kind={useBackup ? 'any' : 'totp'}
      digits={step.digits}
      testId="chain-code"
      form={form}
      errorId={errorId}
    />
  ) : null;
  return (
    <form className="chain-step-form" onSubmit={(event) => void onSubmit(event)} noValidate>
      {sms ? (
        <SmsStepControls
          step={step}
          sent={sent}
          sendId={sendId}
          onSent={() => {
            // A new code: what was typed was for the old one.
            setCode('');
            form.clear();
          }}
        >
          {codeEntry}
        </SmsStepControls>
      ) : (
        codeEntry
      )}
      <div className="button-row">
        {codeShown ? (
          <SubmitButton busy={busy} disabled={busy || form.blocked || !ready} testId="chain-submit">
            {t('chain.verify')}
          </SubmitButton>
        ) : null}
        {backupAllowed ? (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setCode('');
              if (standIn) standIn.onFactor();
              else setBackup(!useBackup);
            }}
            data-testid="chain-use-backup"
          >
            {useBackup ? t('chain.useFactor', { label: step.label }) : t('chain.useBackup')}
          </button>
        ) : null}
      </div>
    </form>
  );
}

type SentChallenge = Extract<FactorChallenge, { kind: 'sent' }>;

/** The code main sent for this very step of the attempt on screen, or null before any was. */
function useSentChallenge(step: ChainFactor, index: number): SentChallenge | null {
  return useChainStore((s) => {
    const c = s.challenge;
    if (!c || c.attemptId !== s.attempt?.attemptId || c.position !== index || c.factorId !== step.id) return null;
    return c.challenge.kind === 'sent' ? c.challenge : null;
  });
}

interface SmsStepControlsProps {
  step: ChainFactor;
  sent: SentChallenge | null;
  /** The "Send code" button's id, for the step's focus rule. */
  sendId: string;
  onSent(): void;
  /** The step's code field, shown once a code was sent. */
  children: ReactNode;
}

/**
 * An SMS step's own controls (issue 12): "Send code" rather than a text sent by itself, since
 * each text costs money and counts against the send limit (3 per 10 minutes per factor); then
 * "Code sent to <label>", the code field, and "Send again" held by a countdown to `resendAfter`.
 * A refused send (Twilio's ERR-SMS-*, the send limit with its wait) is said here and changes
 * nothing in the chain.
 */
function SmsStepControls({ step, sent, sendId, onSent, children }: SmsStepControlsProps) {
  const { t } = useTranslation();
  const requestChallenge = useChainStore((s) => s.requestChallenge);
  const [sending, setSending] = useState(false);
  const [sends, setSends] = useState(0);
  const sendForm = useFormError();
  const hintId = useId();

  async function send(): Promise<void> {
    if (sending || sendForm.blocked) return;
    setSending(true);
    sendForm.clear();
    try {
      await requestChallenge();
      setSends((n) => n + 1);
      onSent();
    } catch (error) {
      sendForm.show(callError(error));
    } finally {
      setSending(false);
    }
  }

  const error = (
    <div data-testid="chain-sms-error">
      <FormErrorNotice form={sendForm} />
    </div>
  );
  if (!sent) {
    return (
      <div className="stack stack-tight">
        <div>
          <button
            id={sendId}
            type="button"
            className="button button-primary"
            onClick={() => void send()}
            disabled={sending || sendForm.blocked}
            aria-describedby={hintId}
            data-testid="chain-sms-send"
          >
            {sending ? <SpinnerIcon /> : null}
            {t('chain.sms.send')}
          </button>
        </div>
        <p id={hintId} className="field-hint">
          {t('chain.sms.sendHint', { digits: step.digits, label: step.label })}
        </p>
        {error}
      </div>
    );
  }
  return (
    <>
      <p className="chain-sms-sent" role="status" data-testid="chain-sms-sent">
        {t('chain.sms.sent', { label: step.label })}
      </p>
      {children}
      <ResendCode
        key={`${sends}:${sent.resendAfter}`}
        resendAfter={sent.resendAfter}
        busy={sending}
        blocked={sendForm.blocked}
        onResend={() => void send()}
        testId="chain-sms-resend"
      />
      {error}
    </>
  );
}
