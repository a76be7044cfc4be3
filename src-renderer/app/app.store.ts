import { create } from 'zustand';
import type { AppInfo, UserSettings } from '../../src-shared/domain/settings';
import type { Language } from '../../src-shared/i18n';
import type { CustodianError } from '../../src-shared/ipc/api';
import { callError } from './session.store';

export const SECTIONS = ['approvals', 'factors', 'policies', 'audit', 'settings'] as const;
export type Section = (typeof SECTIONS)[number];

export type LoadState = 'loading' | 'ready';

interface AppState {
  section: Section;
  loadState: LoadState;
  info: AppInfo | null;
  settings: UserSettings | null;
  /** Why app info or settings could not be read; the window still opens, in English. */
  loadError: CustodianError | null;
  languageError: CustodianError | null;
  /**
   * Main's clock minus this renderer's, so countdowns to main's deadlines use main's time
   * (DESIGN.md "Processes and boundaries"). The one offset of the whole renderer (issue 10):
   * every countdown reads it here.
   */
  clockOffsetMs: number;
  /** The first-run setup (profile, then the first authenticator) in place of the section. */
  setupOpen: boolean;
  setSection(section: Section): void;
  openSetup(): void;
  closeSetup(): void;
  load(): Promise<void>;
  setLanguage(language: Language): Promise<void>;
  applySettings(settings: UserSettings): void;
}

export const useAppStore = create<AppState>()((set, get) => ({
  section: 'approvals',
  loadState: 'loading',
  info: null,
  settings: null,
  loadError: null,
  languageError: null,
  clockOffsetMs: 0,
  setupOpen: false,

  // Choosing a section leaves the setup; what it did so far (a profile) is kept by main.
  setSection: (section) => set({ section, setupOpen: false }),
  openSetup: () => set({ setupOpen: true }),
  closeSetup: () => set({ setupOpen: false }),

  load: async () => {
    // allSettled: a failing info call must not keep the saved language from applying.
    // The info call's own round trip bounds the offset's error (half of it): timed alone, not
    // until the settings call answers too (on a loaded machine that put countdowns a second out).
    const before = Date.now();
    let after = before;
    const [info, settings] = await Promise.allSettled([
      window.custodian.app.info().finally(() => {
        after = Date.now();
      }),
      window.custodian.settings.get(),
    ]);
    const failed = [info, settings].find((result) => result.status === 'rejected');
    set((state) => ({
      loadState: 'ready',
      info: info.status === 'fulfilled' ? info.value : state.info,
      clockOffsetMs: info.status === 'fulfilled' ? mainClockOffset(info.value.now, before, after) : state.clockOffsetMs,
      // A settings:changed event may already have delivered something newer than this read.
      settings: state.settings ?? (settings.status === 'fulfilled' ? settings.value : null),
      loadError: failed ? callError(failed.reason) : null,
    }));
  },

  setLanguage: async (language) => {
    const previous = get().settings;
    // Optimistic, so the select and the text follow the choice at once; main persists it.
    set({ settings: previous ? { ...previous, language } : null, languageError: null });
    try {
      get().applySettings(await window.custodian.settings.setLanguage(language));
    } catch (error) {
      set({ settings: previous, languageError: callError(error) });
    }
  },

  applySettings: (settings) => set({ settings }),
}));

export function selectLanguage(state: AppState): Language {
  return state.settings?.language ?? 'en';
}

/** The saved language, or null before settings:get answered (the lock screen then uses lock:status's). */
export function selectSavedLanguage(state: AppState): Language | null {
  return state.settings?.language ?? null;
}

/**
 * Main's clock minus this renderer's, from an app:info answer: main read its clock somewhere in
 * the round trip, taken to be its midpoint, so the error is at most half the round trip.
 */
export function mainClockOffset(mainNow: number, sentAt: number, answeredAt: number): number {
  return mainNow - (sentAt + answeredAt) / 2;
}

/** A deadline in main's time (an ISO string from main) on this renderer's clock, in ms; null when none. */
export function useLocalDeadline(mainIso: string | null | undefined): number | null {
  const offset = useAppStore((state) => state.clockOffsetMs);
  if (!mainIso) return null;
  const at = Date.parse(mainIso);
  return Number.isFinite(at) ? at - offset : null;
}
