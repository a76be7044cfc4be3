import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const screens = join(__dirname, '..', '..', 'test-results', 'screens');

async function open(page: Page, section: 'approvals' | 'factors' | 'audit' | 'settings'): Promise<void> {
  await page.getByTestId(`nav-${section}`).click();
}

async function chooseLanguage(page: Page, language: 'en' | 'tr'): Promise<void> {
  await open(page, 'settings');
  await page.getByTestId('language-select').selectOption(language);
  await expect(page.locator('html')).toHaveAttribute('lang', language);
}

test('the app opens on the approvals desk with its four sections', async ({ app }) => {
  const { page } = app;
  await expect(page.getByTestId('section-title')).toHaveText('Approvals');
  for (const name of ['Approvals', 'Factors', 'Audit', 'Settings']) {
    await expect(page.getByRole('button', { name, exact: true })).toBeVisible();
  }
  await expect(page.getByText('No restore requests are waiting.')).toBeVisible();
});

test('the audit view lists entries and shows a verified chain', async ({ app }) => {
  const { page } = app;
  // Two audited changes, made the way an approver makes them.
  await chooseLanguage(page, 'tr');
  await chooseLanguage(page, 'en');
  await open(page, 'audit');
  const status = page.getByTestId('audit-chain-status');
  await expect(status).toHaveAttribute('data-state', 'verified');
  await expect(status).toContainText('2 entries intact');
  await expect(page.getByTestId('audit-anchor-status')).toHaveAttribute('data-anchor', 'verified');
  await expect(page.getByTestId('audit-row')).toHaveCount(2);
  await expect(page.getByTestId('audit-row').first()).toContainText('settings_changed');
  mkdirSync(screens, { recursive: true });
  await page.screenshot({ path: join(screens, `audit-${app.launcher}.png`) });
});

test('switching to Turkish translates the screen and persists across a restart', async ({ app }) => {
  await chooseLanguage(app.page, 'tr');
  await expect(app.page.getByTestId('section-title')).toHaveText('Ayarlar');
  await expect(app.page.getByRole('button', { name: 'Denetim', exact: true })).toBeVisible();
  const page = await app.restart();
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
  await expect(page.getByTestId('section-title')).toHaveText('Onaylar');
  await expect(page.getByText('Bekleyen geri yükleme isteği yok.')).toBeVisible();
});

test('a malformed IPC call gets ERR-VALIDATION and changes nothing', async ({ app }) => {
  const { page } = app;
  await open(page, 'audit');
  await expect(page.getByTestId('audit-chain-status')).toHaveAttribute('data-state', 'verified');
  const result = await page.evaluate(async () => {
    const api = window.custodian as unknown as { settings: { setLanguage(l: unknown): Promise<unknown> } };
    const errors: unknown[] = [];
    for (const bad of ['xx', 42, null, { language: 'tr' }]) errors.push(await api.settings.setLanguage(bad).catch((e: unknown) => e));
    return { errors, settings: await window.custodian.settings.get(), audit: await window.custodian.audit.list() };
  });
  for (const error of result.errors) {
    expect(error).toMatchObject({ code: 'ERR-VALIDATION', message: expect.stringContaining('language') });
    expect(JSON.stringify(error)).not.toMatch(/\.ts:|at Object|stack/);
  }
  expect(result.settings).toEqual({ language: 'en', tokenTtl: { seconds: 900, source: 'default', variable: null } });
  expect(result.audit.total).toBe(0);
  await page.reload();
  await open(page, 'audit');
  await expect(page.getByTestId('audit-chain-status')).toHaveAttribute('data-state', 'verified');
  await expect(page.getByTestId('audit-row')).toHaveCount(0);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});

test('the renderer is sandboxed: no Node, a frozen API, no inline script', async ({ app }) => {
  const { page } = app;
  const probe = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true;';
    document.body.appendChild(script);
    return {
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      frozen: Object.isFrozen(window.custodian),
      channels: Object.keys(window.custodian).sort(),
      inlineRan: (window as { __inlineRan?: boolean }).__inlineRan === true,
    };
  });
  expect(probe).toEqual({
    require: 'undefined',
    process: 'undefined',
    frozen: true,
    channels: ['app', 'approvals', 'audit', 'backupCodes', 'chain', 'factors', 'gateway', 'incident', 'integrations', 'lock', 'policies', 'profile', 'push', 'requests', 'settings', 'sms', 'tokens'],
    inlineRan: false,
  });
});

test('every screen passes axe-core', async ({ app }) => {
  const { page } = app;
  for (const section of ['approvals', 'factors', 'audit', 'settings'] as const) {
    await open(page, section);
    await expect(page.getByTestId('section-title')).toBeVisible();
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${section}: ${v.id}`)).toEqual([]);
  }
});
