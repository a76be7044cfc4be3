import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertNoFixedClockMeets } from '../fixtures/clocks';
import { oathtool } from '../fixtures/otp';
import { CLI, runCli, type CliRun } from '../fixtures/run-cli';

// `custodian verify --sensitivity S` (issue 10 "CLI"): a factor chain run in a separate process,
// its codes read one per line from stdin as a script gives them, never from the arguments.
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-cli-chain-'));
  // Two steps either side: the enrollments use the codes of the next steps (see `enrollTwo`).
  env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_KEYCHAIN_SERVICE: `custodian-test-${dir.slice(-6)}`, CUSTODIAN_MFA_WINDOW_STEPS: '2' };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const secretOf = (uri: string): string => new URL(uri).searchParams.get('secret') ?? '';

/**
 * A profile with two active factors, enrolled through the CLI. Returns, per label, a code of a
 * time step neither enrollment used up (the replay floor only moves forward).
 */
function enrollTwo(): Map<string, () => string> {
  expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'security-admin'], env).status).toBe(0);
  const phone = JSON.parse(runCli(['factors', 'enroll', '--label', 'Phone', '--json'], env).stdout) as { id: string; uri: string };
  const now = Date.now();
  expect(runCli(['factors', 'confirm', phone.id], env, `${oathtool(secretOf(phone.uri), now)}\n`).status).toBe(0);
  const tokenRun = runCli(['factors', 'enroll', '--label', 'Token', '--json'], env, `${oathtool(secretOf(phone.uri), now + 30_000)}\n`);
  expect(tokenRun.status).toBe(0);
  const token = JSON.parse(tokenRun.stdout) as { id: string; uri: string };
  expect(runCli(['factors', 'confirm', token.id], env, `${oathtool(secretOf(token.uri), now)}\n`).status).toBe(0);
  return new Map([
    ['Phone', () => oathtool(secretOf(phone.uri), now + 60_000)],
    ['Token', () => oathtool(secretOf(token.uri), now + 30_000)],
  ]);
}

/**
 * Runs `custodian verify --sensitivity S` and answers each step as it is printed: `answer` gets
 * the step's label and returns the line to write.
 */
function runChain(sensitivity: string, answer: (label: string, index: number) => string): Promise<CliRun> {
  assertNoFixedClockMeets(env);
  const child = spawn(process.execPath, [CLI, 'verify', '--sensitivity', sensitivity], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    // The step list comes first; the codes go in its order, one line each, then end of input.
    const labels = [...stdout.matchAll(/^ {2}\d+\. (\S+) \(totp, 6 digits\)$/gm)].map((m) => m[1] ?? '');
    if (!answered && /expires at/.test(stdout) && labels.length > 0 && stdout.includes(`${labels.length}. `)) {
      answered = true;
      child.stdin.end(labels.map((l, i) => `${answer(l, i)}\n`).join(''));
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function auditEvents(): string[] {
  return runCli(['audit', 'export'], env)
    .stdout.trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { event: string }).event);
}

describe('custodian verify --sensitivity', () => {
  it('runs the critical chain (two steps) in the terminal and exits 0 when both pass', async () => {
    const codes = enrollTwo();
    const run = await runChain('critical', (label) => codes.get(label)?.() ?? '');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/chain at the critical policy \(random order, 2 steps\), expires at /);
    expect(run.stdout).toMatch(/^ {2}1\. (Phone|Token) \(totp, 6 digits\)$/m);
    expect(run.stdout).toContain('chain completed: 2 of 2 steps passed');
    expect(run.status).toBe(0);
    const events = auditEvents();
    expect(events.slice(-4)).toEqual(['mfa_chain_started', 'mfa_chain_step_passed', 'mfa_chain_step_passed', 'mfa_chain_completed']);
  });

  it('exits 1 on a wrong code at step 2, says the chain was reset to step 1, and audits the reset without the code', async () => {
    const codes = enrollTwo();
    const failed = await runChain('critical', (label, i) => (i === 1 ? '271828' : (codes.get(label)?.() ?? '')));
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('step 1 passed');
    expect(failed.stderr).toMatch(/step 2 \((Phone|Token)\): The code is invalid\./);
    expect(failed.stderr).toContain('the chain was reset to step 1');
    expect(auditEvents().slice(-3)).toEqual(['mfa_chain_step_passed', 'mfa_chain_step_failed', 'mfa_chain_reset']);
    expect(runCli(['audit', 'export'], env).stdout).not.toContain('271828');
  });

  it('refuses a code given as an argument and an unknown sensitivity, with a usage error', () => {
    expect(runCli(['verify', '123456', '--sensitivity', 'critical'], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('code') });
    expect(runCli(['verify', '--sensitivity', 'extreme'], env).status).toBe(2);
  });
});
