import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test, type AppUnderTest } from './fixtures';
import { addIntegration, runCustodian, sendRequest, shotPath } from './desk-helpers';

/**
 * A desk with something on every screen: a pending request, decided ones in the history, a
 * reported (muted) integration beside an active one, and the audit rows all that wrote.
 */
async function furnish(app: AppUnderTest): Promise<void> {
  const { page, env } = app;
  const nightly = await addIntegration(page, 'restic-nightly-db-cluster');
  const weekly = await addIntegration(page, 'borg-weekly');
  const denied = await sendRequest(env, nightly, {
    backup: 'snap-2026-11-24T02:00:00Z-db1-full',
    target: '/srv/restore/postgres/cluster-main/base',
    reason: 'restore drill',
    sensitivity: 'high',
    requester: 'backup@db1.corp.example',
  });
  expect((await runCustodian(['deny', denied], env)).status).toBe(0);
  const reported = await sendRequest(env, weekly, { backup: 'weekly-2026-47', target: '/home/alice', reason: 'unexpected', requester: 'borg@files2' });
  expect((await runCustodian(['deny', '--report', reported], env)).status).toBe(0);
  await sendRequest(env, nightly, {
    backup: 'snap-2026-11-24T02:00:00Z-db1-full',
    target: '/srv/restore/postgres/cluster-main/base',
    reason: 'the nightly run failed; restoring yesterday to compare',
    sensitivity: 'medium',
    requester: 'backup@db1.corp.example',
  });
}

/** The whole pane: the window grows to fit it for the shot, then goes back to its size. */
async function shoot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1180, height: 780 };
  const height = await page.locator('main').evaluate((pane) => pane.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.screenshot({ path: shotPath(name) });
  await page.setViewportSize(size);
}

/** How far an element's content runs past its box, in pixels (0 when it fits). */
function overflowX(page: Page, selector: string): Promise<number> {
  return page.locator(selector).first().evaluate((el) => el.scrollWidth - el.clientWidth);
}

/** Ids are one token on one line: never broken, never wrapped. */
async function expectIdsOnOneLine(page: Page, testId: string): Promise<void> {
  for (const id of await page.getByTestId(testId).all()) {
    const { whiteSpace, lines } = await id.evaluate((el) => ({
      whiteSpace: getComputedStyle(el).whiteSpace,
      lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight || '16')),
    }));
    expect(whiteSpace).toBe('nowrap');
    expect(lines).toBeLessThanOrEqual(1);
    expect(await id.getAttribute('title')).toBe(await id.textContent());
  }
}

async function shootAll(page: Page, width: number, suffix: string): Promise<void> {
  await page.getByTestId('nav-approvals').click();
  await expect(page.getByTestId('request-card')).toHaveCount(1);
  await shoot(page, `approvals-${suffix}.png`);
  expect(await overflowX(page, 'main')).toBe(0);

  await page.getByTestId('approvals-tab-history').click();
  await expect(page.getByTestId('history-row')).toHaveCount(2);
  await shoot(page, `history-${suffix}.png`);
  await expectIdsOnOneLine(page, 'history-id');
  // The window never scrolls sideways; at the default width the table fits its card, in a
  // narrower window it scrolls inside the card.
  expect(await overflowX(page, 'main')).toBe(0);
  if (width >= 1180) expect(await overflowX(page, '.table-scroll')).toBe(0);
  await page.getByTestId('approvals-tab-pending').click();

  await page.getByTestId('nav-audit').click();
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await shoot(page, `audit-${suffix}.png`);
  expect(await overflowX(page, 'main')).toBe(0);
  if (width >= 1180) expect(await overflowX(page, '.table-scroll')).toBe(0);

  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('integration-row')).toHaveCount(2);
  await shoot(page, `settings-${suffix}.png`);
  expect(await overflowX(page, 'main')).toBe(0);
  // Every button stays inside the integrations card.
  const card = await page.getByTestId('integrations-card').boundingBox();
  for (const button of await page.getByTestId('integrations-card').getByRole('button').all()) {
    const box = await button.boundingBox();
    expect(box && card && box.x + box.width <= card.x + card.width - 1).toBe(true);
  }
}

test('the desk at 1180 and 800 px wide, in English and Turkish', async ({ app }) => {
  const { page } = app;
  await furnish(app);
  for (const language of ['en', 'tr'] as const) {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('language-select').selectOption(language);
    await expect(page.locator('html')).toHaveAttribute('lang', language);
    for (const width of [1180, 800]) {
      await page.setViewportSize({ width, height: 780 });
      await shootAll(page, width, `${width}-${language}`);
    }
  }
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);
});
