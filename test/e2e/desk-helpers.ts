import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { oathtool } from '../fixtures/otp';
import { expect } from './fixtures';

const CLI = join(__dirname, '..', '..', 'bin', 'custodian.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a separate process, the way a backup script or an admin's shell runs it. */
export function runCustodian(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** Sends a restore request without waiting for the decision; returns its id. */
export async function sendRequest(env: NodeJS.ProcessEnv, key: string, fields: { backup: string; target: string; reason: string; sensitivity?: string; requester?: string }): Promise<string> {
  const args = ['request', '--no-wait', '--json', '--backup', fields.backup, '--target', fields.target, '--reason', fields.reason];
  if (fields.sensitivity) args.push('--sensitivity', fields.sensitivity);
  if (fields.requester) args.push('--requester', fields.requester);
  const result = await runCustodian(args, { ...env, CUSTODIAN_API_KEY: key });
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { id: string }).id;
}

/** Adds an integration from Settings; returns its key. */
export async function addIntegration(page: Page, name: string): Promise<string> {
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('integration-name').fill(name);
  await page.getByTestId('integration-add').click();
  const key = await page.getByTestId('integration-key').inputValue();
  expect(key).toMatch(/^cst_/);
  await page.getByRole('button', { name: /I have copied it|Kopyaladım/ }).click();
  return key;
}

/** The approver's profile; an admin unless a spec needs another role's ceiling. */
export async function createProfile(page: Page, role: 'operator' | 'admin' | 'security-admin' = 'admin'): Promise<void> {
  await page.getByTestId('nav-factors').click();
  await page.getByTestId('setup-profile').first().click();
  await page.getByTestId('onboarding-name').fill('Alice Admin');
  await page.getByTestId('onboarding-principal').fill('alice@corp');
  await page.getByTestId('onboarding-role').selectOption(role);
  await page.getByTestId('onboarding-submit').click();
}

/** Right after createProfile: enrolls the first factor through the UI; returns its secret. */
export async function enrollFirstFactor(page: Page): Promise<string> {
  await page.getByTestId('enroll-label').fill('Work phone');
  await page.getByTestId('enroll-continue').click();
  await page.getByTestId('enroll-cant-scan').click();
  const secret = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  await page.getByTestId('enroll-code').fill(oathtool(secret, Date.now()));
  await page.getByTestId('enroll-confirm').click();
  await page.getByTestId('backup-codes-stored').check();
  await page.getByTestId('backup-codes-done').click();
  await expect(page.getByTestId('backup-codes')).toHaveCount(0);
  return secret;
}

/**
 * Where the screenshots go: CUSTODIAN_SHOTS_DIR when a person wants to look at them, else the
 * test results folder.
 */
export function shotPath(name: string): string {
  const dir = process.env.CUSTODIAN_SHOTS_DIR ?? join(__dirname, '..', '..', 'test-results', 'screens');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/**
 * Each factor's codes, as a phone shows them, each time step used once: the next code of a factor
 * is for the step after its last one, and never older than the step before now. Reckoned from the
 * clock at each use, not from when the test began, so a test that runs across a step boundary
 * still sends codes inside the window (a fixed starting point did, about one run in six).
 */
export class Phones {
  readonly #secrets = new Map<string, string>();
  readonly #last = new Map<string, number>();
  /** The app's CUSTODIAN_MFA_WINDOW_STEPS: how many steps either side of now it accepts. */
  readonly #window: number;
  constructor(window: number) {
    this.#window = window;
  }
  add(label: string, secret: string): void {
    this.#secrets.set(label, secret);
  }
  code(label: string): string {
    const secret = this.#secrets.get(label);
    if (secret === undefined) throw new Error(`no phone called ${label}`);
    const now = Date.now();
    const nowStep = Math.floor(now / 30_000);
    // The oldest step still good in 10 s: a code of the step before, read in the last seconds of
    // this one, was refused (with a window of ±1) when a loaded machine took it across the boundary.
    const oldest = Math.max(nowStep - 1, Math.floor((now + 10_000) / 30_000) - this.#window);
    const step = Math.max((this.#last.get(label) ?? -Infinity) + 1, oldest);
    // With a window of ±2 steps, a fifth code of one factor within one time step is not.
    if (step > nowStep + this.#window) throw new Error(`no code left for ${label} in this window`);
    this.#last.set(label, step);
    return oathtool(secret, step * 30_000);
  }
  /**
   * `code`, once the factor has one left: after many chains in a row a factor may have used every
   * step of its window, and the next code is good when the clock reaches a new step.
   */
  async codeSoon(label: string): Promise<string> {
    for (;;) {
      try {
        return this.code(label);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('no code left')) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  /** A six-digit string no factor accepts now. */
  wrong(): string {
    const now = Date.now();
    const near = [...this.#secrets.values()].flatMap((s) => [-90_000, -60_000, -30_000, 0, 30_000, 60_000, 90_000].map((d) => oathtool(s, now + d)));
    return ['000000', '111111', '222222', '333333', '444444'].find((c) => !near.includes(c)) ?? '555555';
  }
}

/** The label of the step the chain prompt marks current. */
export async function currentLabel(page: Page): Promise<string> {
  const current = page.locator('[data-testid="chain-step"][data-state="current"]');
  await expect(current).toHaveCount(1);
  const text = (await current.locator('.chain-step-label bdi').textContent()) ?? '';
  return text.trim();
}

/** Types the code where the focus is (the current step's field) and presses Enter. */
export async function typeStep(page: Page, code: string): Promise<void> {
  await expect(page.getByTestId('chain-code')).toBeFocused();
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
}

/**
 * Passes the chain the prompt shows by keyboard, each step with its factor's code. A step-up
 * (useStepUp) closes the prompt once the action it paid for is done.
 */
export async function passChain(page: Page, phones: Phones): Promise<void> {
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  const total = await prompt.getByTestId('chain-step').count();
  for (let position = 0; position < total; position += 1) {
    await expect(prompt).toHaveAttribute('data-position', String(position));
    await typeStep(page, await phones.codeSoon(await currentLabel(page)));
  }
}

/** Once MFA is on: adds an authenticator through the chain it takes; its secret goes to `phones`. */
export async function enrollAnother(page: Page, phones: Phones, label: string): Promise<void> {
  const active = page.locator('[data-testid="factor-row"][data-state="active"]');
  const before = await active.count();
  await page.getByTestId('enroll-start').click();
  await page.getByTestId('enroll-label').fill(label);
  await page.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await page.getByTestId('enroll-cant-scan').click();
  phones.add(label, (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '');
  await page.getByTestId('enroll-code').fill(phones.code(label));
  await page.getByTestId('enroll-confirm').click();
  await expect(active).toHaveCount(before + 1);
}

/** Enrolls two authenticators through the UI; returns the backup codes shown with the first. */
export async function enrollTwo(page: Page, phones: Phones, role?: Parameters<typeof createProfile>[1]): Promise<string[]> {
  await createProfile(page, role);

  await page.getByTestId('enroll-label').fill('Work phone');
  await page.getByTestId('enroll-continue').click();
  await page.getByTestId('enroll-cant-scan').click();
  const phone = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  // Confirmed with the code of the step before now, proving the second with the next: the later
  // steps stay unused for the chain.
  phones.add('Work phone', phone);
  await page.getByTestId('enroll-code').fill(phones.code('Work phone'));
  await page.getByTestId('enroll-confirm').click();
  await expect(page.getByTestId('backup-code')).toHaveCount(10);
  const backupCodes = (await page.getByTestId('backup-code').allTextContents()).map((c) => c.trim());
  await page.getByTestId('backup-codes-stored').check();
  await page.getByTestId('backup-codes-done').click();

  // The second takes a chain at the critical policy, one step long: one factor has full rights.
  await enrollAnother(page, phones, 'Tablet');
  return backupCodes;
}

/** A shell's `custodian` run on the app's data directory, read while it runs: it waits for the window. */
export function shell(args: string[], env: NodeJS.ProcessEnv): { printed(pattern: RegExp): Promise<RegExpMatchArray>; write(line: string): void; output(): string; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const w of waiting) w();
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    wake();
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (status) => {
    resolve({ status, stdout, stderr });
    wake();
  }));
  let closed = false;
  void done.then(() => (closed = true));
  return {
    done,
    // A line on stdin, as a script answers a prompt (a code): read when the command asks for it.
    write: (line) => child.stdin.write(`${line}\n`),
    /** What it printed so far, both streams: for a failure's message. */
    output: () => `${stdout}${stderr}`,
    printed: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match) {
            waiting.delete(check);
            resolve(match);
          } else if (closed) {
            waiting.delete(check);
            reject(new Error(`the shell ended without printing ${pattern}: ${stdout}${stderr}`));
          }
        };
        waiting.add(check);
        check();
      }),
  };
}

/** Adds a push factor from the Factors screen: the chain it takes, then its push answered in this window. */
export async function enrollPush(page: Page, phones: Phones, label: string): Promise<void> {
  const active = page.locator('[data-testid="factor-row"][data-state="active"]');
  const before = await active.count();
  await page.getByTestId('enroll-start').click();
  await page.getByTestId('enroll-method-push').check();
  await expect(page.getByTestId('enroll-label')).toHaveValue('This desk');
  await page.getByTestId('enroll-label').fill(label);
  await page.getByTestId('enroll-continue').click();
  await passChain(page, phones);

  // The enrollment shows the number; the push prompt (the same window) offers three.
  const number = await page.getByTestId('push-wait-number').textContent();
  const prompt = page.getByTestId('push-prompt');
  await expect(prompt).toBeVisible();
  await expect(prompt).toHaveAttribute('role', 'alertdialog');
  await expect(prompt.getByTestId('push-purpose')).toHaveText(`Confirm ${label} as a new push factor`);
  await expect(prompt.getByTestId('push-purpose')).toBeFocused();
  await expect(prompt.getByTestId('push-source')).toHaveText('This window');
  await expect(prompt.getByTestId('push-factor')).toHaveText(label);
  await expect(prompt.getByTestId('push-number')).toHaveCount(3);
  // The prompt covers the enrollment's number: started here, it repeats it.
  await expect(prompt.getByTestId('push-shown-here')).toContainText(`shows ${number ?? ''} under this prompt`);
  // Escape neither closes nor approves it.
  await page.keyboard.press('Escape');
  await expect(prompt).toBeVisible();
  await prompt.locator(`[data-testid="push-number"][data-number="${number ?? ''}"]`).click();
  await expect(prompt).toBeHidden();
  await expect(active).toHaveCount(before + 1);
  await expect(page.locator('[data-testid="factor-row"][data-state="active"]', { hasText: label })).toHaveCount(1);
}

/** The high policy asks for the push factor only, so a chain at high (a shell's or the window's) is one push step. */
export async function highTakesPush(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const { factors } = await window.custodian.factors.list();
    const push = factors.find((f) => f.type === 'push' && f.state === 'active');
    if (!push) throw new Error('no push factor');
    const high = (await window.custodian.policies.list()).find((p) => p.sensitivity === 'high');
    if (!high) throw new Error('no high policy');
    // Fewer eligible factors is no weakening: no chain asked for.
    await window.custodian.policies.save({ ...high, eligible: { by: 'ids', ids: [push.id] } });
  });
}
