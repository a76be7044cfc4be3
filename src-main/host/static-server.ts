import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { RENDERER_CSP } from '../electron/content-security-policy';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The file a URL asks for, relative to the root; null when its path is not valid percent-encoding. */
function relativePath(rawUrl: string | undefined): string | null {
  try {
    const url = new URL(rawUrl ?? '/', 'http://127.0.0.1');
    return url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
  } catch {
    return null;
  }
}

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /**
   * Until this settles every page is an empty placeholder: `npm start` opens Chromium on the
   * app's URL before the preload bindings exist, and the app must not run without them. (Holding
   * the answer back instead would deadlock: Playwright's launch waits for that first answer.)
   */
  placeholderUntil?: Promise<void>;
}

// Same origin and CSP as the app, no script; `color-scheme` keeps a dark desktop from flashing white.
const PLACEHOLDER = '<!doctype html><html lang="en"><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>Custodian</title></html>';

/**
 * Serves the built renderer on loopback for the Chromium host, with the same CSP header the
 * Electron window sends. Only files under `root`; anything else is a 404.
 */
export async function serveRenderer(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const base = normalize(root);
  let placeholder = options.placeholderUntil !== undefined;
  void options.placeholderUntil?.finally(() => (placeholder = false));
  const server: Server = createServer((req, res) => {
    if (placeholder) {
      res.writeHead(200, { 'content-type': TYPES['.html'], 'content-security-policy': RENDERER_CSP, 'cache-control': 'no-store' }).end(PLACEHOLDER);
      return;
    }
    // Whatever a request holds, it is answered and never takes the host down with it.
    try {
      answer(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad request');
    }
  });
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    // Issue 9: `/%E0%A4%A` made decodeURIComponent throw, and the uncaught URIError took the whole
    // host down, its gateway with it.
    const rel = relativePath(req.url);
    if (rel === null) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const file = normalize(join(base, rel));
    let ok = false;
    try {
      ok = (file === base || file.startsWith(base + sep)) && statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (req.method !== 'GET' || !ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': RENDERER_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    // A file removed between the stat and the read ends this answer, not the process.
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Chromium keeps connections alive; close() alone would wait for them indefinitely.
        server.closeAllConnections();
      }),
  };
}
