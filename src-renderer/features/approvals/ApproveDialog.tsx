import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { approvePurpose, type ApprovalCheck, type ApprovalPreview } from '../../../src-shared/domain/approval';
import { revealHidden, type RestoreRequestView } from '../../../src-shared/domain/restore-request';
import type { ErrorCode } from '../../../src-shared/errors';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { Dialog, focusInitial } from '../../app/Dialog';
import { assertNever, errorText } from '../../app/errors';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { AlertIcon, CheckCircleIcon } from '../../app/icons';
import { callError } from '../../app/session.store';
import { StepUpActions, useStepUp } from '../chain/step-up';
import { useApprovalsStore } from './approvals.store';
import { Fact } from './Fact';

interface ApproveDialogProps {
  request: RestoreRequestView;
  onClose(): void;
  onApproved(): void;
}

/**
 * "Approve" on a pending request (issue 11 "UI"; DESIGN.md "Restore approval"). In the order an
 * approver reads it: the policy checks as they stand (a failing one ends it here: no code is asked
 * for in vain), the number the requester shows, then Approve, which runs the chain at the
 * request's sensitivity for `approve:<id>` and only then sends the number. The chain comes first
 * (`chainFirst`): an approval tried without a grant is audited as a deny, and the log should not
 * carry one before every approval. A wrong number spends the grant, so Approve starts a new chain.
 */
export function ApproveDialog({ request, onClose, onApproved }: ApproveDialogProps) {
  const { t } = useTranslation();
  const applyApproved = useApprovalsStore((s) => s.applyApproved);
  const [preview, setPreview] = useState<ApprovalPreview | null>(null);
  const [previewError, setPreviewError] = useState<CustodianError | null>(null);
  const [matchCode, setMatchCode] = useState('');
  const [checkedAt, setCheckedAt] = useState(0);
  const codeId = useId();
  const hintId = useId();
  const checksId = useId();
  const formRef = useRef<HTMLFormElement>(null);

  const stepUp = useStepUp({
    purpose: approvePurpose(request.id),
    // Unknown or missing counts as critical (DESIGN.md "Domain"); the preview says which applies.
    sensitivity: preview?.sensitivity ?? 'critical',
    chainFirst: true,
    action: () => window.custodian.approvals.approve(request.id, matchCode),
    onDone: (result) => {
      applyApproved(result.request, result.token);
      onApproved();
    },
    onCancel: onClose,
  });

  // The checks as they stand, read when the dialog opens and again after any refusal (the
  // authoritative check after the chain may have found something the preview now shows too).
  useEffect(() => {
    let live = true;
    window.custodian.approvals.preview(request.id).then(
      (value) => {
        if (!live) return;
        setPreview(value);
        setPreviewError(null);
      },
      (error: unknown) => {
        if (live) setPreviewError(callError(error));
      },
    );
    return () => {
      live = false;
    };
  }, [request.id, checkedAt]);

  // The checks arrive after the dialog opened: the keyboard user starts at the number field (or
  // at Close, when a check fails), once it is there.
  const loaded = preview !== null || previewError !== null;
  useEffect(() => {
    const form = formRef.current;
    if (loaded && form && !form.contains(document.activeElement)) focusInitial(form);
  }, [loaded]);

  const refusal = stepUp.form.state?.error.code ?? null;
  useEffect(() => {
    if (refusal === null) return;
    // A wrong number: the approver reads it again from the requester's screen, not from memory.
    if (refusal === 'ERR-RESTORE-MATCH-MISMATCH') setMatchCode('');
    setCheckedAt((n) => n + 1);
  }, [refusal, stepUp.form.state]);

  const blocked = preview !== null && preview.checks.some((check) => check.state === 'fail');
  const ready = preview !== null && !blocked && /^[0-9]{2}$/.test(matchCode);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (ready) void stepUp.run();
  }

  return (
    <Dialog title={t('approvals.approveDialog.title', { requester: revealHidden(request.requester) })} onClose={onClose} wide testId="approve-dialog">
      <form ref={formRef} className="stack" onSubmit={onSubmit} noValidate>
        {/* What is being approved, as on the card: the approver confirms a restore, not a button. */}
        <dl className="request-facts" data-testid="approve-summary">
          <Fact label={t('approvals.fields.backup')} value={request.backupId} code />
          <Fact label={t('approvals.fields.target')} value={request.target} code />
          <Fact label={t('approvals.fields.integration')} value={request.integrationName} />
          <Fact label={t('approvals.fields.sensitivity')} value={t(`approvals.sensitivity.${request.sensitivity}`)} />
        </dl>
        <section className="stack approve-checks" aria-labelledby={checksId}>
          <h3 id={checksId} className="section-heading">
            {t('approvals.approveDialog.checksTitle')}
          </h3>
          {previewError ? (
            <p className="notice notice-error" role="alert" data-testid="approve-preview-error" data-code={previewError.code}>
              {errorText(t, previewError)}
            </p>
          ) : preview === null ? (
            <p className="muted">{t('approvals.approveDialog.checksLoading')}</p>
          ) : (
            <>
              <ul className="check-list" data-testid="approve-checks">
                {preview.checks.map((check) => (
                  <CheckItem key={check.rule} check={check} preview={preview} />
                ))}
              </ul>
              <p className="field-hint">{t('approvals.approveDialog.checksNote')}</p>
            </>
          )}
        </section>
        {blocked ? (
          <p className="notice notice-error notice-small" role="alert" data-testid="approve-blocked">
            <AlertIcon />
            <span>{t('approvals.approveDialog.blocked')}</span>
          </p>
        ) : null}
        {preview !== null && !blocked ? (
          <>
            <div className="field match-field">
              <label htmlFor={codeId} className="field-label">
                {t('approvals.matchCode')}
              </label>
              <input
                id={codeId}
                className="input match-input"
                type="text"
                inputMode="numeric"
                autoComplete="off"
                spellCheck={false}
                maxLength={2}
                pattern="[0-9]{2}"
                value={matchCode}
                // Held still while a chain runs for it: the number sent is the one typed first.
                readOnly={stepUp.chaining}
                onChange={(e) => setMatchCode(e.target.value.replace(/\D/g, '').slice(0, 2))}
                aria-describedby={hintId}
                data-testid="approve-match-code"
                data-autofocus=""
              />
              <p id={hintId} className="field-hint">
                {t('approvals.matchCodeHint')}
              </p>
            </div>
            <p className="field-hint">{t('approvals.approveDialog.chainNote', { sensitivity: t(`approvals.sensitivity.${preview.sensitivity}`) })}</p>
          </>
        ) : null}
        <FormErrorNotice form={stepUp.form} />
        {refusal === 'ERR-RESTORE-MATCH-MISMATCH' ? (
          <p className="field-hint" data-testid="approve-again">
            {t('approvals.approveDialog.again')}
          </p>
        ) : null}
        {blocked || previewError ? (
          <div className="button-row button-row-end">
            <button type="button" className="button button-secondary" onClick={onClose} data-testid="approve-close" data-autofocus="">
              {t('common.close')}
            </button>
          </div>
        ) : (
          <StepUpActions onCancel={onClose} cancelTestId="approve-cancel" stepUp={stepUp} disabled={!ready} testId="approve-confirm" icon={<CheckCircleIcon />}>
            {t('approvals.approveDialog.confirm')}
          </StepUpActions>
        )}
      </form>
      {/* After the form, not in it: the prompt's step forms cannot nest. */}
      {stepUp.prompt}
    </Dialog>
  );
}

