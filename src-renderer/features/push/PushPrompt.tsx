import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { PushPrompt as PushPromptView } from '../../../src-shared/domain/push';
import { revealHidden } from '../../../src-shared/domain/restore-request';
import { useLocalDeadline } from '../../app/app.store';
import { Dialog, focusInitial } from '../../app/Dialog';
import { errorText } from '../../app/errors';
import { AlertIcon } from '../../app/icons';
import { useNow } from '../../app/ticker';
import { UnverifiedTag } from '../approvals/ApprovalsView';
import { Countdown } from '../approvals/Countdown';
import { Fact } from '../approvals/Fact';
import { shownPrompts, usePushStore, type PushResult } from './push.store';

/**
 * The push prompt (issue 12; Duo's and Okta Verify's, STYLE.md "The screens"): this window is the
 * approver's push device. Mounted once in the shell, it shows over every screen while a push
 * waits: what is being approved, who started it and from where, the factor, the time left, and
 * three numbers, of which the approver picks the one shown where the step was started (number
 * matching). Escape does not close it, let alone approve: a push ends by a pick, by "Deny and
 * report", or by running out. The oldest push shows first, with "1 of N".
 */
export function PushPrompt() {
  const { t } = useTranslation();
  const waiting = usePushStore((s) => s.prompts);
  const setAside = usePushStore((s) => s.setAside);
  const prompts = useMemo(() => shownPrompts(waiting, setAside), [waiting, setAside]);
  const result = usePushStore((s) => s.result);
  const dismissResult = usePushStore((s) => s.dismissResult);
  const describedBy = useId();
  const bodyRef = useRef<HTMLDivElement>(null);
  const current = prompts[0];
  const shownKey = result ? `result:${result.prompt.id}` : (current?.id ?? null);

  // A new push (or the answer's result) in the same dialog: the focus starts on its text again,
  // never on a number, so a key pressed by reflex approves nothing.
  useEffect(() => {
    if (shownKey && bodyRef.current) focusInitial(bodyRef.current);
  }, [shownKey]);

  if (!result && !current) return null;
  return (
    <Dialog title={t('push.prompt.title')} onClose={() => undefined} dismissible={false} alert describedBy={describedBy} testId="push-prompt">
      <div ref={bodyRef}>
        {result ? (
          <ResultView result={result} describedBy={describedBy} onClose={dismissResult} />
        ) : current ? (
          <PromptView key={current.id} prompt={current} count={prompts.length} describedBy={describedBy} />
        ) : null}
      </div>
    </Dialog>
  );
}

function PromptView({ prompt, count, describedBy }: { prompt: PushPromptView; count: number; describedBy: string }) {
  const { t } = useTranslation();
  const answer = usePushStore((s) => s.answer);
  const deny = usePushStore((s) => s.deny);
  const busy = usePushStore((s) => s.busyId === prompt.id);
  const error = usePushStore((s) => (s.error?.id === prompt.id ? s.error.error : null));
  const now = useNow();
  const deadline = useLocalDeadline(prompt.expiresAt);
  const remainingMs = deadline === null ? 0 : deadline - now;
  const [totalMs] = useState(() => Math.max(Date.parse(prompt.expiresAt) - Date.parse(prompt.createdAt), 1));
  const expired = remainingMs <= 0;
  const noteId = useId();
  const pickId = useId();
  const denyHintId = useId();
  const request = prompt.request;
  // Started in this window: what the covered step shows, repeated (never for a push from elsewhere).
  const here = usePushStore((s) => (prompt.source === 'desktop' ? s.shownHere.find((h) => h.factorId === prompt.factorId && h.expiresAt === prompt.expiresAt) : undefined));

  return (
    <div className="stack push-prompt" data-testid="push-prompt-body" data-id={prompt.id}>
      <div className="push-head">
        <p id={describedBy} className="push-purpose" tabIndex={-1} data-autofocus="" data-testid="push-purpose">
          {purposeText(t, prompt)}
        </p>
        <Countdown remainingMs={expired ? 0 : remainingMs} totalMs={totalMs} />
      </div>
      {count > 1 ? (
        <p className="muted push-queue" data-testid="push-queue">
          {t('push.prompt.queue', { current: 1, total: count })}
        </p>
      ) : null}
      <dl className="request-facts" data-testid="push-facts">
        {request ? (
          <>
            <Fact label={t('push.prompt.requester')} value={request.requester} testId="push-requester" tag={<UnverifiedTag describedBy={noteId} />} />
            <Fact label={t('approvals.fields.backup')} value={request.backupId} testId="push-backup" code />
            <Fact label={t('approvals.fields.target')} value={request.target} testId="push-target" code />
          </>
        ) : null}
        {prompt.sensitivity ? (
          <div className="request-fact">
            <dt>{t('approvals.fields.sensitivity')}</dt>
            <dd>
              <span className={`badge badge-${prompt.sensitivity}`} data-testid="push-sensitivity">
                {t(`approvals.sensitivity.${prompt.sensitivity}`)}
              </span>
            </dd>
          </div>
        ) : null}
        <Fact label={t('push.prompt.startedBy')} value={prompt.startedBy} testId="push-started-by" />
        <div className="request-fact">
          <dt>{t('push.prompt.from')}</dt>
          <dd data-testid="push-source" data-source={prompt.source}>
            {sourceText(t, prompt.source)}
          </dd>
        </div>
        <Fact label={t('push.prompt.factor')} value={prompt.factorLabel} testId="push-factor" />
      </dl>
      {request ? (
        <p id={noteId} className="field-hint unverified-note">
          {t('approvals.unverifiedNote', { integration: request.integrationName })}
        </p>
      ) : null}

      <div className="push-pick" role="group" aria-labelledby={pickId}>
        <p id={pickId} className="push-pick-label">
          {t('push.prompt.pick')}
        </p>
        {here ? (
          <p className="field-hint push-here" data-testid="push-shown-here">
            {t('push.prompt.shownHere', { number: here.number })}
          </p>
        ) : null}
        <div className="push-numbers">
          {prompt.choices.map((n) => (
            <button
              key={n}
              type="button"
              className="button push-number"
              disabled={busy || expired}
              onClick={() => void answer(prompt.id, n)}
              aria-label={t('push.prompt.pickNumber', { number: n })}
              data-testid="push-number"
              data-number={n}
            >
              {n}
            </button>
          ))}
        </div>
      </div>
      {expired ? (
        <p className="notice notice-warning notice-small" role="status" data-testid="push-expired">
          <AlertIcon />
          <span>{t('push.prompt.expired')}</span>
        </p>
      ) : null}
      {error ? (
        <p className="notice notice-error" role="alert" data-testid="push-error" data-code={error.code}>
          {errorText(t, error)}
        </p>
      ) : null}
      {here?.onBackup ? (
        // Started by this window's own chain step, which takes a backup code instead: for an
        // approver who cannot answer the push (issue 12). Not a denial: nothing is reported.
        <div className="push-backup">
          <button type="button" className="button button-secondary" disabled={busy} onClick={here.onBackup} data-testid="push-use-backup">
            {t('push.prompt.useBackup')}
          </button>
        </div>
      ) : null}
      <div className="push-deny">
        <button
          type="button"
          className="button button-danger-quiet"
          disabled={busy || expired}
          onClick={() => void deny(prompt.id)}
          aria-describedby={denyHintId}
          data-testid="push-deny"
        >
          {t('push.prompt.deny')}
        </button>
        <p id={denyHintId} className="field-hint">
          {t('push.prompt.denyHint')}
        </p>
      </div>
    </div>
  );
}

