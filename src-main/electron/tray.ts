import { join } from 'node:path';
import { Menu, nativeImage, Tray, type BrowserWindow } from 'electron';

/**
 * The tray icon: shows the window, locks the desk (issue #4: "on demand, tray and a shortcut")
 * and, in its tooltip, the pending count (issue #5).
 */
export function createTray(window: () => BrowserWindow | undefined, actions: { onLock: () => void; onQuit: () => void }): Tray {
  const icon = nativeImage.createFromPath(join(__dirname, '../../resources/tray.png'));
  const tray = new Tray(icon.isEmpty() ? nativeImage.createEmpty() : icon);
  tray.setToolTip('Custodian');
  const show = (): void => {
    const w = window();
    if (!w) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  };
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Custodian', click: show },
      { label: 'Lock now', click: actions.onLock },
      { type: 'separator' },
      { label: 'Quit', click: actions.onQuit },
    ]),
  );
  tray.on('click', show);
  return tray;
}
