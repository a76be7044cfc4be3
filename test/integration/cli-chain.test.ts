import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../fixtures/run-cli';
import { answerChain, twoFactorsThroughCli } from '../fixtures/two-factors';

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

const enrollTwo = (): Map<string, () => string> => twoFactorsThroughCli(env);
const runChain = (sensitivity: string, answer: (label: string, index: number) => string): Promise<CliRun> =>
  answerChain(['verify', '--sensitivity', sensitivity], env, answer);

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
    // Each step asks its method for its challenge first (issue 12): for TOTP nothing is sent, but it is audited.
    expect(events.slice(-6)).toEqual([
      'mfa_chain_started',
      'mfa_chain_challenged',
      'mfa_chain_step_passed',
      'mfa_chain_challenged',
      'mfa_chain_step_passed',
      'mfa_chain_completed',
    ]);
  });

  it('exits 1 on a wrong code at step 2, says the chain was reset to step 1, and audits the reset without the code', async () => {
    const codes = enrollTwo();
    const failed = await runChain('critical', (label, i) => (i === 1 ? '271828' : (codes.get(label)?.() ?? '')));
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('step 1 passed');
    expect(failed.stderr).toMatch(/step 2 \((Phone|Token)\): The code is invalid\./);
    expect(failed.stderr).toContain('the chain was reset to step 1');
    expect(auditEvents().slice(-4)).toEqual(['mfa_chain_step_passed', 'mfa_chain_challenged', 'mfa_chain_step_failed', 'mfa_chain_reset']);
    expect(runCli(['audit', 'export'], env).stdout).not.toContain('271828');
  });

  it('refuses a code given as an argument and an unknown sensitivity, with a usage error', () => {
    expect(runCli(['verify', '123456', '--sensitivity', 'critical'], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('code') });
    expect(runCli(['verify', '--sensitivity', 'extreme'], env).status).toBe(2);
  });
});
