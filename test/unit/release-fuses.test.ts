import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseFuses } from '../../scripts/package-fuses.mjs';

// No Electron binary exists here, so the script runs against a file laid out as Electron's fuse
// wire is (the sentinel, a version byte, a length byte, one ASCII '0' or '1' per fuse), between
// random bytes, with the default states Electron documents. @electron/fuses finds it exactly as
// it finds it in the real binary; what this cannot show is Electron honouring the bits.
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ELECTRON_DEFAULTS = '101100011'; // RunAsNode, cookie encryption, NODE_OPTIONS, inspect, ... in enum order
const script = join(__dirname, '../../scripts/package-fuses.mjs');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeElectron(wire: string): { file: string; before: Buffer; wireAt: number } {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-fuses-'));
  dirs.push(dir);
  const head = randomBytes(4096);
  const header = Buffer.concat([Buffer.from(SENTINEL), Buffer.from([1, wire.length])]);
  const before = Buffer.concat([head, header, Buffer.from(wire, 'ascii'), randomBytes(4096)]);
  const file = join(dir, 'electron');
  writeFileSync(file, before);
  return { file, before, wireAt: head.length + header.length };
}

function packageFuses(file: string) {
  return spawnSync(process.execPath, [script, file], { encoding: 'utf8' });
}

describe('the release build’s Electron fuses (issue 13)', () => {
  it('name every fuse Electron has, and close the ways into the main process', () => {
    const named = Object.values(FuseV1Options).filter((value): value is FuseV1Options => typeof value === 'number');
    for (const option of named) expect(typeof releaseFuses[option], FuseV1Options[option]).toBe('boolean');
    expect(releaseFuses.strictlyRequireAllFuses).toBe(true);
    expect(releaseFuses[FuseV1Options.RunAsNode]).toBe(false);
    expect(releaseFuses[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(releaseFuses[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(releaseFuses[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(releaseFuses[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(releaseFuses[FuseV1Options.EnableCookieEncryption]).toBe(true);
  });

  it('flip exactly those fuses in the binary, and nothing else in it', async () => {
    const { file, before, wireAt } = fakeElectron(ELECTRON_DEFAULTS);
    const run = packageFuses(file);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const wire = await getCurrentFuseWire(file);
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(FuseState.ENABLE);

    const after = readFileSync(file);
    expect(after.length).toBe(before.length);
    expect(after.subarray(0, wireAt).equals(before.subarray(0, wireAt))).toBe(true);
    const wireEnd = wireAt + ELECTRON_DEFAULTS.length;
    expect(after.subarray(wireEnd).equals(before.subarray(wireEnd))).toBe(true);
  });

  it('refuse an Electron with a fuse the configuration does not decide, and leave it untouched', () => {
    const { file, before } = fakeElectron(`${ELECTRON_DEFAULTS}1`);
    const run = packageFuses(file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/strictlyRequireAllFuses/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('fail on a file that is no Electron binary', () => {
    const { file } = fakeElectron(ELECTRON_DEFAULTS);
    writeFileSync(file, randomBytes(8192));
    const run = packageFuses(file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/sentinel/);
  });
});
