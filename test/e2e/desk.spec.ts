import { expect, test } from './fixtures';
import { addIntegration, createProfile, runCustodian } from './desk-helpers';

test('in Turkish, the revoke confirmation tells Cancel from Revoke, and the audit log names events in words', async ({ app }) => {
  const { page } = app;
  await addIntegration(page, 'restic-nightly');
  await page.getByTestId('language-select').selectOption('tr');
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');

  await page.getByTestId('integration-revoke').click();
  const dialog = page.getByTestId('confirm-revoke');
  await expect(dialog.getByTestId('confirm-revoke-cancel')).toHaveText('Vazgeç');
  await expect(dialog.getByTestId('confirm-revoke-confirm')).toHaveText('Erişimi kaldır');
  await dialog.getByTestId('confirm-revoke-cancel').click();
  await expect(dialog).toHaveCount(0);

  await page.getByTestId('nav-audit').click();
  const newest = page.getByTestId('audit-row').first();
  await expect(newest.getByTestId('audit-event-label')).toHaveText('Ayar değiştirildi');
  // The stored name stays on screen, for whoever greps an export for it.
  await expect(newest.locator('code.event-raw')).toHaveText('settings_changed');
  await expect(page.getByTestId('audit-row').last().getByTestId('audit-event-label')).toHaveText('Entegrasyon eklendi');
});

test('each section opens at its top, wherever the previous one was scrolled to', async ({ app }) => {
  const { page } = app;
  await page.setViewportSize({ width: 1180, height: 320 });
  const pane = page.getByTestId('pane');
  // Both screens are taller than the window, so the pane could keep a scroll position.
  await expect.poll(() => pane.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeGreaterThan(150);
  await page.getByTestId('nav-settings').click();
  await pane.evaluate((el) => el.scrollTo({ top: 150 }));
  await expect.poll(() => pane.evaluate((el) => el.scrollTop)).toBe(150);

  await page.getByTestId('nav-approvals').click();
  await expect(page.getByTestId('section-title')).toHaveText('Approvals');
  expect(await pane.evaluate((el) => el.scrollTop)).toBe(0);
  await expect(page.getByTestId('section-title')).toBeInViewport();
});

test('the Factors screen shows a factor enrolled from a shell, without a reload', async ({ app }) => {
  const { page, env } = app;
  await createProfile(page);
  await page.getByTestId('onboarding-skip').click();
  await page.getByTestId('nav-factors').click();
  await expect(page.getByTestId('factor-row')).toHaveCount(0);

  const enrolled = await runCustodian(['factors', 'enroll', '--label', 'Shell phone', '--json'], env);
  expect(enrolled.status, enrolled.stderr).toBe(0);
  const { id } = JSON.parse(enrolled.stdout) as { id: string };

  const row = page.getByTestId('factor-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-factor-id', id);
  await expect(row).toContainText('Shell phone');
  await expect(row).toHaveAttribute('data-state', 'pending');
});
