import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { currentLabel, enrollTwo, passChain, Phones, shotPath, typeStep } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left after enrolling (see chain.spec.ts).
// SMS and push turned off: the Policies form says so beside each (issue 12).
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2', MFA_METHODS: 'totp' } });

/** The labels of the factor list's rows, top to bottom, and which are checked. */
async function factorRows(page: Page): Promise<string[]> {
  const rows = page.getByTestId('policy-factor');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i += 1) {
    const row = rows.nth(i);
    const label = ((await row.locator('bdi').textContent()) ?? '').trim();
    out.push(`${label}${(await row.getAttribute('data-checked')) === 'true' ? ' ✓' : ''}`);
  }
  return out;
}

test('a policy names its factors in a fixed order: narrowing saves at once and its chain asks for that factor; widening back takes the critical chain', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  const factorIds = await page.evaluate(async () => {
    const { factors } = await window.custodian.factors.list();
    return Object.fromEntries(factors.map((f) => [f.label, f.id]));
  });

  await page.getByTestId('nav-policies').click();
  const medium = page.locator('[data-testid="policy-row"][data-sensitivity="medium"]');
  await expect(medium).toContainText('Eligible: Authenticator app');
  await medium.getByTestId('policy-edit').click();
  const form = page.getByTestId('policy-form');

  // By type: only the types this build can enroll may be chosen; the others say why not.
  const eligible = form.getByTestId('policy-eligible');
  await expect(eligible.getByTestId('policy-eligible-types')).toBeChecked();
  const totp = eligible.locator('[data-testid="policy-type"][data-type="totp"]');
  await expect(totp.getByRole('checkbox')).toBeChecked();
  await expect(totp).toContainText('2 active');
  for (const [type, why] of [
    ['sms', 'Turned off on this desk (MFA_METHODS)'],
    ['push', 'Turned off on this desk (MFA_METHODS)'],
  ] as const) {
    const row = eligible.locator(`[data-testid="policy-type"][data-type="${type}"]`);
    // The default below critical admits them (issue 12) though this desk turned them off:
    // checked, free to be unchecked, never checked again.
    await expect(row.getByRole('checkbox')).toBeChecked();
    await expect(row.getByRole('checkbox')).toBeEnabled();
    await expect(row).toContainText(why);
  }
  await expect(form.getByTestId('policy-satisfiable')).toHaveAttribute('data-met', 'true');
  await expect(form.getByTestId('policy-satisfiable')).toHaveText('Enough factors: 2 eligible and active, 1 needed.');
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-types-1180.png') });

  // "Only these factors" starts from the factors the types admit now: the same chain, not weaker.
  await eligible.getByTestId('policy-eligible-ids').check();
  expect(await factorRows(page)).toEqual(['Work phone ✓', 'Tablet ✓']);
  await expect(form.getByTestId('policy-weaker-preview')).toHaveCount(0);

  // Keyboard only: Tab from Tablet's checkbox to its "move up" button, Enter moves it to the top,
  // and the focus stays on that button (now at the end of its travel).
  const tablet = page.locator(`[data-testid="policy-factor"][data-factor="${factorIds['Tablet']}"]`);
  await tablet.getByTestId('policy-factor-check').focus();
  await page.keyboard.press('Tab');
  await expect(tablet.getByTestId('policy-factor-up')).toBeFocused();
  await expect(tablet.getByTestId('policy-factor-up')).toHaveAccessibleName('Move Tablet up');
  await page.keyboard.press('Enter');
  expect(await factorRows(page)).toEqual(['Tablet ✓', 'Work phone ✓']);
  await expect(tablet.getByTestId('policy-factor-up')).toBeFocused();
  await expect(tablet.getByTestId('policy-factor-up')).toHaveAttribute('aria-disabled', 'true');
  // At the top, "up" does nothing.
  await page.keyboard.press('Enter');
  expect(await factorRows(page)).toEqual(['Tablet ✓', 'Work phone ✓']);

  expect((await new AxeBuilder({ page }).include('[data-testid="policy-form"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-eligible-1180.png') });
  await page.setViewportSize({ width: 800, height: 780 });
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-eligible-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(tablet.getByTestId('policy-factor-up')).toHaveAccessibleName('Yukarı taşı: Tablet');
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-eligible-800-tr.png') });
  await page.setViewportSize({ width: 1180, height: 780 });
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-eligible-1180-tr.png') });
  expect((await new AxeBuilder({ page }).include('[data-testid="policy-form"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));

  // Uncheck Work phone (Space on its checkbox): Tablet alone.
  const workPhone = page.locator(`[data-testid="policy-factor"][data-factor="${factorIds['Work phone']}"]`);
  await workPhone.getByTestId('policy-factor-check').focus();
  await page.keyboard.press('Space');
  expect(await factorRows(page)).toEqual(['Tablet ✓', 'Work phone']);
  await expect(form.getByTestId('policy-satisfiable')).toHaveText('Enough factors: 1 eligible and active, 1 needed.');

  // Two steps from one factor: the form says so live, and main refuses it when saved.
  await form.getByTestId('policy-steps').selectOption('2');
  await expect(form.getByTestId('policy-satisfiable')).toHaveAttribute('data-met', 'false');
  await expect(form.getByTestId('policy-satisfiable')).toContainText('Not enough factors: 1 eligible and active, 2 needed.');
  await form.getByTestId('policy-save').click();
  await expect(form.getByTestId('form-error')).toHaveAttribute('data-code', 'ERR-MFA-POLICY-UNSATISFIABLE');
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);
  await form.getByTestId('policy-steps').selectOption('1');

  // Nothing checked: Save waits.
  await tablet.getByTestId('policy-factor-check').uncheck();
  await expect(form.getByTestId('policy-satisfiable')).toHaveText('Choose at least one.');
  await expect(form.getByTestId('policy-save')).toBeDisabled();
  await tablet.getByTestId('policy-factor-check').check();

  // Fewer factors is stronger: saved at once, without a chain.
  await expect(form.getByTestId('policy-weaker-preview')).toHaveCount(0);
  await form.getByTestId('policy-save').click();
  await expect(page.getByTestId('policies-status')).toContainText('Medium');
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);
  await expect(medium.getByTestId('policy-eligible-factors')).toHaveText('Tablet');
  await expect(medium).toContainText('Eligible, in this order: Tablet');
  await medium.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-summary-ids-1180.png') });
  const saved = await page.evaluate(() => window.custodian.policies.list());
  expect(saved.find((p) => p.sensitivity === 'medium')?.eligible).toEqual({ by: 'ids', ids: [factorIds['Tablet']] });

  // A test chain at medium asks for Tablet, and only Tablet.
  await page.getByTestId('nav-factors').click();
  const card = page.getByTestId('chain-test-card');
  await card.getByTestId('chain-test-sensitivity').selectOption('medium');
  await card.getByTestId('chain-test-start').click();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(1);
  await expect(prompt.getByTestId('chain-step')).toHaveAttribute('data-factor', factorIds['Tablet'] ?? '');
  expect(await currentLabel(page)).toBe('Tablet');
  await typeStep(page, phones.code('Tablet'));
  await expect(prompt).toHaveAttribute('data-status', 'completed');
  await page.getByTestId('chain-close').click();

  // Back to "any authenticator app": it admits Work phone again, a weakening. The form says so
  // before saving, and the save asks for the critical chain first.
  await page.getByTestId('nav-policies').click();
  await medium.getByTestId('policy-edit').click();
  await form.getByTestId('policy-eligible-types').check();
  await expect(form.getByTestId('policy-weaker-preview')).toHaveAttribute('data-weakenings', 'more-factors');
  await expect(form.getByTestId('policy-weaker-preview')).toContainText('factors it did not admit before');
  await form.getByTestId('policy-save').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policy-weaker-preview-1180.png') });
  await form.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-weaker')).toBeVisible();
  // Two steps: the critical policy's chain, not medium's one.
  await expect(page.getByTestId('chain-prompt').getByTestId('chain-step')).toHaveCount(2);
  await passChain(page, phones);
  await expect(page.getByTestId('policies-status')).toContainText('Medium');
  await expect(medium).toContainText('Eligible: Authenticator app');

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 100 }));
  const changes = audit.entries.filter((e) => e.event === 'mfa_policy_changed');
  expect(changes.map((e) => e.data['weaker'] ?? null)).toEqual(expect.arrayContaining([null, 'more-factors']));
});
