/** Desktop notifications behind a port (STYLE.md rule 6): Electron's in the app, none elsewhere. */
export interface Notifier {
  notify(notice: { title: string; body: string }): void;
}

export const silentNotifier: Notifier = { notify: () => undefined };
