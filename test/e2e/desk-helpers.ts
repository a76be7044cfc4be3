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

export async function createProfile(page: Page): Promise<void> {
  await page.getByTestId('nav-factors').click();
  await page.getByTestId('setup-profile').first().click();
  await page.getByTestId('onboarding-name').fill('Alice Admin');
  await page.getByTestId('onboarding-principal').fill('alice@corp');
  await page.getByTestId('onboarding-role').selectOption('admin');
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
