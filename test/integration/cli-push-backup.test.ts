import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKUP_STEP } from '../../src-shared/domain/policy';
import { runCli } from '../../src-main/cli/main';
import { Interrupted, type SecretInput } from '../../src-main/cli/secret-input';
import type { Custodian } from '../../src-main/composition';
import type { StepContext } from '../../src-main/services/chain/chain-ports';
import { oathtool } from '../fixtures/otp';
import { CLI } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

/**
 * A backup code in place of a push step, in a shell (issue 12's loose end): the CLI runs in this
 * process (`runCli` with injected output and code input) on a real data directory and keychain,
 * while this test's own Custodian on the same directory answers the push, as the window would.
 */

const DESKTOP: StepContext = { source: 'desktop' };
const ADMIN = { actor: 'alice@corp', source: 'desktop' };

let t: TempCustodian | undefined;
let saved: Record<string, string | undefined> = {};

afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) Reflect.deleteProperty(process.env, k);
    else process.env[k] = v;
  }
  saved = {};
  await t?.remove();
  t = undefined;
});

interface Desk {
  c: Custodian;
  totpId: string;
  pushId: string;
  secret: string;
  backupCodes: string[];
}

/**
 * A TOTP factor, then a push factor enrolled after a step-up paid with a backup code (so the
 * TOTP factor's next time step is still free for a chain), on the real clock: the CLI in this
 * process reads the system clock.
 */
async function desk(): Promise<Desk> {
  t = tempCustodian({ clock: 'following' });
  const temp = t;
  const c = t.custodian;
  c.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, DESKTOP);
  const e = await c.mfa.startEnrollment({ label: 'Authenticator', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  const secret = await c.mfa.revealSecret(e.factor.id, DESKTOP);
  const { backupCodes } = await c.mfa.confirmEnrollment(e.factor.id, oathtool(secret, temp.clock.now()), DESKTOP);
  const [enrollCode, ...rest] = backupCodes ?? [];
  const stepUp = c.chain.start('factors:enroll', 'critical', DESKTOP);
  await c.chain.challenge(stepUp.attemptId, DESKTOP);
  expect(await c.chain.verifyStep(stepUp.attemptId, BACKUP_STEP, enrollCode ?? '', DESKTOP)).toMatchObject({ status: 'completed' });
  const push = await c.mfa.startEnrollment({ label: 'This desk', type: 'push' }, DESKTOP);
  const [prompt] = c.push.pending();
  await c.push.answer(prompt?.id ?? '', push.push?.number ?? 0, DESKTOP);
  await c.mfa.confirmEnrollment(push.factor.id, String(push.push?.number), DESKTOP);
  // The CLI opens the same directory and keychain service from its environment, as a shell would.
  const env = { CUSTODIAN_DATA_DIR: temp.dir, CUSTODIAN_KEYCHAIN_SERVICE: temp.config.keychain.service };
  saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return { c, totpId: e.factor.id, pushId: push.factor.id, secret, backupCodes: rest };
}

function atLow(d: Desk, ids: string[]): void {
  d.c.policies.save({ ...d.c.policies.get('low'), requiredSteps: ids.length, mode: 'fixed', eligible: { by: 'ids', ids } }, ADMIN);
}

const unusedBackupCodes = (c: Custodian): number => (c.db.prepare('SELECT COUNT(*) AS n FROM backup_codes WHERE used_at IS NULL').get() as { n: number }).n;

/** A terminal whose hidden reads the test answers, one by one, and which records withdrawals. */
function terminal() {
  const reads: { prompt: string; answer: (line: string) => void; interrupt: () => void; withdrawn: boolean }[] = [];
  const input: SecretInput = {
    interactive: true,
    attended: true,
    readHidden: (prompt, signal) =>
      new Promise<string>((resolve, reject) => {
        const read = { prompt, answer: resolve, interrupt: () => reject(new Interrupted()), withdrawn: false };
        reads.push(read);
        signal?.addEventListener('abort', () => {
          read.withdrawn = true;
          reject(signal.reason);
        });
      }),
    readLine: () => Promise.reject(new Error('a terminal is read hidden')),
  };
  return { input, reads };
}

function run(argv: string[], secrets: SecretInput) {
  let out = '';
  let err = '';
  const done = runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), isTty: false, secrets }, () => Promise.resolve());
  return { done, out: () => out, err: () => err };
}

