import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { oathtool } from '../fixtures/otp';
import { passChain, Phones, typeStep } from './desk-helpers';
import { expect, test } from './fixtures';

const screens = process.env.CUSTODIAN_SCREENS_DIR ?? join(__dirname, '..', '..', 'test-results', 'screens');

async function createProfile(page: Page, role: 'operator' | 'admin'): Promise<void> {
  await page.getByTestId('nav-factors').click();
  await page.getByTestId('setup-profile').first().click();
  await page.getByTestId('onboarding-name').fill('Alice Admin');
  await page.getByTestId('onboarding-principal').fill('alice@corp');
  await page.getByTestId('onboarding-role').selectOption(role);
  await page.getByTestId('onboarding-submit').click();
}

/**
 * Enrolls through the UI, reading the secret through "can't scan?"; returns it and the codes.
 * The phone is "Work phone" in `phones`, which gives each of its codes once.
 */
async function enrollFirstFactor(page: Page, phones: Phones, shot?: string): Promise<{ secret: string; backupCodes: string[] }> {
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
  phones.add('Work phone', secret);
  await page.getByTestId('enroll-code').fill(phones.code('Work phone'));
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
  const phones = new Phones(1);
  await createProfile(page, 'operator');
  // Setting up a profile leads straight into enrolling the first factor.
  await expect(page.getByTestId('enroll-label')).toBeVisible();
  await enrollFirstFactor(page, phones, `enrollment-${app.launcher}.png`);

  const row = page.getByTestId('factor-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Work phone');
  await expect(page.getByTestId('backup-remaining')).toContainText('10');

  // Issue 10: a confirmation, then a chain at the critical policy (one step: one factor has full
  // rights), then the factor is disabled. The focus starts on Cancel: Enter by reflex destroys nothing.
  await row.getByTestId('factor-disable').click();
  const dialog = page.getByTestId('disable-dialog');
  await expect(dialog.getByTestId('disable-last')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await expect(dialog.getByTestId('chain-prompt')).toHaveCount(0);
  await dialog.getByTestId('disable-confirm').click();
  const prompt = dialog.getByTestId('chain-prompt');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(1);
  // The prompt stands in for the dialog's buttons until the chain is done.
  await expect(dialog.getByTestId('disable-confirm')).toHaveCount(0);
  // Issue 9: a backup code never disables a factor alone, so a one-step chain offers none.
  await expect(prompt.getByTestId('chain-use-backup')).toHaveCount(0);
  await typeStep(page, phones.wrong());
  await expect(prompt.getByTestId('chain-notice')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await expect(row).toHaveAttribute('data-state', 'active');
  await passChain(page, phones);
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('factor-row')).toHaveCount(0);

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 50 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_setup_initiated', 'mfa_enabled', 'mfa_disabled']));
});

