import { useEffect, useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApprovalsView } from '../features/approvals/ApprovalsView';
import { AuditView } from '../features/audit/AuditView';
import { FactorsView } from '../features/factors/FactorsView';
import { PoliciesView } from '../features/policies/PoliciesView';
import { SettingsView } from '../features/settings/SettingsView';
import { SetupFlow } from '../features/onboarding/SetupFlow';
import { IncidentBanner } from '../features/incident/IncidentSwitch';
import { useIncidentStore } from '../features/incident/incident.store';
import { PushPrompt } from '../features/push/PushPrompt';
import { usePushStore } from '../features/push/push.store';
import { SECTIONS, selectSavedLanguage, useAppStore, type Section } from './app.store';
import { assertNever, errorText } from './errors';
import { GearIcon, InboxIcon, KeyIcon, ListIcon, LockIcon, ShieldIcon, UserIcon } from './icons';
import { LockScreen } from './LockScreen';
import { usePendingStore } from './pending.store';
import { selectMfaEnabled, useSessionStore } from './session.store';

export function App() {
  const { t, i18n } = useTranslation();
  const load = useAppStore((state) => state.load);
  const applySettings = useAppStore((state) => state.applySettings);
  const loadState = useAppStore((state) => state.loadState);
  const savedLanguage = useAppStore(selectSavedLanguage);
  const gate = useSessionStore((state) => state.gate);
  const lock = useSessionStore((state) => state.lock);
  const refreshLock = useSessionStore((state) => state.refreshLock);
  const applyLock = useSessionStore((state) => state.applyLock);
  const loadProfile = useSessionStore((state) => state.loadProfile);
  const locked = lock?.locked === true;
  const unlocked = gate === 'ready' && !locked;
  const hasProfile = lock?.hasProfile === true;

  // Subscribed before the first reads, so a change made elsewhere (the CLI, the idle lock, a
  // second window) while a read is in flight is not lost.
  useEffect(() => window.custodian.settings.onChanged(applySettings), [applySettings]);
  useEffect(() => window.custodian.lock.onChanged(applyLock), [applyLock]);
  // The pending count is answered while locked too: the title and the lock screen show it.
  const applyPending = usePendingStore((state) => state.apply);
  const loadPending = usePendingStore((state) => state.load);
  const pending = usePendingStore((state) => state.count);
  useEffect(() => window.custodian.requests.onPendingCount(applyPending), [applyPending]);
  useEffect(() => {
    void loadPending();
  }, [loadPending]);
  // The lock decides what may show at all (issue #4), so it is asked first; while locked main
  // refuses settings and info, which are read once it opens.
  useEffect(() => {
    void refreshLock();
  }, [refreshLock]);
  useEffect(() => {
    if (unlocked) void load();
  }, [unlocked, load]);
  // Incident mode (issue 11): its events are held back while locked, so it is read afresh on
  // every unlock; changes made anywhere (another window, a shell) arrive as events.
  const applyIncident = useIncidentStore((state) => state.apply);
  const loadIncident = useIncidentStore((state) => state.load);
  useEffect(() => window.custodian.incident.onChanged(applyIncident), [applyIncident]);
  useEffect(() => {
    if (unlocked) void loadIncident();
  }, [unlocked, loadIncident]);
  // Push prompts (issue 12): read on every unlock (events are held back while locked), and again
  // on every push:changed, wherever the push was raised or answered.
  const loadPushes = usePushStore((state) => state.load);
  const clearPushes = usePushStore((state) => state.clear);
  useEffect(() => window.custodian.push.onChanged(() => void loadPushes()), [loadPushes]);
  useEffect(() => {
    if (unlocked) void loadPushes();
    else clearPushes();
  }, [unlocked, loadPushes, clearPushes]);
  useEffect(() => {
    if (unlocked && hasProfile) void loadProfile();
  }, [unlocked, hasProfile, loadProfile]);

  // While locked, lock:status carries the language, since settings:get is refused.
  const language = (locked ? lock?.language : savedLanguage) ?? lock?.language ?? 'en';

  // A layout effect, so the first painted frame is already in the saved language.
  useLayoutEffect(() => {
    if (i18n.language !== language) void i18n.changeLanguage(language);
    // Screen readers pick their voice from it, and Turkish casing rules (İ/ı) follow it in CSS.
    document.documentElement.lang = language;
  }, [i18n, language]);

  // "(2) Custodian": the waiting requests show in the taskbar and the window switcher.
  useEffect(() => {
    document.title = pending > 0 ? t('app.titleWithCount', { count: pending }) : t('app.title');
  }, [t, pending]);

  if (gate === 'loading' || (unlocked && loadState === 'loading')) {
    return (
      <div className="splash" role="status">
        <ShieldIcon className="splash-icon" />
        <span>{t('app.loading')}</span>
      </div>
    );
  }
  if (locked) return <LockScreen />;
  return <Shell />;
}

