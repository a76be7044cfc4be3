import { assertNever } from '../../../src-shared/assert-never';
import { translator, type Language } from '../../../src-shared/i18n';
import type { AuditFeedRepository, FeedRow } from '../../platform/db/repositories/audit-feed.repository';
import type { Notifier } from '../../platform/notifier';

/**
 * Every factor change raises a desktop notice (issue 9, item 4), whichever process made it. The
 * notice is read back from the change's own audit row, the one record every process writes in
 * the change's transaction: a factor added from a shell at night reaches the window that is open
 * on the desk, as a new-sign-in mail does.
 */
export const NOTICE_EVENTS = [
  'mfa_setup_initiated',
  'mfa_enabled',
  'mfa_factor_added',
  'mfa_disabled',
  'mfa_recovery_cancelled',
  'backup_codes_regenerated',
  'profile_role_changed',
] as const;
type NoticeEvent = (typeof NOTICE_EVENTS)[number];

/** Changes the Factors screen shows, beyond those worth a notice. */
const LIST_EVENTS = [
  ...NOTICE_EVENTS,
  'mfa_factor_renamed',
  'mfa_setup_resumed',
  'mfa_setup_removed',
  'mfa_setup_expired',
  'mfa_secret_revealed',
  'backup_code_used',
] as const;

/** More than this in one go become one "N more" notice: a burst must not bury the desktop. */
const MAX_NOTICES = 4;
const PAGE = 200;

type Notice = { title: string; body: string };
type T = ReturnType<typeof translator>;

export class FactorNotices {
  readonly #feed: AuditFeedRepository;
  readonly #notifier: Notifier | null;
  readonly #language: () => Language;
  #cursor: number;

  constructor(deps: { feed: AuditFeedRepository; notifier: Notifier | null; language: () => Language }) {
    this.#feed = deps.feed;
    this.#notifier = deps.notifier;
    this.#language = deps.language;
    // What happened before this process started is in the audit log, not news.
    this.#cursor = this.#feed.latestId();
  }

  /** Raises the notices for factor changes committed since the last call; true if any listed change. */
  drain(): boolean {
    const rows: FeedRow[] = [];
    for (;;) {
      const page = this.#feed.since(this.#cursor, LIST_EVENTS, PAGE);
      rows.push(...page);
      const last = page.at(-1);
      if (last) this.#cursor = last.id;
      if (page.length < PAGE) break;
    }
    if (rows.length === 0 || !this.#notifier) return rows.length > 0;
    let t: T;
    try {
      t = translator(this.#language());
    } catch {
      t = translator('en');
    }
    const notices = rows.map((row) => noticeFor(t, row)).filter((n): n is Notice => n !== null);
    const shown = notices.length > MAX_NOTICES + 1 ? notices.slice(0, MAX_NOTICES) : notices;
    const more = notices.length - shown.length;
    for (const notice of shown) this.#notify(notice);
    if (more > 0) this.#notify({ title: t('notifications.factorMoreTitle'), body: t('notifications.factorMoreBody', { count: more }) });
    return true;
  }

  #notify(notice: Notice): void {
    try {
      this.#notifier?.notify(notice);
    } catch {
      // A notice that cannot be shown must not undo the change: the audit log has it.
    }
  }
}

/** Signal's missingCaseError: a new notice event breaks the build until it has its notice. */
function isNoticeEvent(event: string): event is NoticeEvent {
  return (NOTICE_EVENTS as readonly string[]).includes(event);
}

/** The notice for one audit row, or null when the row is not worth one. Rows are not trusted. */
function noticeFor(t: T, row: FeedRow): Notice | null {
  if (!isNoticeEvent(row.event)) return null;
  const data = parseData(row.data);
  const text = (key: string): string => (typeof data[key] === 'string' ? (data[key] as string) : '');
  const label = text('label') || '—';
  const source = text('source');
  const where =
    source === 'desktop' ? t('notifications.where.desktop') : source === 'cli' ? t('notifications.where.cli') : t('notifications.where.other', { source });
  const event: NoticeEvent = row.event;
  switch (event) {
    case 'mfa_setup_initiated':
      return { title: t('notifications.factorStartedTitle'), body: t('notifications.factorStartedBody', { label, where }) };
    case 'mfa_enabled':
    case 'mfa_factor_added': {
      const until = typeof data.recoveryUntil === 'number' ? data.recoveryUntil : null;
      return {
        title: t('notifications.factorAddedTitle'),
        body: until === null ? t('notifications.factorAddedBody', { label, where }) : t('notifications.factorAddedRecoveryBody', { label, where, until }),
      };
    }
    case 'mfa_disabled':
      return { title: t('notifications.factorDisabledTitle'), body: t('notifications.factorDisabledBody', { label, where }) };
    case 'mfa_recovery_cancelled':
      return { title: t('notifications.recoveryCancelledTitle'), body: t('notifications.recoveryCancelledBody', { label, where }) };
    case 'backup_codes_regenerated':
      // The first set comes with MFA turning on, which has its own notice.
      if (text('reason') === 'mfa_enabled') return null;
      return { title: t('notifications.codesRegeneratedTitle'), body: t('notifications.codesRegeneratedBody', { where }) };
    case 'profile_role_changed': {
      const role = (key: string): string => (['operator', 'admin', 'security-admin'].includes(text(key)) ? t(`profile.roles.${text(key)}`) : text(key));
      return { title: t('notifications.roleChangedTitle'), body: t('notifications.roleChangedBody', { from: role('from'), to: role('to'), where }) };
    }
    default:
      return assertNever(event);
  }
}

function parseData(raw: string | null): Record<string, unknown> {
  try {
    const parsed: unknown = raw === null ? null : JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
