import { describe, expect, it } from 'vitest';
import { devToolsAllowed, isDevToolsShortcut, mainWindowOptions } from '../../src-main/electron/window-options';

const paths = { preload: '/app/out/preload/electron-preload.js', icon: '/app/resources/icon.png' };

describe('the Electron window’s options (issue 9)', () => {
  it('allow DevTools only in an unpackaged build run with CUSTODIAN_DEV=1', () => {
    expect(devToolsAllowed(false, { CUSTODIAN_DEV: '1' })).toBe(true);
    expect(devToolsAllowed(false, {})).toBe(false);
    expect(devToolsAllowed(false, { CUSTODIAN_DEV: 'true' })).toBe(false);
    expect(devToolsAllowed(true, { CUSTODIAN_DEV: '1' })).toBe(false);
  });

  it('turn DevTools off in the window unless allowed, and keep the renderer isolated and sandboxed', () => {
    expect(mainWindowOptions(paths, false).webPreferences).toEqual({
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
      devTools: false,
    });
    expect(mainWindowOptions(paths, devToolsAllowed(true, { CUSTODIAN_DEV: '1' })).webPreferences?.devTools).toBe(false);
    expect(mainWindowOptions(paths, true).webPreferences?.devTools).toBe(true);
  });

  it('recognise the DevTools shortcuts, and nothing else', () => {
    const key = (k: string, mods: Partial<{ control: boolean; meta: boolean; shift: boolean; alt: boolean }> = {}) => ({
      type: 'keyDown',
      key: k,
      control: false,
      meta: false,
      shift: false,
      alt: false,
      ...mods,
    });
    for (const input of [key('F12'), key('I', { control: true, shift: true }), key('J', { control: true, shift: true }), key('C', { control: true, shift: true }), key('i', { meta: true, alt: true })]) {
      expect(isDevToolsShortcut(input), JSON.stringify(input)).toBe(true);
    }
    for (const input of [key('c', { control: true }), key('i'), key('I', { shift: true }), key('l', { control: true }), { ...key('F12'), type: 'keyUp' }]) {
      expect(isDevToolsShortcut(input), JSON.stringify(input)).toBe(false);
    }
  });
});
