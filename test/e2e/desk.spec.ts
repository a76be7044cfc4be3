import { expect, test } from './fixtures';
import { oathtool } from '../fixtures/otp';
import { addIntegration, createProfile, enrollFirstFactor, runCustodian, sendRequest, shotPath } from './desk-helpers';

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

test('the waiting requests show beside Approvals, in the title and on the lock screen, and only their number while locked', async ({ app }) => {
  const { page, env } = app;
  await createProfile(page);
  const secret = await enrollFirstFactor(page);
  const key = await addIntegration(page, 'restic-nightly');
  const badge = page.getByTestId('nav-pending-count');
  await expect(badge).toHaveCount(0);
  await expect(page).toHaveTitle('Custodian');

  const first = await sendRequest(env, key, { backup: 'snap-1', target: '/srv/restore', reason: 'drill' });
  const second = await sendRequest(env, key, { backup: 'snap-2', target: '/srv/restore', reason: 'drill' });
  // On Settings, not Approvals: the sign is there whichever section is open.
  await expect(badge).toHaveText('22 requests waiting');
  await expect(page.getByRole('button', { name: 'Approvals 2 requests waiting' })).toBeVisible();
  await expect(page).toHaveTitle('(2) Custodian');
  // On the narrow icon rail the count sits on the icon's corner.
  await page.setViewportSize({ width: 700, height: 780 });
  await expect(badge).toBeInViewport();
  await page.screenshot({ path: shotPath('sidebar-count-700-en.png') });
  await page.setViewportSize({ width: 1180, height: 780 });

  await page.getByTestId('lock-now').click();
  const waiting = page.getByTestId('lock-pending');
  await expect(waiting).toHaveText('2 restore requests are waiting.');
  await expect(page).toHaveTitle('(2) Custodian');
  await page.screenshot({ path: shotPath('lock-pending-1180-en.png') });
  // The count follows arrivals and decisions made elsewhere while locked.
  const third = await sendRequest(env, key, { backup: 'snap-3', target: '/srv/restore', reason: 'drill' });
  await expect(waiting).toHaveText('3 restore requests are waiting.');
  expect((await runCustodian(['deny', first], env)).status).toBe(0);
  await expect(waiting).toHaveText('2 restore requests are waiting.');
  await expect(page).toHaveTitle('(2) Custodian');
  // Nothing about the requests themselves reaches the locked window.
  expect(await page.content()).not.toContain(third);
  await expect(page.getByTestId('request-card')).toHaveCount(0);

  await page.getByTestId('lock-code').fill(oathtool(secret, Date.now() + 30_000));
  await page.getByTestId('lock-submit').click();
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(badge).toHaveText('22 requests waiting');
  await page.getByTestId('nav-approvals').click();
  await expect(page.getByTestId('request-card')).toHaveCount(2);
  const shown = await page.getByTestId('request-card').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-id')));
  expect(shown.sort()).toEqual([second, third].sort());
});

test('each request shows its id on its card and in the history, and a click copies it', async ({ app }) => {
  const { page, env } = app;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  const key = await addIntegration(page, 'restic-nightly');
  const id = await sendRequest(env, key, { backup: 'snap-1', target: '/srv/restore', reason: 'drill' });
  await page.getByTestId('nav-approvals').click();
  const card = page.getByTestId('request-card');
  await expect(card.getByTestId('request-id')).toHaveText(id);
  await card.getByRole('button', { name: `Copy ${id}` }).click();
  await expect(card.getByRole('status').filter({ hasText: 'Copied to the clipboard.' })).toHaveCount(1);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);

  // The id is what `custodian deny` takes.
  expect((await runCustodian(['deny', id], env)).status).toBe(0);
  await page.getByTestId('approvals-tab-history').click();
  await expect(page.getByTestId('history-row').getByTestId('history-id')).toHaveText(id);
});

test('a reported integration can be unmuted from Settings, and sends requests again', async ({ app }) => {
  const { page, env } = app;
  const key = await addIntegration(page, 'borg-weekly');
  const id = await sendRequest(env, key, { backup: 'snap-1', target: '/srv', reason: 'unexpected' });
  await page.getByTestId('nav-approvals').click();
  await page.getByTestId('request-card').getByTestId('request-report').click();
  await page.getByTestId('confirm-report-confirm').click();
  await expect(page.getByTestId('request-card')).toHaveCount(0);
  const refused = await runCustodian(['request', '--no-wait', '--backup', 'snap-2', '--target', '/srv', '--reason', 'again'], { ...env, CUSTODIAN_API_KEY: key });
  expect(refused.status).toBe(1);

  await page.getByTestId('nav-settings').click();
  const row = page.getByTestId('integration-row');
  await expect(row).toContainText('Muted until');
  await row.getByRole('button', { name: 'Unmute borg-weekly' }).click();
  await expect(row).toContainText('Active');
  await expect(row.getByTestId('integration-unmute')).toHaveCount(0);
  expect(id).toMatch(/^req_/);
  await sendRequest(env, key, { backup: 'snap-3', target: '/srv', reason: 'after unmute' });

  await page.getByTestId('nav-audit').click();
  await expect(page.getByTestId('audit-event-label').filter({ hasText: 'Integration unmuted' })).toHaveCount(1);
});
