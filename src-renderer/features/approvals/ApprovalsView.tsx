import { Fragment, useEffect, useId, useMemo, useRef, useState, type FocusEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describePortHolder, revealHidden, type RestoreRequestView } from '../../../src-shared/domain/restore-request';
import type { RestoreTokenView } from '../../../src-shared/domain/approval';
import { useLocalDeadline } from '../../app/app.store';
import { ConfirmDialog } from '../../app/ConfirmDialog';
import { CopyableId } from '../../app/CopyableId';
import { TableHead, When } from '../../app/table';
import { EmptyState } from '../../app/EmptyState';
import { errorText } from '../../app/errors';
import { FormErrorNotice } from '../../app/FormErrorNotice';
import { useFormError } from '../../app/form-error';
import { BanIcon, CheckCircleIcon, InboxIcon } from '../../app/icons';
import { callError, selectHasProfile, useSessionStore } from '../../app/session.store';
import { SetupCallout } from '../onboarding/SetupCallout';
import { IncidentSwitch } from '../incident/IncidentSwitch';
import { useNow } from '../../app/ticker';
import { useVirtualWindow } from '../../app/virtual-list';
import { useApprovalsStore, type ApprovalsTab } from './approvals.store';
import { ApproveDialog } from './ApproveDialog';
import { Countdown } from './Countdown';
import { Fact } from './Fact';

type TokenState = RestoreTokenView['state'];

const TABS: readonly ApprovalsTab[] = ['pending', 'history'];

