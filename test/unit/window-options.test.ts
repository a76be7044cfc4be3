import { describe, expect, it } from 'vitest';
import { devRendererUrl, devToolsAllowed, isDevToolsShortcut, mainWindowOptions } from '../../src-main/electron/window-options';

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

  it('load the dev server’s page only in an unpackaged build and only from loopback http (issue 13)', () => {
    const url = (value: string, packaged = false) => devRendererUrl(packaged, { ELECTRON_RENDERER_URL: value });
    expect(url('http://localhost:5173')).toBe('http://localhost:5173/');
    expect(url('http://127.0.0.1:5173/')).toBe('http://127.0.0.1:5173/');
    expect(url('http://[::1]:5173/')).toBe('http://[::1]:5173/');
    expect(url('http://127.1:5173/')).toBe('http://127.0.0.1:5173/');
    // A packaged build ignores the variable altogether: it loads its own file.
    expect(url('http://localhost:5173', true)).toBeUndefined();
    expect(devRendererUrl(false, {})).toBeUndefined();
    for (const bad of [
      'https://evil.example/',
      'http://evil.example:5173/',
      'http://127.0.0.1.evil.example/',
      'http://localhost.evil.example/',
      'http://127.0.0.1@evil.example/',
      'http://user:pw@localhost:5173/',
      'http://10.0.0.5:5173/',
      'file:///tmp/evil.html',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'not a url',
      '',
    ]) {
      expect(url(bad), bad).toBeUndefined();
    }
  });
});
