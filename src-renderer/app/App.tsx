import { useEffect, useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApprovalsView } from '../features/approvals/ApprovalsView';
import { AuditView } from '../features/audit/AuditView';
import { FactorsView } from '../features/factors/FactorsView';
import { SettingsView } from '../features/settings/SettingsView';
import { SECTIONS, selectLanguage, useAppStore, type Section } from './app.store';
import { assertNever, errorText } from './errors';
import { GearIcon, InboxIcon, KeyIcon, ListIcon, ShieldIcon } from './icons';

export function App() {
  const { t, i18n } = useTranslation();
  const load = useAppStore((state) => state.load);
  const applySettings = useAppStore((state) => state.applySettings);
  const loadState = useAppStore((state) => state.loadState);
  const language = useAppStore(selectLanguage);

  // Subscribed before loading, so a change made elsewhere (the CLI, a second window) while the
  // first read is in flight is not lost.
  useEffect(() => window.custodian.settings.onChanged(applySettings), [applySettings]);
  useEffect(() => {
    void load();
  }, [load]);

  // A layout effect, so the first painted frame is already in the saved language.
  useLayoutEffect(() => {
    if (i18n.language !== language) void i18n.changeLanguage(language);
    // Screen readers pick their voice from it, and Turkish casing rules (İ/ı) follow it in CSS.
    document.documentElement.lang = language;
  }, [i18n, language]);

  useEffect(() => {
    document.title = t('app.title');
  }, [t]);

  if (loadState === 'loading') {
    return (
      <div className="splash" role="status">
        <ShieldIcon className="splash-icon" />
        <span>{t('app.loading')}</span>
      </div>
    );
  }
  return <Shell />;
}

const SECTION_ICONS: Record<Section, ReactNode> = {
  approvals: <InboxIcon />,
  factors: <KeyIcon />,
  audit: <ListIcon />,
  settings: <GearIcon />,
};

function Shell() {
  const { t } = useTranslation();
  const section = useAppStore((state) => state.section);
  const setSection = useAppStore((state) => state.setSection);
  const info = useAppStore((state) => state.info);
  const loadError = useAppStore((state) => state.loadError);
  const titleId = useId();
  const navRef = useRef<HTMLUListElement>(null);

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
    <div className="shell">
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
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {info ? (
          <div className="sidebar-footer">
            <span>{t(`app.host.${info.host}`)}</span>
            <span className="sidebar-version">{info.version}</span>
          </div>
        ) : null}
      </aside>

      <main className="pane" aria-labelledby={titleId}>
        <header className="pane-header">
          <h1 id={titleId} className="pane-title" data-testid="section-title">
            {t(`${section}.title`)}
          </h1>
        </header>
        <div className="pane-body">
          {loadError ? (
            <p className="notice notice-error" role="alert">
              {errorText(t, loadError)}
            </p>
          ) : null}
          <SectionView section={section} />
        </div>
      </main>
    </div>
  );
}

function SectionView({ section }: { section: Section }) {
  switch (section) {
    case 'approvals':
      return <ApprovalsView />;
    case 'factors':
      return <FactorsView />;
    case 'audit':
      return <AuditView />;
    case 'settings':
      return <SettingsView />;
    default:
      return assertNever(section);
  }
}