async function waitFor<T>(read: () => T | undefined | null | false): Promise<T> {
  for (let i = 0; i < 400; i += 1) {
    const value = read();
    if (value !== undefined && value !== null && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('timed out waiting');
}

describe('a backup code in place of a push step, in a shell (issue 12)', () => {
  it('a backup code typed while the push waits completes the chain, withdraws the push and is used up; an empty line keeps waiting', async () => {
    const d = await desk();
    atLow(d, [d.pushId]);
    const before = unusedBackupCodes(d.c);
    const tty = terminal();
    const shell = run(['verify', '--sensitivity', 'low'], tty.input);
    const first = await waitFor(() => tty.reads[0]);
    expect(first.prompt).toBe('…or type a backup code and press Enter: ');
    expect(shell.out()).toMatch(/pick \d{2} there/);
    expect(d.c.push.pending()).toHaveLength(1);
    // Enter alone: the push still waits, and the question is asked again.
    first.answer('');
    const second = await waitFor(() => tty.reads[1]);
    expect(d.c.push.pending()).toHaveLength(1);
    second.answer(d.backupCodes[0] ?? '');
    expect(await shell.done).toBe(0);
    expect(shell.err()).toBe('');
    expect(shell.out()).toContain('chain completed: 1 of 1 steps passed');
    expect(d.c.push.pending()).toEqual([]);
    expect(unusedBackupCodes(d.c)).toBe(before - 1);
    const passed = d.c.audit.list(50).entries.find((e) => e.event === 'mfa_chain_step_passed');
    expect(passed?.data).toMatchObject({ method: 'backup', source: 'cli' });
  });

  it('a push answered in the window withdraws the backup-code question; the chain goes on to its next step', async () => {
    const d = await desk();
    atLow(d, [d.pushId, d.totpId]);
    const before = unusedBackupCodes(d.c);
    const tty = terminal();
    const shell = run(['verify', '--sensitivity', 'low'], tty.input);
    const question = await waitFor(() => tty.reads[0]);
    const number = Number(/pick (\d{2}) there/.exec(shell.out())?.[1]);
    const prompt = await waitFor(() => d.c.push.pending()[0]);
    expect(await d.c.push.answer(prompt.id, number, DESKTOP)).toEqual({ outcome: 'approved' });
    // The next step is the TOTP factor's code, asked for on the terminal.
    const code = await waitFor(() => tty.reads[1]);
    expect(question.withdrawn).toBe(true);
    expect(code.prompt).toContain('Step 2 of 2, Authenticator');
    code.answer(oathtool(d.secret, Date.now() + 30_000));
    expect(await shell.done).toBe(0);
    expect(shell.out()).toContain('chain completed: 2 of 2 steps passed');
    expect(unusedBackupCodes(d.c)).toBe(before);
  });

  it('Ctrl+C at the backup-code question exits 130, as at every prompt', async () => {
    const d = await desk();
    atLow(d, [d.pushId]);
    const tty = terminal();
    const shell = run(['verify', '--sensitivity', 'low'], tty.input);
    (await waitFor(() => tty.reads[0])).interrupt();
    expect(await shell.done).toBe(130);
  });

  it("a script's stdin is not read during the push wait: its one line is the next step's code", async () => {
    const d = await desk();
    atLow(d, [d.pushId, d.totpId]);
    const lines = [oathtool(d.secret, Date.now() + 30_000)];
    let pushAnswered = false;
    let readDuringWait = false;
    const script: SecretInput = {
      interactive: false,
      attended: false,
      readHidden: () => Promise.reject(new Error('no terminal here')),
      readLine: () => {
        if (!pushAnswered) readDuringWait = true;
        return Promise.resolve(lines.shift() ?? '');
      },
    };
    const shell = run(['verify', '--sensitivity', 'low'], script);
    const number = Number(await waitFor(() => /pick (\d{2}) there/.exec(shell.out())?.[1]));
    const prompt = await waitFor(() => d.c.push.pending()[0]);
    // Give a read during the wait its chance to happen before the answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    pushAnswered = true;
    await d.c.push.answer(prompt.id, number, DESKTOP);
    expect(await shell.done).toBe(0);
    expect(readDuringWait).toBe(false);
    expect(shell.out()).toContain('chain completed: 2 of 2 steps passed');
  });
});

/**
 * The built CLI on a pseudo-terminal (util-linux `script`), as a person at a shell runs it: what
 * the terminal displays so far, keys typed into it, and the exit status.
 */
function inTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
  const done = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  return { screen: () => screen, type: (keys: string) => child.stdin.write(keys), done };
}

describe('the same at a real terminal (the built command on a pseudo-terminal)', () => {
  const envOf = (): NodeJS.ProcessEnv => ({ CUSTODIAN_DATA_DIR: process.env.CUSTODIAN_DATA_DIR, CUSTODIAN_KEYCHAIN_SERVICE: process.env.CUSTODIAN_KEYCHAIN_SERVICE });

  it('a backup code typed while the push waits is not echoed, and completes the chain', async () => {
    const d = await desk();
    atLow(d, [d.pushId]);
    const code = d.backupCodes[0] ?? '';
    const term = inTerminal(['verify', '--sensitivity', 'low'], envOf());
    await waitFor(() => term.screen().includes('or type a backup code and press Enter'));
    expect(d.c.push.pending()).toHaveLength(1);
    term.type(`${code}\r`);
    expect(await term.done).toBe(0);
    expect(term.screen()).toContain('chain completed: 1 of 1 steps passed');
    expect(term.screen()).not.toContain(code);
    expect(d.c.push.pending()).toEqual([]);
  });

  it('a push answered first withdraws the question; the next step is read hidden as before', async () => {
    const d = await desk();
    atLow(d, [d.pushId, d.totpId]);
    const term = inTerminal(['verify', '--sensitivity', 'low'], envOf());
    const number = Number(await waitFor(() => /pick (\d{2}) there/.exec(term.screen())?.[1]));
    await waitFor(() => term.screen().includes('or type a backup code and press Enter'));
    // Typed at the withdrawn question: dropped with it, never part of the next step's code.
    term.type('zqzq');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const prompt = await waitFor(() => d.c.push.pending()[0]);
    await d.c.push.answer(prompt.id, number, DESKTOP);
    await waitFor(() => term.screen().includes('Step 2 of 2, Authenticator'));
    const code = oathtool(d.secret, Date.now() + 30_000);
    term.type(`${code}\r`);
    expect(await term.done).toBe(0);
    expect(term.screen()).toContain('chain completed: 2 of 2 steps passed');
    // Echo was off for both questions: neither the dropped keys nor the code is on the screen.
    expect(term.screen()).not.toContain(code);
    expect(term.screen()).not.toContain('zq');
  });
});
