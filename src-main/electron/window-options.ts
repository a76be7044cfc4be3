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