const SECTION_ICONS: Record<Section, ReactNode> = {
  approvals: <InboxIcon />,
  factors: <KeyIcon />,
  policies: <ShieldIcon />,
  audit: <ListIcon />,
  settings: <GearIcon />,
};

function Shell() {
  const { t } = useTranslation();
  const section = useAppStore((state) => state.section);
  const setSection = useAppStore((state) => state.setSection);
  const info = useAppStore((state) => state.info);
  const loadError = useAppStore((state) => state.loadError);
  const setupOpen = useAppStore((state) => state.setupOpen);
  const closeSetup = useAppStore((state) => state.closeSetup);
  const gateError = useSessionStore((state) => state.gateError);
  const incidentOn = useIncidentStore((state) => state.state?.on === true);
  const titleId = useId();
  const navRef = useRef<HTMLUListElement>(null);
  const paneRef = useRef<HTMLElement>(null);
  const shownError = gateError ?? loadError;

  useActivityReporter();
  useLockShortcut();

  // The pane is one scroll container shared by every section: a new section starts at its top
  // rather than wherever the previous one was left (issue 9). A layout effect, so the first
  // frame of the new section is already at the top.
  useLayoutEffect(() => {
    if (paneRef.current) paneRef.current.scrollTop = 0;
  }, [section, setupOpen]);

  // Arrow keys move between sections as in a native sidebar; Tab still visits every item, so
  // nothing depends on knowing the shortcut.
  function onNavKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const buttons = Array.from(navRef.current?.querySelectorAll<HTMLButtonElement>('button') ?? []);
    const index = buttons.findIndex((button) => button === document.activeElement);
    if (index === -1) return;
    const target =
      event.key === 'ArrowDown'
        ? buttons[(index + 1) % buttons.length]
        : event.key === 'ArrowUp'
          ? buttons[(index - 1 + buttons.length) % buttons.length]
          : event.key === 'Home'
            ? buttons[0]
            : event.key === 'End'
              ? buttons.at(-1)
              : undefined;
    if (!target) return;
    event.preventDefault();
    target.focus();
  }

  return (
    <div className={incidentOn ? 'shell shell-with-banner' : 'shell'}>
      <IncidentBanner onOpen={section === 'approvals' && !setupOpen ? null : () => setSection('approvals')} />
      <aside className="sidebar">
        <div className="brand">
          <ShieldIcon className="brand-icon" />
          <div className="brand-text">
            <p className="brand-title">{t('app.title')}</p>
            <p className="brand-tagline">{t('app.tagline')}</p>
          </div>
        </div>
        <nav className="nav">
          <ul className="nav-list" ref={navRef} onKeyDown={onNavKeyDown}>
            {SECTIONS.map((id) => (
              <li key={id}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={id === section ? 'page' : undefined}
                  data-testid={`nav-${id}`}
                  onClick={() => setSection(id)}
                >
                  {SECTION_ICONS[id]}
                  <span className="nav-label">{t(`app.nav.${id}`)}</span>
                  {id === 'approvals' ? <PendingBadge /> : null}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-bottom">
          <SidebarIdentity />
          {info ? (
            <div className="sidebar-footer">
              <span>{t(`app.host.${info.host}`)}</span>
              <span className="sidebar-version">{info.version}</span>
            </div>
          ) : null}
        </div>
      </aside>

      <main className="pane" aria-labelledby={titleId} ref={paneRef} data-testid="pane">
        <header className="pane-header">
          <h1 id={titleId} className="pane-title" data-testid="section-title">
            {setupOpen ? t('onboarding.title') : t(`${section}.title`)}
          </h1>
        </header>
        <div className="pane-body">
          {shownError ? (
            <p className="notice notice-error" role="alert">
              {errorText(t, shownError)}
            </p>
          ) : null}
          {setupOpen ? <SetupFlow onFinish={closeSetup} /> : <SectionView section={section} />}
        </div>
      </main>
      {/* Over every screen, this one included: the window is the approver's push device. */}
      <PushPrompt />
    </div>
  );
}

function SectionView({ section }: { section: Section }) {
  switch (section) {
    case 'approvals':
      return <ApprovalsView />;
    case 'factors':
      return <FactorsView />;
    case 'policies':
      return <PoliciesView />;
    case 'audit':
      return <AuditView />;
    case 'settings':
      return <SettingsView />;
    default:
      return assertNever(section);
  }
}

/** The number of waiting requests beside Approvals, whichever section is open. */
function PendingBadge() {
  const { t } = useTranslation();
  const count = usePendingStore((state) => state.count);
  if (count === 0) return null;
  return (
    <span className="nav-count" data-testid="nav-pending-count">
      <span aria-hidden="true">{count}</span>
      <span className="visually-hidden">{t('app.pendingCount', { count })}</span>
    </span>
  );
}

/** Who approves here, and the "Lock now" button once a code can open the lock again. */
function SidebarIdentity() {
  const { t } = useTranslation();
  const profile = useSessionStore((state) => state.profile);
  const mfaEnabled = useSessionStore(selectMfaEnabled);
  const lockNow = useSessionStore((state) => state.lockNow);
  if (!profile && !mfaEnabled) return null;
  return (
    <div className="sidebar-identity">
      {profile ? (
        <div className="identity" aria-label={t('app.signedInAs')} role="group">
          <UserIcon className="identity-icon" />
          <div className="identity-text">
            <p className="identity-name">{profile.displayName}</p>
            <p className="identity-role">{t(`profile.roles.${profile.role}`)}</p>
          </div>
        </div>
      ) : null}
      {mfaEnabled ? (
        <button
          type="button"
          className="button button-secondary button-block lock-now"
          onClick={() => void lockNow()}
          title={t('app.lockNowHint')}
          aria-keyshortcuts="Control+L Meta+L"
          data-testid="lock-now"
        >
          <LockIcon />
          <span className="lock-now-label">{t('app.lockNow')}</span>
        </button>
      ) : null}
    </div>
  );
}

/**
 * Tells main the approver is here, so the idle lock waits (issue #4). Every key, click and
 * scroll counts; the store sends at most one report per 30 s.
 */
function useActivityReporter() {
  const reportActivity = useSessionStore((state) => state.reportActivity);
  useEffect(() => {
    const onActivity = () => reportActivity();
    const options = { capture: true, passive: true } as const;
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, onActivity, options);
    return () => {
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, onActivity, options);
    };
  }, [reportActivity]);
}

const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel'] as const;

/** Ctrl+L (Cmd+L on macOS) locks at once, as a screen lock does; only when a code can reopen it. */
function useLockShortcut() {
  const mfaEnabled = useSessionStore(selectMfaEnabled);
  const lockNow = useSessionStore((state) => state.lockNow);
  useEffect(() => {
    if (!mfaEnabled) return;
    function onKeyDown(event: globalThis.KeyboardEvent) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      if (event.key.toLowerCase() !== 'l') return;
      event.preventDefault();
      void lockNow();
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [mfaEnabled, lockNow]);
}
