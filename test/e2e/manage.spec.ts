import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { createProfile, enrollAnother, passChain, Phones, shotPath, typeStep } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left for the chains that follow its
// enrollment (a code is accepted once per factor and step) without the test waiting for the clock.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

/** Right after createProfile: the first authenticator, "Work phone"; returns the backup codes. */
async function enrollFirst(page: Page, phones: Phones): Promise<string[]> {
  await page.getByTestId('enroll-label').fill('Work phone');
  await page.getByTestId('enroll-continue').click();
  await page.getByTestId('enroll-cant-scan').click();
  phones.add('Work phone', (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '');
  await page.getByTestId('enroll-code').fill(phones.code('Work phone'));
  await page.getByTestId('enroll-confirm').click();
  await expect(page.getByTestId('backup-code')).toHaveCount(10);
  const codes = (await page.getByTestId('backup-code').allTextContents()).map((c) => c.trim());
  await page.getByTestId('backup-codes-stored').check();
  await page.getByTestId('backup-codes-done').click();
  return codes;
}

function row(page: Page, label: string) {
  return page.getByTestId('factor-row').filter({ hasText: label });
}

test('disabling a factor runs a two-step chain in the prompt, and regenerating the backup codes takes a chain that admits no backup code', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await createProfile(page);
  const oldCodes = await enrollFirst(page, phones);
  await enrollAnother(page, phones, 'Tablet');

  // With two factors, the default critical policy (two distinct factors) needs both: main says so
  // before it asks for any chain.
  await row(page, 'Work phone').getByTestId('factor-disable').click();
  let dialog = page.getByTestId('disable-dialog');
  await dialog.getByTestId('disable-confirm').click();
  await expect(dialog.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-POLICY-UNSATISFIABLE');
  await expect(dialog.getByTestId('chain-prompt')).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // A third factor (its own chain is two steps now), and the disable can go ahead.
  await enrollAnother(page, phones, 'Laptop');
  await row(page, 'Work phone').getByTestId('factor-disable').click();
  dialog = page.getByTestId('disable-dialog');
  await expect(dialog).toContainText('critical policy');
  await dialog.getByTestId('disable-confirm').click();
  const prompt = dialog.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await expect(page.getByTestId('chain-code')).toBeFocused();
  // Two steps: a backup code may stand in for one, beside an authenticator's.
  await expect(prompt.getByTestId('chain-use-backup')).toBeVisible();
  expect((await new AxeBuilder({ page }).include('[data-testid="disable-dialog"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await shots(page, 'manage-disable-chain', prompt);

  await passChain(page, phones);
  await expect(dialog).toHaveCount(0);
  // Disabled: said in the status line, and gone from the list of factors that work.
  await expect(page.getByTestId('factors-status')).toContainText('Work phone was disabled');
  await expect(row(page, 'Work phone')).toHaveCount(0);
  await expect(page.locator('[data-testid="factor-row"][data-state="active"]')).toHaveCount(2);

  // Regenerate: a chain of the two factors left, with no backup-code option, then the new set.
  await page.getByTestId('backup-regenerate').click();
  const regenerate = page.getByTestId('regenerate-dialog');
  await expect(regenerate.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await regenerate.getByTestId('regenerate-confirm').click();
  const regenPrompt = regenerate.getByTestId('chain-prompt');
  await expect(regenPrompt.getByTestId('chain-step')).toHaveCount(2);
  await expect(regenPrompt.getByTestId('chain-use-backup')).toHaveCount(0);
  await passChain(page, phones);
  await expect(regenerate.getByTestId('backup-code')).toHaveCount(10);
  const newCodes = (await regenerate.getByTestId('backup-code').allTextContents()).map((c) => c.trim());
  expect(newCodes).not.toContain(oldCodes[0]);
  await regenerate.getByTestId('backup-codes-stored').check();
  await regenerate.getByTestId('backup-codes-done').click();
  await expect(page.getByTestId('backup-remaining')).toHaveAttribute('data-remaining', '10');

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 200 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_chain_completed', 'mfa_step_up_used', 'mfa_disabled', 'backup_codes_regenerated']));
});

test('a refusal that comes after the chain is said in the dialog, whose buttons come back with the focus on Cancel', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await createProfile(page);
  await enrollFirst(page, phones);
  await enrollAnother(page, phones, 'Tablet');
  await enrollAnother(page, phones, 'Laptop');

  await row(page, 'Work phone').getByTestId('factor-disable').click();
  const dialog = page.getByTestId('disable-dialog');
  await dialog.getByTestId('disable-confirm').click();
  await expect(dialog.getByTestId('chain-step')).toHaveCount(2);
  // Meanwhile (another window, say) the critical policy grows to three steps: a stronger change,
  // saved without a chain. Disabling a factor would now leave it unsatisfiable.
  await page.evaluate(async () => {
    const critical = (await window.custodian.policies.list()).find((p) => p.sensitivity === 'critical');
    if (!critical) throw new Error('no critical policy');
    await window.custodian.policies.save({ ...critical, requiredSteps: 3 });
  });
  await passChain(page, phones);
  await expect(dialog.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-POLICY-UNSATISFIABLE');
  await expect(dialog.getByTestId('chain-prompt')).toHaveCount(0);
  await expect(dialog.getByTestId('disable-confirm')).toBeEnabled();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await expect(row(page, 'Work phone')).toHaveAttribute('data-state', 'active');
});

test('a role change takes a chain for that role, by keyboard, with no backup-code option', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await createProfile(page);
  await enrollFirst(page, phones);

  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('profile-role')).toHaveAttribute('data-role', 'admin');
  await page.getByTestId('change-role').click();
  const dialog = page.getByTestId('change-role-dialog');
  await expect(dialog).toContainText('critical policy');
  await expect(page.getByTestId('change-role-select')).toBeFocused();
  await page.getByTestId('change-role-select').selectOption('security-admin');
  await page.getByTestId('change-role-confirm').focus();
  await page.keyboard.press('Enter');

  const prompt = dialog.getByTestId('chain-prompt');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(1);
  await expect(prompt.getByTestId('chain-use-backup')).toHaveCount(0);
  // The chain pays for this role only: the choice holds still while it runs.
  await expect(page.getByTestId('change-role-select')).toBeDisabled();
  await typeStep(page, phones.wrong());
  await expect(prompt.getByTestId('chain-notice')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await expect(page.getByTestId('profile-role')).toHaveAttribute('data-role', 'admin');
  await passChain(page, phones);
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('profile-role')).toHaveAttribute('data-role', 'security-admin');

  // Escape closes the dialog and its chain with it.
  await page.getByTestId('change-role').click();
  await page.getByTestId('change-role-select').selectOption('admin');
  await page.getByTestId('change-role-confirm').click();
  await expect(dialog.getByTestId('chain-prompt')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);
  await expect(page.getByTestId('profile-role')).toHaveAttribute('data-role', 'security-admin');
});

/** The dialog with its chain open, at 1180 and 800 px and in Turkish, for a person to look at. */
async function shots(page: Page, name: string, prompt: ReturnType<Page['getByTestId']>): Promise<void> {
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath(`${name}-1180.png`) });
  await page.setViewportSize({ width: 800, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath(`${name}-800.png`) });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath(`${name}-800-tr.png`) });
  await page.setViewportSize({ width: 1180, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath(`${name}-1180-tr.png`) });
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  // The focus is still in the current step after the resizes and the language change.
  await expect(page.getByTestId('chain-code')).toBeFocused();
}
