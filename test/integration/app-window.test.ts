import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppWindow } from '../../src-main/host/app-window';
import { serveRenderer } from '../../src-main/host/static-server';
import { http } from '../fixtures/gateway-client';
import { APP_WINDOW } from '../../src-main/host/chromium-flags';
import { tempCustodian } from '../fixtures/temp-custodian';

const outDir = join(__dirname, '..', '..', 'out');
let xvfb: ChildProcess;
let display: string;

// A real X display (Xvfb, no window manager), so Chromium opens a real window: what `npm start`
// shows is measured, not assumed.
beforeAll(async () => {
  xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  display = await new Promise<string>((resolve, reject) => {
    let text = '';
    xvfb.stdio[3]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
});
afterAll(() => {
  if (xvfb.pid) process.kill(xvfb.pid);
});

describe('npm start without Electron', () => {
  it('opens one app window: no tabs, no address bar, no infobar, the app already wired to main', async () => {
    const t = tempCustodian();
    const app = await openAppWindow({ custodian: t.custodian, outDir, headless: false, env: { ...process.env, DISPLAY: display } });
    try {
      const { page } = app;
      await page.getByTestId('section-title').waitFor();
      expect(await page.getByTestId('section-title').textContent()).toBe('Approvals');
      expect(app.context.pages()).toHaveLength(1);
      const shape = await page.evaluate(() => ({
        // The browser's own rows (tabs, address bar, infobars) are what lies between the
        // window's outer and inner height; with no window manager, an app window has none.
        chrome: window.outerHeight - window.innerHeight,
        width: window.outerWidth,
        height: window.outerHeight,
        api: typeof window.custodian,
      }));
      expect(shape).toEqual({ chrome: 0, width: APP_WINDOW.width, height: APP_WINDOW.height, api: 'object' });
    } finally {
      await app.close();
      await t.remove();
    }
  });
});

describe('the renderer server', () => {
  it('answers a malformed escape with 400 and keeps serving', async () => {
    const server = await serveRenderer(join(outDir, 'renderer'));
    try {
      const port = Number(new URL(server.origin).port);
      expect((await http({ port, path: '/%E0%A4%A' })).status).toBe(400);
      const index = await http({ port, path: '/' });
      expect(index.status).toBe(200);
      expect(index.text).toContain('<div id="root">');
    } finally {
      await server.close();
    }
  });

  it('serves a placeholder with no script until the host is ready, then the app', async () => {
    let ready: () => void = () => undefined;
    const server = await serveRenderer(join(outDir, 'renderer'), { placeholderUntil: new Promise<void>((resolve) => (ready = resolve)) });
    try {
      const port = Number(new URL(server.origin).port);
      const early = await http({ port, path: '/' });
      expect(early.status).toBe(200);
      expect(early.text).not.toContain('<script');
      expect(early.headers['content-security-policy']).toBeDefined();
      ready();
      await Promise.resolve();
      expect((await http({ port, path: '/' })).text).toContain('<script');
    } finally {
      await server.close();
    }
  });
});
