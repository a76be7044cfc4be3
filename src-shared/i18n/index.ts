import i18next, { type i18n, type TFunction } from 'i18next';
import { messageKey, type ErrorCode, type ErrorDetails } from '../errors';
import en from './en.json';
import tr from './tr.json';

export const LANGUAGES = ['en', 'tr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const catalogs: Record<Language, typeof en> = { en, tr };

/**
 * One i18next instance per caller: main formats error messages with it, the renderer hands it to
 * react-i18next. i18next is plain JavaScript, so src-shared stays free of Node and DOM imports.
 */
export function createI18n(language: Language): i18n {
  const instance = i18next.createInstance();
  void instance.init({
    lng: language,
    fallbackLng: 'en',
    resources: { en: { translation: en }, tr: { translation: tr } },
    initAsync: false,
    // Messages are rendered by React or written to a terminal, never into HTML strings.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}

const translators = new Map<Language, TFunction>();

/**
 * One shared, ready translator per language, for messages built in main (errors, notices, the
 * tray): building an i18next instance costs far more than the message it would format.
 */
export function translator(language: Language): TFunction {
  let t = translators.get(language);
  if (!t) {
    t = createI18n(language).t;
    translators.set(language, t);
  }
  return t;
}

export function errorMessage(t: TFunction, code: ErrorCode, details?: ErrorDetails): string {
  return t(messageKey(code), { field: '', ...details });
}