export function ApprovalsView() {
  const { t } = useTranslation();
  const load = useApprovalsStore((s) => s.load);
  const refresh = useApprovalsStore((s) => s.refresh);
  const setGateway = useApprovalsStore((s) => s.setGateway);
  const tab = useApprovalsStore((s) => s.tab);
  const setTab = useApprovalsStore((s) => s.setTab);
  const pendingCount = useApprovalsStore((s) => s.pending.filter((r) => r.status === 'pending').length);
  const hasProfile = useSessionStore(selectHasProfile);
  const baseId = useId();
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);

  // Subscribed before loading, so a request arriving during the first read is not missed.
  useEffect(() => {
    const offs = [window.custodian.requests.onChanged(() => void refresh()), window.custodian.gateway.onStatus(setGateway)];
    void load();
    return () => {
      for (const off of offs) off();
    };
  }, [load, refresh, setGateway]);

  // WAI-ARIA tabs pattern: arrow keys move between tabs, Tab moves into the panel.
  function onTabKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = TABS.indexOf(tab);
    const next = event.key === 'ArrowRight' ? (index + 1) % TABS.length : event.key === 'ArrowLeft' ? (index - 1 + TABS.length) % TABS.length : -1;
    if (next < 0) return;
    event.preventDefault();
    setTab(TABS[next] as ApprovalsTab);
    tabRefs.current[next]?.focus();
  }

  return (
    <div className="stack">
      {hasProfile ? null : <SetupCallout />}
      <GatewayNotice />
      <IncidentSwitch />
      <div className="tabs" role="tablist" aria-label={t('approvals.tabs.label')} onKeyDown={onTabKeyDown}>
        {TABS.map((id, i) => (
          <button
            key={id}
            ref={(el) => {
              tabRefs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${baseId}-tab-${id}`}
            aria-controls={`${baseId}-panel-${id}`}
            aria-selected={tab === id}
            tabIndex={tab === id ? 0 : -1}
            className="tab"
            data-testid={`approvals-tab-${id}`}
            onClick={() => setTab(id)}
          >
            {t(`approvals.tabs.${id}`)}
            {id === 'pending' && pendingCount > 0 ? <span className="tab-count">{pendingCount}</span> : null}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${baseId}-panel-${tab}`} aria-labelledby={`${baseId}-tab-${tab}`} className="stack">
        {tab === 'pending' ? <PendingList /> : <HistoryTable />}
      </div>
    </div>
  );
}

function GatewayNotice() {
  const { t } = useTranslation();
  const gateway = useApprovalsStore((s) => s.gateway);
  if (!gateway) return null;
  const heldBy = gateway.holder ? describePortHolder(gateway.holder) : null;
  switch (gateway.state) {
    case 'port-in-use':
      return (
        <p className="notice notice-error" role="alert" data-testid="gateway-status" data-state={gateway.state}>
          {errorText(t, { code: 'ERR-PORT-IN-USE', message: '', details: { port: gateway.port } })}{' '}
          {heldBy ? t('approvals.gatewayHeldBy', { holder: heldBy }) : t('approvals.gatewayHeldByUnknown')}
        </p>
      );
    case 'elsewhere':
      return (
        <p className="notice notice-info" data-testid="gateway-status" data-state={gateway.state}>
          {t('approvals.gatewayElsewhere', { port: gateway.port })}
        </p>
      );
    case 'listening':
    case 'stopped':
      return null;
    default: {
      const never: never = gateway.state;
      return never;
    }
  }
}

function PendingList() {
  const { t } = useTranslation();
  const pending = useApprovalsStore((s) => s.pending);
  const loadState = useApprovalsStore((s) => s.loadState);
  const loadError = useApprovalsStore((s) => s.loadError);
  if (loadState === 'error' && loadError) {
    return (
      <p className="notice notice-error" role="alert">
        {errorText(t, loadError)}
      </p>
    );
  }
  if (pending.length === 0) {
    if (loadState === 'loading') return <p className="muted">{t('app.loading')}</p>;
    return <EmptyState icon={<InboxIcon />} title={t('approvals.empty')} hint={t('approvals.emptyHint')} />;
  }
  return <RequestList requests={pending} />;
}

// A card's height before it is measured, the CSS gap between cards (1rem), and the cards kept
// rendered beyond each edge of the pane: enough that Tab always has a next card to move to.
const CARD_ESTIMATE_PX = 460;
const CARD_GAP_PX = 16;
const OVERSCAN = 3;
/** PageUp and PageDown move this many cards. */
const PAGE = 5;

/**
 * The pending cards, windowed (issue 13, item 8: 1,000 pending requests): only the cards in view,
 * plus a few either side, are in the DOM. Each card says where it stands in the whole list
 * (aria-setsize, aria-posinset), as a screen reader would count it unwindowed. Arrow keys,
 * PageUp/PageDown, Home and End move between cards (the card's title takes the focus), bringing
 * the card in first if it was not rendered; Tab still walks the buttons in order.
 */
function RequestList({ requests }: { requests: RestoreRequestView[] }) {
  const { t } = useTranslation();
  const keys = useMemo(() => requests.map((r) => r.id), [requests]);
  const list = useVirtualWindow({ keys, estimate: CARD_ESTIMATE_PX, gap: CARD_GAP_PX, overscan: OVERSCAN });

  async function onKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const target = event.target as HTMLElement;
    // Keys typed in a dialog (the approval's code field) are the dialog's.
    if (target.closest('dialog')) return;
    const row = target.closest<HTMLElement>('[data-index]');
    if (!row || event.altKey || event.ctrlKey || event.metaKey) return;
    const index = Number(row.dataset.index);
    const last = requests.length - 1;
    const next =
      event.key === 'ArrowDown' ? Math.min(last, index + 1)
      : event.key === 'ArrowUp' ? Math.max(0, index - 1)
      : event.key === 'PageDown' ? Math.min(last, index + PAGE)
      : event.key === 'PageUp' ? Math.max(0, index - PAGE)
      : event.key === 'Home' ? 0
      : event.key === 'End' ? last
      : null;
    if (next === null) return;
    event.preventDefault();
    await list.reveal(next);
    list.listRef.current?.querySelector<HTMLElement>(`:scope > [data-index="${next}"] .request-title`)?.focus();
  }

  function onFocus(event: FocusEvent<HTMLUListElement>) {
    const row = (event.target as HTMLElement).closest<HTMLElement>('[data-key]');
    list.setFocused(row?.dataset.key ?? null);
  }

  function onBlur(event: FocusEvent<HTMLUListElement>) {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) list.setFocused(null);
  }

  return (
    <ul
      ref={(el) => {
        list.listRef.current = el;
      }}
      className="request-list"
      role="list"
      aria-label={t('approvals.tabs.pending')}
      data-testid="request-list"
      data-count={requests.length}
      onKeyDown={(event) => void onKeyDown(event)}
      onFocus={onFocus}
      onBlur={onBlur}
    >
      {list.indexes.map((index) => {
        const request = requests[index] as RestoreRequestView;
        const gap = list.gapAfter(index);
        return (
          <Fragment key={request.id}>
            <li ref={list.measure(request.id)} data-index={index} data-key={request.id} aria-setsize={requests.length} aria-posinset={index + 1}>
              <RequestCard request={request} />
            </li>
            {gap === null ? null : (
              <li
                aria-hidden="true"
                className="virtual-gap"
                ref={(el) => {
                  // The CSSOM, which the CSP allows (a style attribute it refuses).
                  if (el) el.style.height = `${gap}px`;
                }}
              />
            )}
          </Fragment>
        );
      })}
    </ul>
  );
}

function RequestCard({ request }: { request: RestoreRequestView }) {
  const { t, i18n } = useTranslation();
  const now = useNow();
  // Main's clock offset: the one the whole renderer shares (app store).
  const deadline = useLocalDeadline(request.expiresAt);
  const busyId = useApprovalsStore((s) => s.busyId);
  const actionError = useApprovalsStore((s) => s.actionError);
  const deny = useApprovalsStore((s) => s.deny);
  const dismiss = useApprovalsStore((s) => s.dismiss);
  const [confirmingReport, setConfirmingReport] = useState(false);
  const [approving, setApproving] = useState(false);
  const [focusTitle, setFocusTitle] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const titleId = useId();
  const reportHintId = useId();
  const noteId = useId();

  const approved = request.status === 'approved';
  const remainingMs = (deadline ?? 0) - now;
  const expired = request.status === 'expired' || (!approved && remainingMs <= 0);
  const state = approved ? 'approved' : expired ? 'expired' : 'pending';
  const busy = busyId === request.id;
  const time = useMemo(() => new Intl.DateTimeFormat(i18n.language, { timeStyle: 'medium' }), [i18n.language]);

  // After an approval the Approve button is gone with the dialog's opener: the card's title takes
  // the focus, so the keyboard user stays on the card that changed.
  useEffect(() => {
    if (!focusTitle) return;
    titleRef.current?.focus();
    setFocusTitle(false);
  }, [focusTitle]);

  const unverified = <UnverifiedTag describedBy={noteId} />;
  return (
    <article
      className={`card request-card${expired ? ' request-expired' : ''}`}
      aria-labelledby={titleId}
      data-testid="request-card"
      data-id={request.id}
      data-state={state}
    >
      <header className="request-header">
        <div className="request-title-block">
          <h2 id={titleId} className="request-title" ref={titleRef} tabIndex={-1}>
            <bdi dir="ltr">{revealHidden(request.requester)}</bdi>
          </h2>
          {unverified}
          <span className={`badge badge-${request.sensitivity}`} data-testid="request-sensitivity">
            {t(`approvals.sensitivity.${request.sensitivity}`)}
          </span>
          {approved ? (
            <span className="badge badge-status-approved" data-testid="request-status">
              {t('approvals.status.approved')}
            </span>
          ) : null}
        </div>
        {approved ? null : <Countdown remainingMs={expired ? 0 : remainingMs} totalMs={Date.parse(request.expiresAt) - Date.parse(request.createdAt)} />}
      </header>
      <dl className="request-facts">
        <div className="request-fact">
          <dt>{t('approvals.fields.id')}</dt>
          <dd>
            <CopyableId value={request.id} testId="request-id" />
          </dd>
        </div>
        <Fact label={t('approvals.fields.backup')} value={request.backupId} testId="request-backup" code />
        <Fact label={t('approvals.fields.target')} value={request.target} testId="request-target" code />
        <Fact label={t('approvals.fields.reason')} value={request.reason} testId="request-reason" />
        <Fact label={t('approvals.fields.integration')} value={request.integrationName} testId="request-integration" />
        {request.source ? <Fact label={t('approvals.fields.source')} value={request.source} testId="request-source" code /> : null}
        <Fact label={t('approvals.fields.received')} value={time.format(new Date(request.createdAt))} />
        {Object.entries(request.context).map(([key, value]) => (
          <Fact key={key} label={revealHidden(key)} value={value} code tag={unverified} />
        ))}
      </dl>
      <p id={noteId} className="field-hint unverified-note" data-testid="request-unverified-note">
        {t('approvals.unverifiedNote', { integration: request.integrationName })}
      </p>
      {approved ? (
        <ApprovedPanel request={request} />
      ) : expired ? (
        <div className="request-actions">
          <button type="button" className="button button-secondary" onClick={() => dismiss(request.id)} data-testid="request-dismiss">
            {t('approvals.dismiss')}
          </button>
        </div>
      ) : (
        <>
          <div className="request-actions">
            <button type="button" className="button button-primary" disabled={busy} onClick={() => setApproving(true)} data-testid="request-approve">
              <CheckCircleIcon />
              {t('approvals.approve')}
            </button>
            <button type="button" className="button button-secondary" disabled={busy} onClick={() => void deny(request.id, false)} data-testid="request-deny">
              {t('approvals.deny')}
            </button>
            <button
              type="button"
              className="button button-danger"
              disabled={busy}
              onClick={() => setConfirmingReport(true)}
              aria-describedby={reportHintId}
              data-testid="request-report"
            >
              {t('approvals.report')}
            </button>
          </div>
          <p id={reportHintId} className="field-hint">
            {t('approvals.reportHint', { integration: request.integrationName })}
          </p>
        </>
      )}
      {approving && state === 'pending' ? (
        <ApproveDialog
          request={request}
          onClose={() => setApproving(false)}
          onApproved={() => {
            setApproving(false);
            setFocusTitle(true);
          }}
        />
      ) : null}
      {confirmingReport && state === 'pending' ? (
        <ReportConfirmation
          request={request}
          busy={busy}
          onCancel={() => setConfirmingReport(false)}
          onConfirm={() => void deny(request.id, true).then(() => setConfirmingReport(false))}
        />
      ) : null}
      {actionError?.id === request.id ? (
        <p className="notice notice-error" role="alert">
          {errorText(t, actionError.error)}
        </p>
      ) : null}
    </article>
  );
}

/**
 * What the backup tool asserted and nothing verified (issue 11 "UI"): the requester's name and the
 * context. The tag says so in words; the note under the facts (its description) says why, and the
 * tooltip repeats it for a pointer.
 */
export function UnverifiedTag({ describedBy }: { describedBy: string }) {
  const { t } = useTranslation();
  return (
    <span className="badge badge-unverified" title={t('approvals.unverifiedHint')} aria-describedby={describedBy} data-testid="unverified-tag">
      {t('approvals.unverified')}
    </span>
  );
}

/**
 * An approved request's token (issue 11 "Tokens"): its countdown while it can still be used, and
 * Revoke (after a confirmation) until it is redeemed; then which way it ended.
 */
function ApprovedPanel({ request }: { request: RestoreRequestView }) {
  const { t } = useTranslation();
  const token = useApprovalsStore((s) => s.tokens[request.id]);
  const revokeToken = useApprovalsStore((s) => s.revokeToken);
  const dismiss = useApprovalsStore((s) => s.dismiss);
  const now = useNow();
  const deadline = useLocalDeadline(token?.expiresAt);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const stateId = useId();

  const remainingMs = deadline === null ? 0 : deadline - now;
  const state = token ? liveState(token.state, remainingMs) : null;
  const live = state === 'issued' || state === 'delivered';

  async function onRevoke() {
    setBusy(true);
    form.clear();
    try {
      await revokeToken(request.id);
      setConfirming(false);
    } catch (error) {
      setConfirming(false);
      form.show(callError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack token-panel" data-testid="request-token" data-state={state ?? 'none'}>
      <div className="token-line">
        <div className="token-text">
          <p className="token-title">
            {t('approvals.token.title')}
            {request.decidedBy ? <span className="muted"> · {t('approvals.approvedBy', { actor: request.decidedBy })}</span> : null}
          </p>
          <p id={stateId} className="token-state" data-testid="request-token-state">
            {state ? t(`approvals.token.state.${state}`) : t('approvals.token.none')}
          </p>
        </div>
        {token && live ? <Countdown remainingMs={remainingMs} totalMs={token.ttlSeconds * 1000} /> : null}
      </div>
      <FormErrorNotice form={form} />
      <div className="request-actions">
        {live ? (
          <button type="button" className="button button-danger-quiet" onClick={() => setConfirming(true)} aria-describedby={stateId} data-testid="token-revoke">
            <BanIcon />
            {t('approvals.token.revoke')}
          </button>
        ) : null}
        <button type="button" className="button button-secondary" onClick={() => dismiss(request.id)} data-testid="request-dismiss">
          {t('approvals.dismiss')}
        </button>
      </div>
      {confirming && live ? (
        <ConfirmDialog
          title={t('approvals.token.confirmRevoke.title')}
          confirmLabel={t('approvals.token.confirmRevoke.confirm')}
          busy={busy}
          onConfirm={() => void onRevoke()}
          onCancel={() => setConfirming(false)}
          testId="confirm-revoke-token"
        >
          <p>{t('approvals.token.confirmRevoke.body', { requester: revealHidden(request.requester) })}</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** A token that ran out on screen reads as expired before main's next word on it. */
function liveState(state: TokenState, remainingMs: number): TokenState {
  return (state === 'issued' || state === 'delivered') && remainingMs <= 0 ? 'expired' : state;
}

function ReportConfirmation({ request, busy, onConfirm, onCancel }: { request: RestoreRequestView; busy: boolean; onConfirm(): void; onCancel(): void }) {
  const { t } = useTranslation();
  const minutes = useApprovalsStore((s) => s.reportMuteMinutes);
  return (
    <ConfirmDialog title={t('approvals.confirmReport.title')} confirmLabel={t('approvals.confirmReport.confirm')} busy={busy} onConfirm={onConfirm} onCancel={onCancel} testId="confirm-report">
      <p>{t('approvals.confirmReport.body', { requester: request.requester })}</p>
      {minutes === null ? null : <p>{t('approvals.confirmReport.others', { integration: request.integrationName, minutes })}</p>}
    </ConfirmDialog>
  );
}

function HistoryTable() {
  const { t } = useTranslation();
  const history = useApprovalsStore((s) => s.history);
  const tokens = useApprovalsStore((s) => s.tokens);
  if (history.length === 0) {
    return (
      <div className="card empty-state">
        <p className="empty-title">{t('approvals.historyEmpty')}</p>
      </div>
    );
  }
  // Five columns, each holding a line or two, so the table fits the default window; a
  // narrower one scrolls it sideways inside its card (issue 9). Long values are cut with an
  // ellipsis, never broken mid-token, and keep their whole text in a title.
  return (
    <div className="card table-scroll" role="region" aria-label={t('approvals.tabs.history')} tabIndex={0}>
      <table className="audit-table history-table">
        <TableHead
          columns={[
            { label: t('approvals.fields.decidedAt'), className: 'col-when' },
            { label: t('approvals.fields.status'), className: 'col-status' },
            { label: t('approvals.fields.request') },
            { label: t('approvals.fields.restore'), className: 'col-restore' },
            { label: t('approvals.fields.sensitivity'), className: 'col-sensitivity' },
          ]}
        />
        <tbody>
          {history.map((r) => (
            <tr key={r.id} data-testid="history-row" data-id={r.id} data-status={r.status}>
              <td>
                {r.decidedAt ? <When iso={r.decidedAt} /> : '–'}
                {r.decidedBy ? (
                  <span className="cell-wrap muted">{t('approvals.decidedByLine', { actor: r.decidedBy })}</span>
                ) : null}
              </td>
              <td>
                <span className="badge-stack">
                  <span className={`badge badge-status-${r.status}`}>{t(`approvals.status.${r.status}`)}</span>
                  {r.reported ? <span className="badge badge-reported">{t('approvals.reported')}</span> : null}
                </span>
                {r.status === 'approved' ? <HistoryToken token={tokens[r.id] ?? null} /> : null}
              </td>
              <td>
                <span className="cell-line" title={revealHidden(r.requester)}>
                  <bdi dir="ltr">{revealHidden(r.requester)}</bdi>
                </span>
                <CopyableId value={r.id} testId="history-id" />
                <span className="cell-wrap muted">{t('approvals.via', { integration: r.integrationName })}</span>
              </td>
              <td>
                <span className="cell-line" title={revealHidden(r.backupId)}>
                  <span className="visually-hidden">{t('approvals.fields.backup')}: </span>
                  <code dir="ltr">{revealHidden(r.backupId)}</code>
                </span>
                <span className="cell-line" title={revealHidden(r.target)}>
                  <span className="visually-hidden">{t('approvals.fields.target')}: </span>
                  <code dir="ltr">{revealHidden(r.target)}</code>
                </span>
              </td>
              <td>{t(`approvals.sensitivity.${r.sensitivity}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** An approved request's token in the history: how it stands now, in a word or two. */
function HistoryToken({ token }: { token: RestoreTokenView | null }) {
  const { t } = useTranslation();
  const now = useNow();
  const deadline = useLocalDeadline(token?.expiresAt);
  const state = token ? liveState(token.state, (deadline ?? 0) - now) : null;
  return (
    <span className="cell-wrap muted" data-testid="history-token" data-state={state ?? 'none'}>
      {state ? t(`approvals.token.short.${state}`) : t('approvals.token.none')}
    </span>
  );
}
