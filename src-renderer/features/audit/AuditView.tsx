import type { TFunction } from 'i18next';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { isAuditEvent, type AuditEntry } from '../../../src-shared/domain/audit';
import { assertNever, errorText } from '../../app/errors';
import { AlertIcon, CheckCircleIcon, RefreshIcon, SpinnerIcon } from '../../app/icons';
import { TableHead, When } from '../../app/table';
import { selectHasOlder, useAuditStore, type ChainStatus } from './audit.store';

const HASH_PREFIX_LENGTH = 12;
// Appends come in bursts (a decision writes several rows); verifying walks the whole chain, so
// one refresh per burst is enough.
const APPEND_COALESCE_MS = 150;

export function AuditView() {
  const refresh = useAuditStore((state) => state.refresh);
  const verify = useAuditStore((state) => state.verify);

  useEffect(() => {
    void refresh();
    void verify();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = window.custodian.audit.onAppended(() => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void refresh();
        void verify();
      }, APPEND_COALESCE_MS);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [refresh, verify]);

  return (
    <div className="stack">
      <ChainBanner />
      <AuditTable />
    </div>
  );
}

function ChainBanner() {
  const { t } = useTranslation();
  const chain = useAuditStore((state) => state.chain);
  const verify = useAuditStore((state) => state.verify);

  return (
    <div className={`banner banner-${chain.state}`} data-testid="audit-chain-status" data-state={chain.state}>
      <ChainIcon chain={chain} />
      {/* Only the message is live, so the button's state is not announced along with it. */}
      <div className="banner-text" role="status" aria-live="polite">
        <p>{chainMessage(t, chain)}</p>
        {chain.state === 'verified' && chain.rows > 0 ? (
          <p className="banner-detail" data-testid="audit-anchor-status" data-anchor={chain.anchor}>
            {t(`audit.anchor.${chain.anchor}`)}
          </p>
        ) : null}
        {chain.state === 'broken' && REANCHOR_HINT.has(chain.reason) ? (
          <p className="banner-detail" data-testid="audit-anchor-status" data-anchor={chain.reason}>
            {t('audit.anchor.reanchorHint')}
          </p>
        ) : null}
      </div>
      <button
        type="button"
        className="button button-secondary"
        onClick={() => void verify()}
        disabled={chain.state === 'verifying'}
      >
        <RefreshIcon />
        {t('audit.reverify')}
      </button>
    </div>
  );
}

function ChainIcon({ chain }: { chain: ChainStatus }) {
  switch (chain.state) {
    case 'verifying':
      return <SpinnerIcon className="banner-icon" />;
    case 'verified':
      return <CheckCircleIcon className="banner-icon" />;
    case 'broken':
    case 'error':
      return <AlertIcon className="banner-icon" />;
    default:
      return assertNever(chain);
  }
}

function chainMessage(t: TFunction, chain: ChainStatus): string {
  switch (chain.state) {
    case 'verifying':
      return t('audit.verifying');
    case 'verified':
      return chain.rows === 0 ? t('audit.verifiedEmpty') : t('audit.verified', { count: chain.rows });
    case 'broken':
      return brokenMessage(t, chain);
    case 'error':
      return errorText(t, chain.error);
    default:
      return assertNever(chain);
  }
}

/** Faults an administrator may settle by re-anchoring from a shell: the chain itself is intact. */
const REANCHOR_HINT: ReadonlySet<string> = new Set(['anchor-missing', 'anchor-unreadable', 'anchor-mismatch', 'head-missing']);

function brokenMessage(t: TFunction, chain: Extract<ChainStatus, { state: 'broken' }>): string {
  switch (chain.reason) {
    case 'head-missing':
      return t('audit.brokenHeadMissing', { id: chain.firstBadId });
    case 'anchor-mismatch':
      return t('audit.brokenRewritten', { id: chain.firstBadId });
    case 'anchor-lagging':
      return t('audit.anchor.lagging', { anchored: chain.anchoredId ?? 0, head: chain.headId ?? 0 });
    case 'anchor-missing':
      return t('audit.anchor.missing');
    case 'anchor-unreadable':
      return t('audit.anchor.unreadable');
    case 'anchor-unavailable':
      return t('audit.anchor.unavailable');
    case 'hash-mismatch':
    case 'link-broken':
    case 'sequence-gap':
      return t('audit.broken', { id: chain.firstBadId });
    default:
      return assertNever(chain.reason);
  }
}

