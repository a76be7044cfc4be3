import { join } from 'node:path';
import { app, BrowserWindow, session, type WebContents } from 'electron';
import { RENDERER_CSP } from './content-security-policy';
import { devToolsAllowed, isDevToolsShortcut, mainWindowOptions } from './window-options';

/**
 * The one window, hardened as the Electron security checklist asks: context isolation (3),
 * sandbox (4), no Node in the renderer, a strict CSP (7), navigation refused (13), new windows
 * refused (14), no openExternal from the page (15), every permission denied (5), and no DevTools
 * outside development (issue 9; the options are built and tested in window-options.ts).
 */
export function createMainWindow(rendererUrl: string | undefined, rendererFile: string): BrowserWindow {
  const devTools = devToolsAllowed(app.isPackaged, process.env);
  const window = new BrowserWindow(
    mainWindowOptions(
      { preload: join(__dirname, '../preload/electron-preload.js'), icon: join(__dirname, '../../resources/icon.png') },
      devTools,
    ),
  );
  harden(window.webContents);
  if (!devTools) {
    window.webContents.on('before-input-event', (event, input) => {
      if (isDevToolsShortcut(input)) event.preventDefault();
    });
    // Belt and braces: should anything open them regardless, they close at once.
    window.webContents.on('devtools-opened', () => window.webContents.closeDevTools());
  }
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
