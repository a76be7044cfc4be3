import { join } from 'node:path';
import { BrowserWindow, session, type WebContents } from 'electron';
import { RENDERER_CSP } from './content-security-policy';

/**
 * The one window, hardened as the Electron security checklist asks: context isolation (3),
 * sandbox (4), no Node in the renderer, a strict CSP (7), navigation refused (13), new windows
 * refused (14), no openExternal from the page (15), every permission denied (5).
 */
export function createMainWindow(rendererUrl: string | undefined, rendererFile: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1180,
    height: 780,
    minWidth: 860,
    minHeight: 560,
    show: false,
    title: 'Custodian',
    icon: join(__dirname, '../../resources/icon.png'),
    autoHideMenuBar: true,
    webPreferences: {
      preload: join(__dirname, '../preload/electron-preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  harden(window.webContents);
  window.once('ready-to-show', () => window.show());
  if (rendererUrl) void window.loadURL(rendererUrl);
  else void window.loadFile(rendererFile);
  return window;
}

function harden(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Session-wide: the CSP header on every response and no permission for anything. */
export function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
}
