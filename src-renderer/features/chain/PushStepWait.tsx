import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChainFactor } from '../../../src-shared/domain/policy';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { SpinnerIcon } from '../../app/icons';
import { callError } from '../../app/session.store';
import { PushNumber, usePushWait } from '../push/push-wait';
import { selectPromptOpen, usePushStore } from '../push/push.store';
import { useChainStore } from './chain.store';

/**
 * A push step of the chain (issue 12): the push is raised as the step becomes current (as Okta
 * and Duo do), once; after a failed round (denied, run out, a wrong pick) the approver sends the
 * next one, so an ignored prompt never raises another by itself. Then the number to pick in the
 * push prompt, its countdown, and the wait: the step is submitted with the number on every
 * `push:changed` and every second, and a refusal goes through the store's usual failure handling.
 */
export function PushStepWait({ step, index, onBackup }: { step: ChainFactor; index: number; onBackup?: (() => void) | undefined }) {
  const { t } = useTranslation();
  const challenge = useChainStore((s) => s.challenge);
  const notice = useChainStore((s) => s.notice);
  const attemptId = useChainStore((s) => s.attempt?.attemptId ?? null);
  const attemptEnds = useChainStore((s) => s.attempt?.expiresAt);
  const requestChallenge = useChainStore((s) => s.requestChallenge);
  const submitPush = useChainStore((s) => s.submitPush);
  const form = useFormError();
  const [sending, setSending] = useState(false);
  const sendingRef = useRef(false);
  const autoSent = useRef(false);
  const push = challenge?.factorId === step.id && challenge.challenge.kind === 'push' ? challenge.challenge : null;
  const { show, clear } = form;
  const sendRef = useRef<HTMLButtonElement>(null);

  const send = useCallback(async () => {
    if (sendingRef.current) return;
    sendingRef.current = true;
    setSending(true);
    clear();
    try {
      // A new push is the approver's answer to the last round's notice: it has been read.
      if (await requestChallenge()) useChainStore.setState({ notice: null, failure: null });
    } catch (error) {
      show(callError(error));
    } finally {
      sendingRef.current = false;
      setSending(false);
    }
  }, [requestChallenge, show, clear]);

  // After a failed round the focus, gone with the number, lands on "Send push" once the push
  // prompt (modal: nothing behind it takes the focus) has closed.
  const promptOpen = usePushStore(selectPromptOpen);
  useEffect(() => {
    if (!push && notice && !promptOpen) sendRef.current?.focus();
  }, [push, notice, promptOpen]);

  useEffect(() => {
    if (push || notice || autoSent.current) return;
    autoSent.current = true;
    void send();
  }, [push, notice, send]);

  // A refusal with a notice (reset, expired) is said by the prompt; anything else (a rate limit,
  // the keychain) here.
  const onError = useCallback(
    (error: Parameters<typeof show>[0]) => {
      if (useChainStore.getState().notice === null) show(error);
    },
    [show],
  );
  const number = push?.number ?? 0;
  usePushWait(push && attemptId ? `${attemptId}:${index}:${push.number}:${push.expiresAt}` : null, () => submitPush(number), onError);

  // Where the chain lets a backup code stand in for the step (issue 12), for an approver who
  // cannot answer the push; the prompt offers the same.
  const backupButton = onBackup ? (
    <button type="button" className="button button-secondary" onClick={onBackup} data-testid="chain-use-backup">
      {t('chain.useBackup')}
    </button>
  ) : null;

  if (push) {
    return (
      <div className="chain-step-form stack stack-tight" key={push.expiresAt}>
        <PushNumber factorId={step.id} number={push.number} expiresAt={push.expiresAt} endsBy={attemptEnds} lead={t('chain.push.pickLead')} hint={t('chain.push.waiting')} onBackup={onBackup} />
        <FormErrorNotice form={form} />
        {backupButton ? <div className="button-row">{backupButton}</div> : null}
      </div>
    );
  }
  return (
    <div className="chain-step-form stack stack-tight">
      {sending ? (
        <p className="muted" role="status">
          <SpinnerIcon /> {t('chain.push.sending')}
        </p>
      ) : null}
      <FormErrorNotice form={form} />
      <div className="button-row">
        <button ref={sendRef} type="button" className="button button-primary" disabled={sending || form.blocked} onClick={() => void send()} data-testid="chain-push-send">
          {t('chain.push.send')}
        </button>
        {backupButton}
      </div>
    </div>
  );
}