function AuditTable() {
  const { t } = useTranslation();
  const entries = useAuditStore((state) => state.entries);
  const listState = useAuditStore((state) => state.listState);
  const listError = useAuditStore((state) => state.listError);
  const loadingOlder = useAuditStore((state) => state.loadingOlder);
  const hasOlder = useAuditStore(selectHasOlder);
  const loadOlder = useAuditStore((state) => state.loadOlder);
  const chain = useAuditStore((state) => state.chain);
  const firstBadId = chain.state === 'broken' ? chain.firstBadId : null;

  const error = listError ? (
    <p className="notice notice-error" role="alert">
      {errorText(t, listError)}
    </p>
  ) : null;

  if (entries.length === 0) {
    if (listState === 'loading') return <p className="muted">{t('app.loading')}</p>;
    if (listState === 'error') return error;
    return (
      <div className="card empty-state">
        <p className="empty-title">{t('audit.empty')}</p>
      </div>
    );
  }

  return (
    <>
      {error}
      {/* Focusable so keyboard users can scroll a table wider than the pane (axe scrollable-region-focusable). */}
      <div className="card table-scroll" role="region" aria-label={t('audit.title')} tabIndex={0}>
        <table className="audit-table">
          <TableHead
            columns={[
              { label: t('audit.columns.id'), className: 'col-id' },
              { label: t('audit.columns.time'), className: 'col-when' },
              { label: t('audit.columns.event'), className: 'col-event' },
              { label: t('audit.columns.actor') },
              { label: t('audit.columns.subject'), className: 'col-subject' },
              { label: t('audit.columns.hash'), className: 'col-hash' },
            ]}
          />
          <tbody>
            {entries.map((entry) => (
              <AuditRow
                key={entry.id}
                entry={entry}
                untrusted={firstBadId !== null && entry.id >= firstBadId}
              />
            ))}
          </tbody>
        </table>
      </div>
      {hasOlder ? (
        <div className="row-center">
          <button type="button" className="button button-secondary" onClick={() => void loadOlder()} disabled={loadingOlder}>
            {loadingOlder ? <SpinnerIcon /> : null}
            {t('audit.loadMore')}
          </button>
        </div>
      ) : null}
    </>
  );
}



/**
 * The event in words, with its stored name below it in monospace: that is what `audit export`
 * prints and what an administrator greps for. A name from another version has no words here
 * and shows as stored.
 */
function EventName({ event }: { event: string }) {
  const { t } = useTranslation();
  if (!isAuditEvent(event)) {
    return (
      <code className="event cell-line" title={event}>
        {event}
      </code>
    );
  }
  return (
    <span className="event-name">
      <span data-testid="audit-event-label">{t(`audit.events.${event}`)}</span>
      <code className="event event-raw cell-line" title={event}>
        {event}
      </code>
    </span>
  );
}

function AuditRow({
  entry,
  untrusted,
}: {
  entry: AuditEntry;
  untrusted: boolean;
}) {
  const { t } = useTranslation();
  return (
    <tr data-testid="audit-row" data-id={entry.id} className={untrusted ? 'row-untrusted' : undefined}>
      <td className="col-id num">{entry.id}</td>
      <td>
        <When iso={entry.ts} />
      </td>
      <td>
        <EventName event={entry.event} />
      </td>
      <td>
        <span className="cell-wrap">{entry.actor}</span>
        {/* Where it came from, under who: only gateway rows have an address. */}
        {entry.source === '-' ? null : (
          <span className="cell-line muted" title={entry.source}>
            <span className="visually-hidden">{t('audit.columns.source')}: </span>
            {entry.source}
          </span>
        )}
      </td>
      <td>
        {/* Ids are cut, never broken mid-token; the whole value is in the title. */}
        <code className="cell-line" title={entry.subject}>
          {entry.subject}
        </code>
      </td>

      <td>
        <code className="hash" title={entry.hash}>
          {entry.hash.slice(0, HASH_PREFIX_LENGTH)}
        </code>
      </td>
    </tr>
  );
}
