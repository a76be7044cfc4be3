import { join } from 'node:path';
import { Menu, nativeImage, Tray, type BrowserWindow } from 'electron';

/** The tray icon: shows the window and, in its tooltip, the pending count (issue #5). */
export function createTray(window: () => BrowserWindow | undefined, onQuit: () => void): Tray {
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
      { type: 'separator' },
      { label: 'Quit', click: onQuit },
    ]),
  );
  tray.on('click', show);
  return tray;
}
