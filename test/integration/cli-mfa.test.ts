import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oathtool } from '../fixtures/otp';
import { CLI, runCli, spawnCli } from '../fixtures/run-cli';
import { sqlite } from '../fixtures/sqlite-cli';
import { tempCustodian } from '../fixtures/temp-custodian';

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

    const confirm = runCli(['factors', 'confirm', e.id], env, `${oathtool(e.secret, Date.now(), { digits: 8, algorithm: 'SHA256' })}\n`);
    expect(confirm.status).toBe(0);
    const codes = confirm.stdout.match(/^ {2}[A-Z2-9]{4}-[A-Z2-9]{4}$/gm) ?? [];
    expect(codes).toHaveLength(10);

    const list = JSON.parse(runCli(['factors', 'list', '--json'], env).stdout) as { factors: { id: string; state: string; digits: number }[]; backupCodes: { remaining: number } };
    expect(list.factors).toMatchObject([{ id: e.id, state: 'active', digits: 8 }]);
    expect(list.backupCodes.remaining).toBe(10);

    // A second factor needs a step-up chain once MFA is on: nothing on stdin passes none.
    const refused = runCli(['factors', 'enroll', '--label', 'Token'], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('this change takes a step-up chain at the critical policy');
    expect(JSON.parse(runCli(['factors', 'list', '--json'], env).stdout)).toMatchObject({ factors: [{ id: e.id }] });
    expect(runCli(['verify'], env, `${codes[0]!.trim()}\n`)).toMatchObject({ status: 0, stdout: 'valid (backup code, now used up)\n' });
    expect(runCli(['verify'], env, `${codes[0]!.trim()}\n`)).toMatchObject({ status: 1, stderr: 'custodian: The code is invalid.\n' });

    // Issue 9: a backup code no longer disables a factor (in a one-step chain it may not stand
    // in); the chain passed with a current authenticator code does.
    const byBackup = runCli(['factors', 'disable', e.id], env, `${codes[1]!.trim()}\n`);
    expect(byBackup.status).toBe(1);
    expect(byBackup.stderr).toContain('custodian: step 1 (Phone): The code is invalid.\n');
    const disabled = runCli(['factors', 'disable', e.id], env, `${oathtool(e.secret, Date.now() + 30_000, { digits: 8, algorithm: 'SHA256' })}\n`);
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
    expect(runCli(['factors', 'confirm', 'f_nope'], env, '123456\n')).toMatchObject({ status: 2 });
    expect(runCli(['factors', 'enroll', '--label', 'Phone'], env)).toMatchObject({ status: 1, stderr: 'custodian: Set up the approver profile first.\n' });
  });
});

describe('the rate limit across processes (issue 9, item 3)', () => {
  it('lets at most five of 40 parallel `custodian verify` processes check a code, and counts exactly those', async () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'admin'], env).status).toBe(0);
    const e = enroll();
    expect(runCli(['factors', 'confirm', e.id], env, `${oathtool(e.secret, Date.now())}\n`).status).toBe(0);
    // Certainly wrong anywhere near now (the ±1 window, and the step a slow run may reach).
    const near = [-60_000, -30_000, 0, 30_000, 60_000, 90_000].map((d) => oathtool(e.secret, Date.now() + d));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !near.includes(c))!;
    // A profile blocked before (seven lockouts, in this window): the block the fifth failure
    // brings lasts an hour, not 30 s, so a child that the machine's load starts late still
    // finds it in force. Without this the test would hang on how fast 40 processes start.
    // Written through the app's own connection: the attempt rows are sealed (issue 13), and one
    // written with the sqlite3 tool would be refused as tampered.
    const db = join(dir, 'custodian.db');
    const profileId = sqlite(db, 'SELECT id FROM profiles').trim();
    const app = tempCustodian({ dir, clock: 'following' });
    await app.custodian.integrity.ready();
    app.custodian.db
      .prepare('INSERT INTO mfa_attempts (key, window_start, failures, lockouts, blocked_until) VALUES (?, ?, 0, 7, 0)')
      .run(profileId, Date.now());
    await app.close();

    const runs = await Promise.all(Array.from({ length: 40 }, () => spawnCli(['verify'], env, `${wrong}\n`).done));
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
  it('adds only a recovery factor, which takes no step in managing factors; the owner stops it', () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'admin'], env).status).toBe(0);
    const owner = enroll();
    expect(decodeURIComponent(new URL(owner.uri).pathname)).toBe('/Custodian:alice@corp (Phone)');
    const confirm = runCli(['factors', 'confirm', owner.id], env, `${oathtool(owner.secret, Date.now())}\n`);
    const codes = (confirm.stdout.match(/^ {2}[A-Z2-9]{4}-[A-Z2-9]{4}$/gm) ?? []).map((c) => c.trim());
    expect(codes).toHaveLength(10);

    // Mallory has one backup code and her own authenticator: the code stands in for the owner's phone.
    const run = runCli(['factors', 'enroll', '--label', 'Mallory', '--json'], env, `${codes[0]!}\n`);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('  1. Phone (totp, 6 digits)\n');
    const mallory = JSON.parse(run.stdout) as { id: string; uri: string; secretMasked: string };
    const secret = new URL(mallory.uri).searchParams.get('secret') ?? '';
    const confirmed = runCli(['factors', 'confirm', mallory.id], env, `${oathtool(secret, Date.now())}\n`);
    expect(confirmed.status).toBe(0);
    expect(confirmed.stdout).toContain('it was added with a backup code: until ');
    const next = (s: string) => oathtool(s, Date.now() + 30_000);

    // Her factor is not drawn: the chain asks for the owner's phone, and her code there is a breach.
    const regenerate = runCli(['backup-codes', 'regenerate'], env, `${next(secret)}\n`);
    expect(regenerate.status).toBe(1);
    expect(regenerate.stderr).toContain('(random order, 1 step), ');
    expect(regenerate.stderr).not.toContain('Mallory');
    expect(regenerate.stderr).toContain('custodian: step 1 (Phone): The code is invalid.\n');
    // No backup code may stand in either; the owner's phone is kept by the policy anyway.
    expect(runCli(['backup-codes', 'regenerate'], env, `${codes[1]!}\n`).status).toBe(1);
    expect(runCli(['factors', 'disable', owner.id], env, `${next(secret)}\n`)).toMatchObject({ status: 1, stderr: expect.stringContaining('policy') });
    const listed = JSON.parse(runCli(['factors', 'list', '--json'], env).stdout) as { factors: { id: string; state: string; recovery: boolean }[]; backupCodes: { remaining: number } };
    expect(listed.factors).toMatchObject([
      { id: owner.id, state: 'active', recovery: false },
      { id: mallory.id, state: 'active', recovery: true },
    ]);
    // The refused backup code was not looked at.
    expect(listed.backupCodes.remaining).toBe(9);

    // The owner stops the recovery with the phone.
    const stopped = runCli(['factors', 'disable', mallory.id], env, `${next(owner.secret)}\n`);
    expect(stopped).toMatchObject({ status: 0 });
    expect(JSON.parse(runCli(['factors', 'list', '--json'], env).stdout)).toMatchObject({ factors: [{ id: owner.id, state: 'active' }] });
    const audit = runCli(['audit', 'export'], env).stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(audit.map((a) => a.event)).toEqual(expect.arrayContaining(['mfa_chain_step_failed', 'mfa_recovery_cancelled']));
  });
});

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a shell does: answers
 * the first time `waitFor` shows up in what the terminal displays, and returns all it displayed.
 */
