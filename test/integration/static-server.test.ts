import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveRenderer, type StaticServer } from '../../src-main/host/static-server';

// The Chromium host's renderer server (issue 9, item 6): a hostile path must not take it down.
let root: string;
let server: StaticServer;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'custodian-static-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Custodian</title>');
  server = await serveRenderer(root);
});
afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** Raw bytes, so the path reaches the server exactly as curl sends it. */
function raw(path: string): Promise<string> {
  const { port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  });
}

describe('the Chromium host’s renderer server', () => {
  it('answers 400 to a path that is not valid percent-encoding, and keeps serving', async () => {
    expect(await raw('/%E0%A4%A')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('/%')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('/')).toMatch(/^HTTP\/1\.1 200 [\s\S]*<title>Custodian<\/title>/);
  });

  it('serves nothing outside its root', async () => {
    expect(await raw('/..%2f..%2fetc%2fpasswd')).toMatch(/^HTTP\/1\.1 404 /);
  });
});
