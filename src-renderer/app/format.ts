import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

export interface DateFormats {
  /** Date and time, for when something happened. */
  dateTime(iso: string): string;
  /** Date only, for expiry dates. */
  date(iso: string): string;
  time(iso: string): string;
}

function formatWith(format: Intl.DateTimeFormat, iso: string): string {
  const date = new Date(iso);
  // The stored text rather than "Invalid Date" if main ever sends something else.
  return Number.isNaN(date.getTime()) ? iso : format.format(date);
}

/** Formats that follow the window's language, rebuilt only when it changes. */
export function useDateFormats(): DateFormats {
  const { i18n } = useTranslation();
  return useMemo(() => {
    const dateTime = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
    const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'long' });
    const time = new Intl.DateTimeFormat(i18n.language, { timeStyle: 'short' });
    return {
      dateTime: (iso) => formatWith(dateTime, iso),
      date: (iso) => formatWith(date, iso),
      time: (iso) => formatWith(time, iso),
    };
  }, [i18n.language]);
}