test('six wrong codes on the lock screen bring the rate-limit message and its countdown', async ({ app }) => {
  const { page } = app;
  await createProfile(page, 'admin');
  // Setting up a profile leads straight into enrolling the first factor.
  await expect(page.getByTestId('enroll-label')).toBeVisible();
  const { secret } = await enrollFirstFactor(page, new Phones(1));

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

test('adding a second authenticator takes a chain with the first, before any QR code shows', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(1);
  await createProfile(page, 'admin');
  await enrollFirstFactor(page, phones);

  await page.getByTestId('enroll-start').click();
  await page.getByTestId('enroll-label').fill('Tablet');
  await expect(page.getByTestId('enroll-chain-note')).toContainText('critical policy');
  await page.getByTestId('enroll-continue').click();
  // No chain passed, no QR: the chain at the critical policy, one step long with one factor.
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(1);
  await expect(page.getByTestId('enroll-continue')).toHaveCount(0);
  // Enter in the name field while the chain runs sends nothing without it.
  await page.getByTestId('enroll-label').press('Enter');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(page.getByTestId('form-error')).toHaveCount(0);
  await page.getByTestId('chain-code').focus();
  // Adding a replacement is where a backup code may stand in (the new one then starts in recovery).
  await expect(prompt.getByTestId('chain-use-backup')).toBeVisible();
  await typeStep(page, phones.wrong());
  await expect(prompt.getByTestId('chain-notice')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await expect(page.getByTestId('enroll-qr')).toHaveCount(0);

  await passChain(page, phones);
  await expect(page.getByTestId('enroll-qr')).toBeVisible();
  await expect(prompt).toHaveCount(0);
  await expect(page.getByTestId('enroll-recovery-note')).toHaveCount(0);
  await page.getByTestId('enroll-cant-scan').click();
  const tablet = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  await page.getByTestId('enroll-code').fill(oathtool(tablet, Date.now()));
  await page.getByTestId('enroll-confirm').click();
  await expect(page.getByTestId('factor-row')).toHaveCount(2);
  await expect(page.locator('[data-testid="factor-row"][data-state="active"]')).toHaveCount(2);
  await expect(page.getByTestId('factor-recovery')).toHaveCount(0);
});

test('a set-up left at its QR code can be resumed or removed from the list', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(1);
  await createProfile(page, 'operator');
  const { backupCodes } = await enrollFirstFactor(page, phones);

  // Start adding a second one, get as far as the QR code, and cancel.
  await page.getByTestId('enroll-start').click();
  await page.getByTestId('enroll-label').fill('Tablet');
  await page.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await expect(page.getByTestId('enroll-qr')).toBeVisible();
  await page.getByTestId('enroll-cancel').click();

  const pending = page.locator('[data-testid="factor-row"][data-state="pending"]');
  await expect(pending).toHaveCount(1);
  await expect(pending.getByTestId('factor-resume')).toBeVisible();
  await expect(pending.getByTestId('factor-rename')).toBeVisible();
  await expect(pending.getByTestId('factor-remove')).toBeVisible();
  await expect(pending.getByTestId('factor-disable')).toHaveCount(0);
  await shots(page, 'factors-pending');
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);

  // Resume: the same chain a new one takes (here a backup code stands in for its step: it becomes
  // a recovery factor), then the same QR code, within the same ten minutes.
  await pending.getByTestId('factor-resume').click();
  await expect(page.getByTestId('enroll-resume-submit')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('chain-prompt')).toHaveAttribute('data-status', 'open');
  await expect(page.getByTestId('enroll-qr')).toHaveCount(0);
  await page.getByTestId('chain-use-backup').click();
  await expect(page.getByTestId('chain-code')).toBeFocused();
  await page.keyboard.type(backupCodes[0] ?? '');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('enroll-qr')).toBeVisible();
  await expect(page.getByTestId('enroll-recovery-note')).toBeVisible();
  await page.getByTestId('enroll-cancel').click();
  await expect(pending).toHaveCount(1);
  await expect(pending).toContainText(/recovery authenticator/);

  // Remove: confirmed first; the row goes, and so does its secret.
  await pending.getByTestId('factor-remove').click();
  await page.getByTestId('remove-dialog-confirm').click();
  await expect(pending).toHaveCount(0);
  await expect(page.getByTestId('factor-row')).toHaveCount(1);
  await expect(page.getByTestId('factors-status')).toContainText('Tablet');

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 50 }));
  expect(audit.entries.map((e) => e.event)).toEqual(expect.arrayContaining(['mfa_setup_resumed', 'mfa_setup_removed']));
});

/** The screen as it is, at the default 1180 px, at 800 px and in Turkish, for a human to look at. */
async function shots(page: Page, name: string): Promise<void> {
  mkdirSync(screens, { recursive: true });
  await page.screenshot({ path: join(screens, `${name}-1180.png`), fullPage: true });
  await page.setViewportSize({ width: 800, height: 780 });
  await page.screenshot({ path: join(screens, `${name}-800.png`), fullPage: true });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
  await page.screenshot({ path: join(screens, `${name}-800-tr.png`), fullPage: true });
  await page.setViewportSize({ width: 1180, height: 780 });
  await page.screenshot({ path: join(screens, `${name}-1180-tr.png`), fullPage: true });
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
}
