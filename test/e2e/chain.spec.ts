import AxeBuilder from '@axe-core/playwright';
import { currentLabel, enrollTwo, Phones, shotPath, typeStep } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left after enrolling (the replay
// floor only moves forward) without the test waiting for the clock.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

test('a two-step chain passes through the prompt by keyboard, and a failed step sends it back to step 1', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  const backupCodes = await enrollTwo(page, phones);

  // The default critical policy: two distinct factors, drawn at random.
  const card = page.getByTestId('chain-test-card');
  await expect(card.getByTestId('chain-test-sensitivity')).toHaveValue('critical');
  await card.getByTestId('chain-test-start').click();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  const steps = prompt.getByTestId('chain-step');
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'current');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'locked');
  await expect(steps.nth(0)).toContainText('Authenticator app');
  await expect(page.getByTestId('chain-code')).toHaveAttribute('maxlength', '6');
  const seconds = Number(await prompt.getByTestId('countdown').getAttribute('data-seconds'));
  expect(seconds).toBeGreaterThan(40);
  // Main's clock offset is measured to within half an app:info round trip: a second either way.
  expect(seconds).toBeLessThanOrEqual(61);
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-prompt-1180.png') });
  expect((await new AxeBuilder({ page }).include('[data-testid="chain-test-card"]').analyze()).violations.map((v) => v.id)).toEqual([]);

  // Pass: the focus moves to each current step; Enter submits. A backup code stands in for step 1,
  // and the backup-code count on this same screen follows.
  await page.getByTestId('chain-use-backup').click();
  await typeStep(page, backupCodes[1] ?? '');
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'done');
  await expect(page.getByTestId('backup-remaining')).toHaveAttribute('data-remaining', '9');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'current');
  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(prompt).toHaveAttribute('data-status', 'completed');
  await expect(page.getByTestId('chain-completed')).toBeVisible();
  await expect(page.getByTestId('chain-again')).toBeFocused();

  // A new attempt: step 1 passes, a wrong code at step 2 sends the chain back to step 1.
  await page.keyboard.press('Enter');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt).toHaveAttribute('data-position', '0');
  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(prompt).toHaveAttribute('data-position', '1');
  await typeStep(page, phones.wrong());
  await expect(page.getByTestId('chain-notice')).toHaveAttribute('data-notice', 'reset');
  await expect(page.getByTestId('chain-notice')).toContainText('went back to step 1');
  await expect(prompt).toHaveAttribute('data-position', '0');
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'current');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'locked');
  await expect(page.getByTestId('chain-notice')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await expect(page.getByTestId('chain-code')).toBeFocused();
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-1180.png') });

  await page.setViewportSize({ width: 800, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(page.getByTestId('chain-notice')).toContainText('1. adıma döndü');
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-800-tr.png') });
  await page.setViewportSize({ width: 1180, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-1180-tr.png') });

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 100 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_chain_started', 'mfa_chain_completed', 'mfa_chain_step_failed', 'mfa_chain_reset']));
});

test('the Policies screen lists the four policies, and weakening one takes a critical chain first', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  const backupCodes = await enrollTwo(page, phones);

  await page.getByTestId('nav-policies').click();
  const rows = page.getByTestId('policy-row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(3)).toHaveAttribute('data-sensitivity', 'critical');
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('2 steps, in a random order, 60 s');
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);

  // Fewer steps is weaker: the save asks for a chain at the critical policy, then saves.
  await rows.nth(3).getByTestId('policy-edit').click();
  await page.getByTestId('policy-steps').selectOption('1');
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-weaker')).toBeVisible();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policies-weaken-chain-1180.png') });
  // A backup code stands in for step 1, once: step 2 offers no backup code.
  await page.getByTestId('chain-use-backup').click();
  await typeStep(page, backupCodes[0] ?? '');
  await expect(prompt).toHaveAttribute('data-position', '1');
  await expect(page.getByTestId('chain-use-backup')).toHaveCount(0);

  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(page.getByTestId('policies-status')).toContainText('Critical');
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('1 step, in a random order');
  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 100 }));
  expect(audit.entries.map((e) => e.event)).toEqual(expect.arrayContaining(['mfa_chain_completed', 'mfa_step_up_used', 'mfa_policy_changed']));
  expect(JSON.stringify(audit.entries)).not.toContain(backupCodes[0] ?? 'none');

  // A stronger change needs no chain.
  await rows.nth(3).getByTestId('policy-edit').click();
  await page.getByTestId('policy-steps').selectOption('2');
  await page.getByTestId('policy-save').click();
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('2 steps');
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);

  // The backup code used in the chain is gone from the count the Factors screen shows.
  await page.getByTestId('nav-factors').click();
  await expect(page.getByTestId('backup-remaining')).toHaveAttribute('data-remaining', '9');
});
