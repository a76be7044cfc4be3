import AxeBuilder from '@axe-core/playwright';
import { createProfile, enrollPush, enrollTwo, highTakesPush, Phones, shell, shotPath } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left after enrolling (the replay
// floor only moves forward) without the test waiting for the clock.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

test('a push factor enrolled in the window answers a chain started in a shell', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await enrollPush(page, phones, 'Desk');
  await highTakesPush(page);

  const run = shell(['verify', '--sensitivity', 'high'], app.env);
  const [, shown] = await run.printed(/pick (\d{2}) there/);
  const prompt = page.getByTestId('push-prompt');
  await expect(prompt).toBeVisible();
  await expect(prompt.getByTestId('push-purpose')).toHaveText('Test the verification chain of the High policy');
  await expect(prompt.getByTestId('push-source')).toHaveText('A shell on this computer');
  await expect(prompt.getByTestId('push-started-by')).toHaveText('alice@corp');
  await expect(prompt.getByTestId('push-sensitivity')).toHaveText('High');
  // Started in the shell: the number is read there only.
  await expect(prompt.getByTestId('push-shown-here')).toHaveCount(0);
  const offered = await prompt.getByTestId('push-number').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-number')));
  expect(offered).toContain(shown);
  expect((await new AxeBuilder({ page }).include('[data-testid="push-prompt"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.screenshot({ path: shotPath('push-prompt-1180.png') });
  await page.setViewportSize({ width: 800, height: 780 });
  await page.screenshot({ path: shotPath('push-prompt-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(prompt.getByTestId('push-source')).toHaveText('Bu bilgisayardaki bir kabuk (terminal)');
  await page.screenshot({ path: shotPath('push-prompt-800-tr.png') });
  await page.setViewportSize({ width: 1180, height: 780 });
  await page.screenshot({ path: shotPath('push-prompt-1180-tr.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));

  // By keyboard: Tab from the text reaches the numbers in order.
  const index = offered.indexOf(shown ?? '');
  for (let i = 0; i <= index; i += 1) await page.keyboard.press('Tab');
  await expect(prompt.locator(`[data-testid="push-number"][data-number="${shown ?? ''}"]`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(prompt).toBeHidden();
  const result = await run.done;
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toContain('a push was raised in the Custodian window');
});

test('a wrong pick fails the shell\'s chain and counts; deny and report fails it and is a security event', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await enrollPush(page, phones, 'Desk');
  await highTakesPush(page);
  const prompt = page.getByTestId('push-prompt');

  // A wrong number: the step fails where it started, and the prompt says it was counted.
  const wrong = shell(['verify', '--sensitivity', 'high'], app.env);
  const [, shown] = await wrong.printed(/pick (\d{2}) there/);
  await expect(prompt).toBeVisible();
  await prompt.locator(`[data-testid="push-number"]:not([data-number="${shown ?? ''}"])`).first().click();
  await expect(prompt.getByTestId('push-result')).toHaveAttribute('data-outcome', 'mismatched');
  await expect(prompt.getByTestId('push-result')).toContainText('counts as a failed attempt');
  await expect(prompt.getByTestId('push-result-close')).toBeFocused();
  const failed = await wrong.done;
  expect(failed.status).toBe(1);
  expect(failed.stderr).toContain('the chain was reset to step 1');
  await page.keyboard.press('Enter');
  await expect(prompt).toBeHidden();

  // Deny and report: the shell hears ERR-MFA-PUSH-DENIED's message.
  const denied = shell(['verify', '--sensitivity', 'high'], app.env);
  await denied.printed(/pick (\d{2}) there/);
  await expect(prompt).toBeVisible();
  await prompt.getByTestId('push-deny').click();
  await expect(prompt.getByTestId('push-result')).toHaveAttribute('data-outcome', 'denied');
  const deniedRun = await denied.done;
  expect(deniedRun.status).toBe(1);
  expect(deniedRun.stderr).toContain('The push was denied in the Custodian window and reported as a security event.');
  await prompt.getByTestId('push-result-close').click();
  await expect(prompt).toBeHidden();

  await page.getByTestId('nav-audit').click();
  await expect(page.getByTestId('audit-row').filter({ hasText: 'mfa_push_mismatched' })).toHaveCount(1);
  await expect(page.getByTestId('audit-row').filter({ hasText: 'mfa_push_denied' })).toHaveCount(1);
  await expect(page.getByTestId('audit-row').filter({ hasText: 'Push denied and reported' })).toHaveCount(1);
});

test('the chain prompt raises its push step by itself and passes once the number is picked', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await enrollPush(page, phones, 'Desk');
  await highTakesPush(page);

  const card = page.getByTestId('chain-test-card');
  await card.getByTestId('chain-test-sensitivity').selectOption('high');
  await card.getByTestId('chain-test-start').click();
  const chain = page.getByTestId('chain-prompt');
  await expect(chain).toHaveAttribute('data-status', 'open');
  const number = (await chain.getByTestId('push-wait-number').textContent()) ?? '';
  expect(number).toMatch(/^\d{2}$/);
  const prompt = page.getByTestId('push-prompt');
  await expect(prompt).toBeVisible();
  await expect(prompt.getByTestId('push-source')).toHaveText('This window');
  await expect(prompt.getByTestId('push-shown-here')).toContainText(`shows ${number} under this prompt`);
  await page.screenshot({ path: shotPath('push-step-with-prompt-1180.png') });

  // A denial sends the chain back with its notice; the next push is sent by hand.
  await prompt.getByTestId('push-deny').click();
  await expect(chain.getByTestId('chain-notice')).toHaveAttribute('data-notice', 'denied');
  await prompt.getByTestId('push-result-close').click();
  await expect(prompt).toBeHidden();
  await expect(chain.getByTestId('chain-push-send')).toBeFocused();
  await chain.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('push-step-denied-1180.png') });
  await page.keyboard.press('Enter');
  const again = (await chain.getByTestId('push-wait-number').textContent()) ?? '';
  await expect(prompt).toBeVisible();
  // The step behind the prompt, as the approver reads it (the prompt set aside for the picture).
  await prompt.evaluate((dialog: HTMLDialogElement) => (dialog.style.display = 'none'));
  await chain.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('push-step-1180.png') });
  await page.setViewportSize({ width: 800, height: 780 });
  await chain.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('push-step-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(chain.getByTestId('push-wait')).toContainText('Anlık bildirimde bu sayıyı seçin');
  await expect(chain.getByTestId('chain-notice')).toHaveCount(0);
  await page.screenshot({ path: shotPath('push-step-800-tr.png') });
  await page.setViewportSize({ width: 1180, height: 780 });
  await page.screenshot({ path: shotPath('push-step-1180-tr.png') });
  await prompt.evaluate((dialog: HTMLDialogElement) => (dialog.style.display = ''));
  await expect(prompt).toBeVisible();
  await prompt.locator(`[data-testid="push-number"][data-number="${again}"]`).click();
  await expect(chain).toHaveAttribute('data-status', 'completed');
});

test('the first factor cannot be a push factor: the lock screen needs a code', async ({ app }) => {
  const { page } = app;
  await createProfile(page);
  await expect(page.getByTestId('enroll-label')).toBeVisible();
  await expect(page.getByTestId('enroll-method-push')).toHaveCount(0);
});