/** After a wrong pick or a denial: what it did, until the approver closes it. */
function ResultView({ result, describedBy, onClose }: { result: PushResult; describedBy: string; onClose(): void }) {
  const { t } = useTranslation();
  return (
    <div className="stack" data-testid="push-result" data-outcome={result.outcome}>
      <p id={describedBy} className={`notice ${result.outcome === 'denied' ? 'notice-warning' : 'notice-error'}`} role="alert">
        {result.outcome === 'denied' ? t('push.result.denied') : t('push.result.mismatched')}
      </p>
      <p className="muted">{purposeText(t, result.prompt)}</p>
      <div className="button-row button-row-end">
        <button type="button" className="button button-primary" onClick={onClose} data-autofocus="" data-testid="push-result-close">
          {t('common.close')}
        </button>
      </div>
    </div>
  );
}

const APPROVE = /^approve:/;
const TEST = /^test:(low|medium|high|critical)$/;
const DISABLE = /^factors:disable:/;
const ROLE = /^profile:role:(operator|admin|security-admin)$/;

/** What the push pays for, in plain words; a purpose the catalog does not know is named as it is. */
export function purposeText(t: TFunction, prompt: PushPromptView): string {
  const { purpose } = prompt;
  if (APPROVE.test(purpose)) return prompt.request ? t('push.purpose.approve') : t('push.purpose.approveUnknown', { id: purpose.slice('approve:'.length) });
  const test = TEST.exec(purpose)?.[1];
  if (test) return t('push.purpose.test', { sensitivity: t(`approvals.sensitivity.${test}`) });
  // The push that confirms a new push factor has no chain, hence no sensitivity; a chain paying
  // for adding a factor has one.
  if (purpose === 'factors:enroll') return prompt.sensitivity === null ? t('push.purpose.confirmFactor', { label: revealHidden(prompt.factorLabel) }) : t('push.purpose.enroll');
  if (purpose === 'backup-codes:regenerate') return t('push.purpose.regenerateCodes');
  if (DISABLE.test(purpose)) return t('push.purpose.disableFactor');
  const role = ROLE.exec(purpose)?.[1];
  if (role) return t('push.purpose.role', { role: t(`profile.roles.${role}`) });
  switch (purpose) {
    case 'policies:weaken':
      return t('push.purpose.weakenPolicy');
    case 'incident:leave':
      return t('push.purpose.incidentLeave');
    case 'settings:token-ttl':
      return t('push.purpose.tokenTtl');
    case 'sms:configure':
      return t('push.purpose.smsConfigure');
    default:
      return t('push.purpose.other', { purpose: revealHidden(purpose) });
  }
}

function sourceText(t: TFunction, source: string): string {
  switch (source) {
    case 'cli':
      return t('push.source.cli');
    case 'desktop':
      return t('push.source.desktop');
    default:
      return t('push.source.other', { source: revealHidden(source) });
  }
}
