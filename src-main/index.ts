import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, dialog, ipcMain, type BrowserWindow } from 'electron';
import { isAppError } from '../src-shared/errors';
import { createI18n, errorMessage } from '../src-shared/i18n';
import { openCustodian, type Custodian } from './composition';
import { loadConfig } from './config';
import { createMainWindow, hardenSession } from './electron/main-window';
import { electronSqliteBinding } from './electron/native-binding';
import { createTray } from './electron/tray';
import { createElectronNotifier } from './electron/electron-notifier';
import { forwardEvents } from './ipc/events';
import { createAppRouter } from './ipc/app-router';

// Electron lifecycle only: everything else comes from the composition root.
let mainWindow: BrowserWindow | undefined;
let custodian: Custodian | undefined;
let quitting = false;

const rendererUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const rendererFile = join(__dirname, '../renderer/index.html');

function isTrustedUrl(url: URL): boolean {
  if (rendererUrl) return url.origin === new URL(rendererUrl).origin;
  return url.protocol === 'file:' && url.pathname === pathToFileURL(rendererFile).pathname;
}

function showWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function boot(): Promise<void> {
  hardenSession();
  const config = loadConfig();
  const services = openCustodian({
    config,
    nativeBinding: electronSqliteBinding(app.getAppPath()),
    // A click on "restore request from ..." brings the desk forward (issue #5).
    notifier: createElectronNotifier(showWindow),
  });
  custodian = services;
  await services.start();

  const router = createAppRouter(services, 'electron', isTrustedUrl);
  for (const channel of router.channels) {
    ipcMain.handle(channel, (event, payload: unknown) =>
      router.handle(channel, payload, {
        url: event.senderFrame?.url ?? '',
        isMainFrame: event.senderFrame !== null && event.senderFrame === event.sender.mainFrame,
      }),
    );
  }

  mainWindow = createMainWindow(rendererUrl, rendererFile);
  mainWindow.on('close', (event) => {
    // The desk keeps running in the tray so requests still reach the approver.
    if (!quitting) {
      event.preventDefault();
      mainWindow?.hide();
    }
  });
  forwardEvents(services, (event, payload) => mainWindow?.webContents.send(event, payload));
  const tray = createTray(() => mainWindow, { onLock: () => services.lock.lock('manual'), onQuit: () => app.quit() });
  // The tray shows the pending count (issue #5), in the approver's language.
  const showPending = (): void => {
    const t = createI18n(services.settings.get().language).t;
    const count = services.requests.pendingCount();
    tray.setToolTip(count === 0 ? t('tray.idle') : t('tray.pending', { count }));
  };
  services.requests.onChanged(showPending);
  showPending();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  app.on('second-instance', showWindow);
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', () => {
    void custodian?.dispose();
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => event.preventDefault());
  });
  app
    .whenReady()
    .then(boot)
    .catch((error: unknown) => {
      const t = createI18n('en').t;
      const message = isAppError(error) ? errorMessage(t, error.code, error.details) : 'Custodian could not start.';
      dialog.showErrorBox('Custodian', message);
      app.exit(1);
    });
}
