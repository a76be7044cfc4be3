import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { currentLabel, enrollTwo, Phones, runCustodian, shotPath, typeStep } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left after enrolling.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

/** The whole window, grown to fit the pane, then back to its size. */
async function shoot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1180, height: 780 };
  const height = await page.locator('main').evaluate((pane) => pane.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height + 80) });
  await page.screenshot({ path: shotPath(name) });
  await page.setViewportSize(size);
}

test('incident mode: on at once with a banner on every screen; off through the critical chain, then the banner is gone', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);

  await page.getByTestId('nav-approvals').click();
  const toggle = page.getByRole('switch', { name: 'Incident mode' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByTestId('incident-banner')).toHaveCount(0);

  // On: one press, from the keyboard.
  await toggle.focus();
  await page.keyboard.press('Space');
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  const banner = page.getByTestId('incident-banner');
  await expect(banner).toContainText('Incident mode is on: restores at high sensitivity and above are denied.');
  await expect(banner).toContainText('alice@corp');
  await expect(page.getByTestId('incident-status')).toHaveText('Incident mode is on.');
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);

  await shoot(page, 'approvals-incident-1180.png');
  await page.setViewportSize({ width: 800, height: 780 });
  await shoot(page, 'approvals-incident-800.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(banner).toContainText('Olay modu açık');
  await expect(page.getByRole('switch', { name: 'Olay modu' })).toHaveAttribute('aria-checked', 'true');
  await shoot(page, 'approvals-incident-800-tr.png');
  await page.setViewportSize({ width: 1180, height: 780 });
  await shoot(page, 'approvals-incident-1180-tr.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));

  // Every screen shows it, with a way back to the switch.
  await page.getByTestId('nav-audit').click();
  await expect(banner).toBeVisible();
  await page.getByTestId('incident-banner-open').click();
  await expect(page.getByTestId('section-title')).toHaveText('Approvals');
  await expect(page.getByTestId('incident-banner-open')).toHaveCount(0);

  // Off: main asks for a step-up; the one chain prompt runs at the critical policy, then it is off.
  await toggle.click();
  await expect(page.getByTestId('incident-needs-chain')).toBeVisible();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await expect(toggle).toBeDisabled();
  await expect(banner).toBeVisible();
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('approvals-incident-chain-1180.png') });
  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(prompt).toHaveAttribute('data-position', '1');
  await typeStep(page, phones.code(await currentLabel(page)));

  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(banner).toHaveCount(0);
  await expect(prompt).toHaveCount(0);
  await expect(page.getByTestId('incident-status')).toHaveText('Incident mode is off.');
  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 20 }));
  const events = audit.entries.map((e) => e.event);
  expect(events.slice(0, 3)).toEqual(['incident_mode_off', 'mfa_step_up_used', 'mfa_chain_completed']);
  expect(events).toContain('incident_mode_on');
});

test('the window follows incident mode turned on by another process', async ({ app }) => {
  const { page, env } = app;
  await expect(page.getByTestId('section-title')).toHaveText('Approvals');
  await expect(page.getByTestId('incident-banner')).toHaveCount(0);
  const on = await runCustodian(['incident', 'on'], env);
  expect(on.status, on.stderr).toBe(0);
  // The app notices the shell's commit through data_version on its shared tick, and tells the window.
  await expect(page.getByTestId('incident-banner')).toBeVisible();
  await expect(page.getByRole('switch', { name: 'Incident mode' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('incident-banner')).toContainText(/cli:/);
});