function inTerminal(args: string[], env: NodeJS.ProcessEnv, waitFor?: string, answer?: string): Promise<{ status: number | null; screen: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    if (waitFor !== undefined && answer !== undefined && !answered && screen.includes(waitFor)) {
      answered = true;
      child.stdin.write(answer);
    }
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, screen })));
}

describe('codes and tokens never on the command line (issue 9, item 6)', () => {
  function setUp(): { id: string; secret: string } {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'admin'], env).status).toBe(0);
    const e = enroll();
    expect(runCli(['factors', 'confirm', e.id], env, `${oathtool(e.secret, Date.now())}\n`).status).toBe(0);
    return e;
  }

  it('asks for the code on a terminal without echoing it', async () => {
    const e = setUp();
    const code = oathtool(e.secret, Date.now() + 30_000);
    const run = await inTerminal(['verify'], env, 'Code: ', `${code}\r`);
    expect(run.status).toBe(0);
    expect(run.screen).toContain(`valid (factor ${e.id})`);
    expect(run.screen).not.toContain(code);
  });

  it('stops at Ctrl+C on the prompt, checking nothing', async () => {
    setUp();
    const run = await inTerminal(['verify'], env, 'Code: ', '\u0003');
    expect(run.status).toBe(130);
    expect(sqlite(join(dir, 'custodian.db'), 'SELECT COUNT(*) FROM mfa_attempts').trim()).toBe('0');
  });

  it('reads one line from stdin in a script, and takes an argument only with a warning where a terminal exists', async () => {
    const e = setUp();
    // A script: stdin, no warning.
    expect(runCli(['verify'], env, `${oathtool(e.secret, Date.now() + 30_000)}\n`)).toMatchObject({ status: 0, stderr: '' });
    // Nothing piped: a usage error, and no attempt is spent.
    expect(runCli(['verify'], env, '')).toMatchObject({ status: 2, stderr: 'custodian: The request is not valid: code.\n' });
    // An argument in a script with no terminal at all still works, silently.
    expect(runCli(['verify', '000000'], env).stderr).toBe('custodian: The code is invalid.\n');
    // The same argument typed at a terminal works too, with a warning.
    const typed = await inTerminal(['verify', '111111'], env);
    expect(typed.screen).toContain('custodian: warning: a code on the command line can be read by other users (ps, /proc); leave it out to be asked for it');
    const redeem = await inTerminal(['redeem', 'x'.repeat(43), '--requester', 'backup@db1'], { ...env, CUSTODIAN_API_KEY: 'cst_x_y', CUSTODIAN_GATEWAY_PORT: '9' });
    expect(redeem.screen).toContain('custodian: warning: a token on the command line can be read by other users');
  });

  it('says so in --help', () => {
    for (const args of [['verify'], ['factors', 'confirm'], ['factors', 'disable'], ['backup-codes', 'regenerate'], ['factors', 'enroll'], ['redeem']]) {
      const help = runCli([...args, '--help'], env).stdout;
      expect(help, args.join(' ')).toContain('Codes and tokens are read from the terminal, without echo, or from stdin');
      expect(help, args.join(' ')).toContain('only in a script that has neither');
    }
  });
});
