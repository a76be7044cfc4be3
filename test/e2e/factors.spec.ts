import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { oathtool } from '../fixtures/otp';
import { expect, test } from './fixtures';

const screens = join(__dirname, '..', '..', 'test-results', 'screens');

async function createProfile(page: Page, role: 'operator' | 'admin'): Promise<void> {
  await page.getByTestId('nav-factors').click();
  await page.getByTestId('setup-profile').first().click();
  await page.getByTestId('onboarding-name').fill('Alice Admin');
  await page.getByTestId('onboarding-principal').fill('alice@corp');
  await page.getByTestId('onboarding-role').selectOption(role);
  await page.getByTestId('onboarding-submit').click();
}

/** Enrolls through the UI, reading the secret through "can't scan?"; returns it and the codes. */
async function enrollFirstFactor(page: Page, shot?: string): Promise<{ secret: string; backupCodes: string[] }> {
  await page.getByTestId('enroll-label').fill('Work phone');
  await page.getByTestId('enroll-continue').click();
  await expect(page.getByTestId('enroll-qr')).toBeVisible();
  await expect(page.getByTestId('enroll-secret-masked')).toContainText('•');
  await page.getByTestId('enroll-cant-scan').click();
  const secret = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  if (shot) {
    mkdirSync(screens, { recursive: true });
    await page.screenshot({ path: join(screens, shot) });
  }
  await page.getByTestId('enroll-code').fill(oathtool(secret, Date.now()));
  await page.getByTestId('enroll-confirm').click();

  await expect(page.getByTestId('backup-code')).toHaveCount(10);
  const backupCodes = await page.getByTestId('backup-code').allTextContents();
  await expect(page.getByTestId('backup-codes-done')).toBeDisabled();
  await page.getByTestId('backup-codes-stored').check();
  await page.getByTestId('backup-codes-done').click();
  await expect(page.getByTestId('backup-codes')).toHaveCount(0);
  return { secret, backupCodes: backupCodes.map((c) => c.trim()) };
}

test('an approver enrolls an authenticator by QR, keeps the backup codes, and disables it again', async ({ app }) => {
  const { page } = app;
  await createProfile(page, 'operator');
  // Setting up a profile leads straight into enrolling the first factor.
  await expect(page.getByTestId('enroll-label')).toBeVisible();
  const { backupCodes } = await enrollFirstFactor(page, `enrollment-${app.launcher}.png`);

  const row = page.getByTestId('factor-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Work phone');
  await expect(page.getByTestId('backup-remaining')).toContainText('10');

  await row.getByTestId('factor-disable').click();
  await page.getByTestId('disable-code').fill('000000');
  await page.getByTestId('disable-confirm').click();
  await expect(page.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await page.getByTestId('disable-code').fill(backupCodes[0] ?? '');
  await page.getByTestId('disable-confirm').click();
  await expect(page.getByTestId('factor-row')).toHaveCount(0);

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 50 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_setup_initiated', 'mfa_enabled', 'backup_code_used', 'mfa_disabled']));
});

test('six wrong codes on the lock screen bring the rate-limit message and its countdown', async ({ app }) => {
  const { page } = app;
  await createProfile(page, 'admin');
  // Setting up a profile leads straight into enrolling the first factor.
  await expect(page.getByTestId('enroll-label')).toBeVisible();
  const { secret } = await enrollFirstFactor(page);

  await page.getByTestId('lock-now').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expect(page.getByTestId('nav-audit')).toHaveCount(0);
  for (let i = 0; i < 5; i += 1) {
    await page.getByTestId('lock-code').fill('000000');
    await page.getByTestId('lock-submit').click();
    await expect(page.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  }
  await page.getByTestId('lock-code').fill(oathtool(secret, Date.now()));
  await page.getByTestId('lock-submit').click();
  await expect(page.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-RATE-LIMITED');
  const countdown = page.getByTestId('rate-limit-countdown');
  await expect(countdown).toBeVisible();
  const first = Number(await countdown.getAttribute('data-seconds'));
  expect(first).toBeGreaterThan(20);
  expect(first).toBeLessThanOrEqual(30);
  await expect.poll(async () => Number(await countdown.getAttribute('data-seconds'))).toBeLessThan(first);
  mkdirSync(screens, { recursive: true });
  await page.screenshot({ path: join(screens, `lock-rate-limited-${app.launcher}.png`) });
  // Still locked: nothing but the lock screen.
  await expect(page.getByTestId('nav-factors')).toHaveCount(0);
});
