import { join } from 'node:path';
import { Menu, nativeImage, Tray, type BrowserWindow } from 'electron';
import type { TraySummary } from '../services/restore/requests-presenter';

export interface DeskTray {
  show(summary: TraySummary): void;
}

/**
 * The tray icon: shows the window, locks the desk (issue #4: "on demand, tray and a shortcut")
 * and shows the pending count (issue #5) in its tooltip and as the menu's first line, since
 * many Linux trays show no tooltip, and incident mode while it is on (issue 11). What it says
 * comes from `watchTraySummary`.
 */
export function createTray(window: () => BrowserWindow | undefined, actions: { onLock: () => void; onQuit: () => void }): DeskTray {
  const icon = nativeImage.createFromPath(join(__dirname, '../../resources/tray.png'));
  const tray = new Tray(icon.isEmpty() ? nativeImage.createEmpty() : icon);
  const showWindow = (): void => {
    const w = window();
    if (!w) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  };
  tray.on('click', showWindow);
  return {
    show(summary) {
      tray.setToolTip(summary.tooltip);
      tray.setContextMenu(
        Menu.buildFromTemplate([
          ...(summary.incidentLine ? [{ label: summary.incidentLine, click: showWindow }] : []),
          ...(summary.pendingLine ? [{ label: summary.pendingLine, click: showWindow }] : []),
          ...(summary.incidentLine || summary.pendingLine ? [{ type: 'separator' as const }] : []),
          { label: summary.menu.show, click: showWindow },
          { label: summary.menu.lock, click: actions.onLock },
          { type: 'separator' },
          { label: summary.menu.quit, click: actions.onQuit },
        ]),
      );
    },
  };
}
