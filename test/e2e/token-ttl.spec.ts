import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { enrollTwo, passChain, Phones, runCustodian, shotPath } from './desk-helpers';
import { expect, test } from './fixtures';

// Issue 11: the restore token TTL on the Settings screen. Shorter is saved at once; longer takes
// the critical chain for `settings:token-ttl` through the one step-up prompt; a change from a
// shell shows in the window; pinned by the environment, the card is read-only.
// Two time steps either side, so each factor has unused codes left after enrolling.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

async function openSettings(page: Page): Promise<void> {
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('section-title')).toHaveText('Settings');
}

async function shootCard(page: Page, name: string): Promise<void> {
  const card = page.getByTestId('token-ttl-card');
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: shotPath(name) });
}

test('the Restore tokens card: a shorter TTL is saved at once, a longer one after the critical chain', async ({ app }) => {
  const { page, env } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await openSettings(page);

  const card = page.getByTestId('token-ttl-card');
  const select = card.getByTestId('token-ttl-select');
  await expect(card.getByRole('heading', { name: 'Restore tokens' })).toBeVisible();
  await expect(select).toHaveValue('900');
  await expect(select.locator('option:checked')).toHaveText('15 min');
  await expect(card.getByTestId('token-ttl-source')).toHaveText('Now 15 min: the default.');
  await expect(card.getByTestId('token-ttl-save')).toBeDisabled();

  // Shorter: saved on the first press, no chain.
  await select.selectOption('300');
  await expect(card.getByTestId('token-ttl-longer')).toHaveCount(0);
  await card.getByTestId('token-ttl-save').click();
  await expect(card.getByTestId('token-ttl-saved')).toHaveText('Saved: tokens issued from now on work for 5 min.');
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);
  await expect(card.getByTestId('token-ttl-source')).toHaveText('Now 5 min: set on this desk.');
  expect((await new AxeBuilder({ page }).include('[data-testid="token-ttl-card"]').analyze()).violations.map((v) => v.id)).toEqual([]);

  // Longer: main asks for the step-up; the chain prompt at the critical policy, then it is saved.
  await select.selectOption('3600');
  await expect(card.getByTestId('token-ttl-longer')).toHaveText(/A longer lifetime takes a verification chain at the critical policy/);
  await shootCard(page, 'token-ttl-1180.png');
  await card.getByTestId('token-ttl-save').click();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await expect(select).toBeDisabled();
  await shootCard(page, 'token-ttl-chain-1180.png');
  await passChain(page, phones);
  await expect(card.getByTestId('token-ttl-saved')).toHaveText('Saved: tokens issued from now on work for 1 h.');
  await expect(prompt).toHaveCount(0);
  await expect(select).toHaveValue('3600');
  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 20 }));
  const changes = audit.entries.filter((e) => e.event === 'settings_changed' && e.subject === 'restoreTokens.ttlSeconds');
  expect(changes.map((e) => e.data)).toEqual([
    { from: 300, to: 3600, source: 'desktop', stepUp: 'settings:token-ttl' },
    { from: 900, to: 300, source: 'desktop' },
  ]);

  // A shell on the same data directory changes it: the window follows on the app's next tick.
  const shell = await runCustodian(['settings', 'token-ttl', '120'], env);
  expect(shell.status, shell.stderr).toBe(0);
  await expect(select).toHaveValue('120');
  await expect(select.locator('option:checked')).toHaveText('2 min');
  await expect(card.getByTestId('token-ttl-source')).toHaveText('Now 2 min: set on this desk.');
  // The window's "Saved" line was about 1 h: no longer true, so gone.
  await expect(card.getByTestId('token-ttl-saved')).toBeEmpty();

  await page.setViewportSize({ width: 800, height: 780 });
  await shootCard(page, 'token-ttl-800.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(card.getByRole('heading', { name: 'Geri yükleme belirteçleri' })).toBeVisible();
  await select.selectOption('14400');
  await expect(card.getByTestId('token-ttl-longer')).toBeVisible();
  await shootCard(page, 'token-ttl-800-tr.png');
  await page.setViewportSize({ width: 1180, height: 780 });
  await shootCard(page, 'token-ttl-1180-tr.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
});

test.describe('pinned by the environment', () => {
  test.use({ appEnv: { RESTORE_ACCESS_TOKEN_TTL_SECONDS: '600' } });

  test('the card shows the value and the variable, read-only', async ({ app }) => {
    const { page } = app;
    await openSettings(page);
    const card = page.getByTestId('token-ttl-card');
    await expect(card.getByTestId('token-ttl-select')).toHaveValue('600');
    await expect(card.getByTestId('token-ttl-select')).toBeDisabled();
    await expect(card.getByTestId('token-ttl-source')).toHaveText('Now 10 min: set by the environment variable RESTORE_ACCESS_TOKEN_TTL_SECONDS. Change it there, then restart.');
    await expect(card.getByTestId('token-ttl-save')).toHaveCount(0);
    await shootCard(page, 'token-ttl-pinned-1180.png');
    const refused = await page.evaluate(() => window.custodian.settings.setTokenTtl(60).catch((e: unknown) => e));
    expect(refused).toMatchObject({ code: 'ERR-SETTING-PINNED' });
  });
});
