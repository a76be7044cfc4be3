import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, dialog, ipcMain, type BrowserWindow } from 'electron';
import { isAppError } from '../src-shared/errors';
import { errorMessage, translator } from '../src-shared/i18n';
import { openCustodian, type Custodian } from './composition';
import { loadConfig } from './config';
import { createMainWindow, hardenSession } from './electron/main-window';
import { electronSqliteBinding } from './electron/native-binding';
import { devRendererUrl } from './electron/window-options';
import { createTray } from './electron/tray';
import { watchTraySummary } from './services/restore/requests-presenter';
import { createElectronNotifier } from './electron/electron-notifier';
import { forwardEvents } from './ipc/events';
import { createAppRouter } from './ipc/app-router';

// Electron lifecycle only: everything else comes from the composition root.
let mainWindow: BrowserWindow | undefined;
let custodian: Custodian | undefined;
let quitting = false;

const rendererUrl = devRendererUrl(app.isPackaged, process.env);
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
  watchTraySummary(services, (summary) => tray.show(summary));
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
      const t = translator('en');
      const message = isAppError(error) ? errorMessage(t, error.code, error.details) : 'Custodian could not start.';
      dialog.showErrorBox('Custodian', message);
      app.exit(1);
    });
}
