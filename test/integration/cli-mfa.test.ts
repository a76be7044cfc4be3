import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oathtool } from '../fixtures/otp';
import { runCli, spawnCli } from '../fixtures/run-cli';
import { sqlite } from '../fixtures/sqlite-cli';

// The terminal twins of the Factors screen, run as a separate process against a fresh data dir.
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-cli-mfa-'));
  env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_KEYCHAIN_SERVICE: `custodian-test-${dir.slice(-6)}` };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function enroll(extra: string[] = []): { id: string; uri: string; secretMasked: string; secret: string } {
  const run = runCli(['factors', 'enroll', '--label', 'Phone', '--json', ...extra], env);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const out = JSON.parse(run.stdout) as { id: string; uri: string; secretMasked: string };
  return { ...out, secret: new URL(out.uri).searchParams.get('secret') ?? '' };
}

describe('custodian profile and factors', () => {
  it('enrolls from a shell: profile, QR file, confirm with a code, list', () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'operator'], env).status).toBe(0);
    const qr = join(dir, 'qr.png');
    const e = enroll(['--qr-out', qr, '--digits', '8', '--algorithm', 'SHA256']);
    expect(Object.keys(e).sort()).toEqual(['id', 'secret', 'secretMasked', 'uri']);
    expect(execFileSync('zbarimg', ['--raw', '-q', qr], { encoding: 'utf8' }).trim()).toBe(e.uri);

    const confirm = runCli(['factors', 'confirm', e.id, oathtool(e.secret, Date.now(), { digits: 8, algorithm: 'SHA256' })], env);
    expect(confirm.status).toBe(0);
    const codes = confirm.stdout.match(/^ {2}[A-Z2-9]{4}-[A-Z2-9]{4}$/gm) ?? [];
    expect(codes).toHaveLength(10);

    const list = JSON.parse(runCli(['factors', 'list', '--json'], env).stdout) as { factors: { id: string; state: string; digits: number }[]; backupCodes: { remaining: number } };
    expect(list.factors).toMatchObject([{ id: e.id, state: 'active', digits: 8 }]);
    expect(list.backupCodes.remaining).toBe(10);

    // A second factor needs a code once MFA is on.
    expect(runCli(['factors', 'enroll', '--label', 'Token'], env).stderr).toContain('Multi-factor verification is required.');
    expect(runCli(['verify', codes[0]!.trim()], env)).toMatchObject({ status: 0, stdout: 'valid (backup code, now used up)\n' });
    expect(runCli(['verify', codes[0]!.trim()], env)).toMatchObject({ status: 1, stderr: 'custodian: The code is invalid.\n' });

    // Issue 9: a backup code no longer disables a factor; a current authenticator code does.
    expect(runCli(['factors', 'disable', e.id, codes[1]!.trim()], env)).toMatchObject({ status: 1, stderr: 'custodian: The code is invalid.\n' });
    const disabled = runCli(['factors', 'disable', e.id, oathtool(e.secret, Date.now() + 30_000, { digits: 8, algorithm: 'SHA256' })], env);
    expect(disabled.stdout).toContain('disabled and its secret deleted');
    expect(JSON.parse(runCli(['factors', 'list', '--json'], env).stdout)).toMatchObject({ factors: [], backupCodes: { remaining: 0 } });
  });

  it('refuses bad arguments with a usage error naming them', () => {
    expect(runCli(['profile', 'init', '--name', 'A', '--principal', 'no spaces@corp', '--role', 'admin'], env)).toMatchObject({
      status: 2,
      stderr: 'custodian: The request is not valid: --principal.\n',
    });
    expect(runCli(['profile', 'init', '--name', 'A', '--principal', 'a@corp', '--role', 'root'], env).status).toBe(2);
    expect(runCli(['factors', 'enroll', '--label', 'x', '--digits', '7'], env).status).toBe(2);
    expect(runCli(['factors', 'confirm', 'f_nope', '123456'], env)).toMatchObject({ status: 2 });
    expect(runCli(['factors', 'enroll', '--label', 'Phone'], env)).toMatchObject({ status: 1, stderr: 'custodian: Set up the approver profile first.\n' });
  });
});

