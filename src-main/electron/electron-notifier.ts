import { Notification } from 'electron';
import type { Notifier } from '../platform/notifier';

export function createElectronNotifier(onClick: () => void): Notifier {
  return {
    notify({ title, body }) {
      if (!Notification.isSupported()) return;
      const notification = new Notification({ title, body, silent: false });
      notification.on('click', onClick);
      notification.show();
    },
  };
}
