import type { BrowserWindowConstructorOptions, Input } from 'electron';

// Pure: no Electron at run time, so the options the window gets are unit-tested without a binary.

/**
 * DevTools only for a developer who asks for them (issue 9): in an unpackaged build run with
 * `CUSTODIAN_DEV=1`. Anywhere else they would hand whoever sits at the unlocked desk a console
 * inside the renderer, past every check the window makes.
 */
export function devToolsAllowed(isPackaged: boolean, env: NodeJS.ProcessEnv): boolean {
  return !isPackaged && env.CUSTODIAN_DEV === '1';
}

/**
 * The dev server's address (electron-vite sets `ELECTRON_RENDERER_URL` under `electron-vite dev`),
 * honoured only where it cannot hand the window, its preload API and the IPC sender check to
 * someone else (issue 13, item 6): never in a packaged build, whatever the environment says, and
 * only for http on a loopback address, so a variable planted in a user's session or a launcher
 * cannot point the desk at a remote page. Anything else loads the bundled renderer file.
 */
export function devRendererUrl(isPackaged: boolean, env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.ELECTRON_RENDERER_URL;
  if (isPackaged || !raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  // No credentials either: `http://127.0.0.1@evil.example/` parses with host evil.example anyway,
  // but a userinfo part has no business in a dev server's address.
  if (url.protocol !== 'http:' || url.username !== '' || url.password !== '') return undefined;
  return LOOPBACK_HOSTS.has(url.hostname) ? url.href : undefined;
}

// The WHATWG parser normalises `127.1` and `0x7f.0.0.1` to 127.0.0.1 and brackets IPv6.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The one window, hardened as the Electron security checklist asks: context isolation (3),
 * sandbox (4), no Node in the renderer, and no DevTools outside development.
 */
export function mainWindowOptions(paths: { preload: string; icon: string }, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1180,
    height: 780,
    minWidth: 860,
    minHeight: 560,
    show: false,
    title: 'Custodian',
    icon: paths.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
      devTools,
    },
  };
}

/**
 * The keys Chromium and Electron's default menu bind to DevTools: F12, and Ctrl+Shift+I, J or C
 * (Cmd+Alt+I, J or C on macOS). With `devTools: false` they open nothing; the window swallows
 * them as well, so no future menu or accelerator can bring DevTools back by accident.
 */
export function isDevToolsShortcut(input: Pick<Input, 'type' | 'key' | 'control' | 'meta' | 'shift' | 'alt'>): boolean {
  if (input.type !== 'keyDown') return false;
  const key = input.key.toLowerCase();
  if (key === 'f12') return true;
  if (!['i', 'j', 'c'].includes(key)) return false;
  return (input.control && input.shift) || (input.meta && input.alt);
}