/** The code a failing rule is refused with, so the checklist says it in the catalog's words. */
function failCode(rule: ApprovalCheck['rule']): ErrorCode {
  switch (rule) {
    case 'role-ceiling':
      return 'ERR-RESTORE-POLICY-DENIED';
    case 'self-approval':
      return 'ERR-RESTORE-SELF-APPROVAL';
    case 'incident-mode':
      return 'ERR-RESTORE-INCIDENT-MODE';
    case 'expiry':
      return 'ERR-RESTORE-EXPIRED';
    default:
      return assertNever(rule);
  }
}

function CheckItem({ check, preview }: { check: ApprovalCheck; preview: ApprovalPreview }) {
  const { t } = useTranslation();
  const levels = { ceiling: t(`approvals.sensitivity.${preview.ceiling}`), sensitivity: t(`approvals.sensitivity.${preview.sensitivity}`) };
  const pass = check.state === 'pass';
  const detail = pass
    ? t(`approvals.approveDialog.pass.${check.rule}`, levels)
    : check.rule === 'role-ceiling'
      ? `${errorText(t, { code: failCode(check.rule), message: '' })} ${t('approvals.approveDialog.failRole', levels)}`
      : errorText(t, { code: failCode(check.rule), message: '' });
  return (
    <li className={`check-item check-${check.state}`} data-testid="approve-check" data-rule={check.rule} data-state={check.state}>
      <span className="check-icon">{pass ? <CheckCircleIcon /> : <AlertIcon />}</span>
      <span className="check-text">
        <span className="check-name">
          {t(`approvals.approveDialog.check.${check.rule}`)}
          <span className={`badge badge-check-${check.state}`}>{t(`approvals.approveDialog.state.${check.state}`)}</span>
        </span>
        <span className="check-detail">{detail}</span>
      </span>
    </li>
  );
}