describe('the rate limit across processes (issue 9, item 3)', () => {
  it('lets at most five of 40 parallel `custodian verify` processes check a code, and counts exactly those', async () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'admin'], env).status).toBe(0);
    const e = enroll();
    expect(runCli(['factors', 'confirm', e.id, oathtool(e.secret, Date.now())], env).status).toBe(0);
    // Certainly wrong anywhere near now (the ±1 window, and the step a slow run may reach).
    const near = [-60_000, -30_000, 0, 30_000, 60_000, 90_000].map((d) => oathtool(e.secret, Date.now() + d));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !near.includes(c))!;
    // A profile blocked before (seven lockouts, in this window): the block the fifth failure
    // brings lasts an hour, not 30 s, so a child that the machine's load starts late still
    // finds it in force. Without this the test would hang on how fast 40 processes start.
    const db = join(dir, 'custodian.db');
    const profileId = sqlite(db, 'SELECT id FROM profiles').trim();
    sqlite(db, `INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES ('${profileId}', ${Date.now()}, 0, 7, 0)`);

    const runs = await Promise.all(Array.from({ length: 40 }, () => spawnCli(['verify', wrong], env).done));
    const invalid = runs.filter((r) => r.stderr === 'custodian: The code is invalid.\n');
    const limited = runs.filter((r) => /^custodian: Too many attempts\. Try again in \d+ s\.\n$/.test(r.stderr));
    expect(invalid.length + limited.length).toBe(40);
    expect(invalid.length).toBeGreaterThanOrEqual(1);
    expect(invalid.length).toBeLessThanOrEqual(5);
    for (const r of runs) expect(r.status).toBe(1);
    // The stored count is exactly the attempts that were checked: none lost, none invented.
    const stored = sqlite(db, 'SELECT failures FROM mfa_attempts').trim();
    expect(Number(stored)).toBe(invalid.length);
  }, 180_000);
});

describe('a leaked backup code in a shell (issue 9, item 4)', () => {
  it('adds only a recovery factor, which can neither regenerate the codes nor disable the owner’s factor; the owner stops it', () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'admin'], env).status).toBe(0);
    const owner = enroll();
    expect(decodeURIComponent(new URL(owner.uri).pathname)).toBe('/Custodian:alice@corp (Phone)');
    const confirm = runCli(['factors', 'confirm', owner.id, oathtool(owner.secret, Date.now())], env);
    const codes = (confirm.stdout.match(/^ {2}[A-Z2-9]{4}-[A-Z2-9]{4}$/gm) ?? []).map((c) => c.trim());
    expect(codes).toHaveLength(10);

    // Mallory has one backup code and her own authenticator.
    const run = runCli(['factors', 'enroll', '--label', 'Mallory', '--json', '--code', codes[0]!], env);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const mallory = JSON.parse(run.stdout) as { id: string; uri: string; secretMasked: string };
    const secret = new URL(mallory.uri).searchParams.get('secret') ?? '';
    const confirmed = runCli(['factors', 'confirm', mallory.id, oathtool(secret, Date.now())], env);
    expect(confirmed.status).toBe(0);
    expect(confirmed.stdout).toContain('it was added with a backup code: until ');
    const next = (s: string) => oathtool(s, Date.now() + 30_000);

    const regenerate = runCli(['backup-codes', 'regenerate', next(secret)], env);
    expect(regenerate.status).toBe(1);
    expect(regenerate.stderr).toMatch(/^custodian: This authenticator was added with a backup code\. Until .+ it cannot disable other factors, replace the backup codes or change the role\.\n$/);
    expect(runCli(['factors', 'disable', owner.id, next(secret)], env)).toMatchObject({ status: 1, stderr: regenerate.stderr });
    expect(runCli(['factors', 'disable', owner.id, codes[1]!], env)).toMatchObject({ status: 1, stderr: 'custodian: The code is invalid.\n' });
    const listed = JSON.parse(runCli(['factors', 'list', '--json'], env).stdout) as { factors: { id: string; state: string; recovery: boolean }[]; backupCodes: { remaining: number } };
    expect(listed.factors).toMatchObject([
      { id: owner.id, state: 'active', recovery: false },
      { id: mallory.id, state: 'active', recovery: true },
    ]);
    expect(listed.backupCodes.remaining).toBe(9);

    // The owner stops the recovery with the phone.
    const stopped = runCli(['factors', 'disable', mallory.id, next(owner.secret)], env);
    expect(stopped).toMatchObject({ status: 0 });
    expect(JSON.parse(runCli(['factors', 'list', '--json'], env).stdout)).toMatchObject({ factors: [{ id: owner.id, state: 'active' }] });
    const audit = runCli(['audit', 'export'], env).stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(audit.map((a) => a.event)).toEqual(expect.arrayContaining(['mfa_recovery_refused', 'mfa_recovery_cancelled']));
  });
});
