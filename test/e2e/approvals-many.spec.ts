import type { Page } from '@playwright/test';
import { http, validRequest } from '../fixtures/gateway-client';
import { expect, test, type AppUnderTest } from './fixtures';
import { addIntegration, shotPath } from './desk-helpers';

// Issue 13, item 8: the Approvals screen with 1,000 pending requests, made through the gateway.
// A burst big enough for them all, and a timeout long enough to outlast the spec.
const COUNT = 1000;
test.use({ appEnv: { CUSTODIAN_GATEWAY_RATE_LIMIT_BURST: String(COUNT * 2), CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600' } });

async function fill(app: AppUnderTest, count: number): Promise<void> {
  const key = await addIntegration(app.page, 'restic-fleet');
  let next = 0;
  // Twenty requesters at a time, as a fleet of backup tools would send them.
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < count) {
        const i = next++;
        const answer = await http({ port: app.gatewayPort, path: '/v1/restore-requests', key, body: { ...validRequest, backupId: `snap-${i}`, requester: `backup@host${i}` } });
        expect(answer.status, answer.text).toBe(202);
      }
    }),
  );
}

const cards = (page: Page) => page.getByTestId('request-card');
const row = (page: Page, position: number) => page.locator(`[data-testid="request-list"] > li[aria-posinset="${position}"]`);

test('1,000 pending requests: a windowed list that scrolls to the last, moves by keyboard and counts down', async ({ app }) => {
  // A thousand fsynced arrivals and a thousand cards' worth of lists take their time on a busy machine.
  test.setTimeout(300_000);
  const { page } = app;
  await fill(app, COUNT);
  await page.getByTestId('nav-approvals').click();
  const list = page.getByTestId('request-list');
  await expect(list).toHaveAttribute('data-count', String(COUNT));

  // Far fewer cards in the DOM than requests, each saying where it stands in the whole list.
  await expect(row(page, 1)).toBeVisible();
  const rendered = await cards(page).count();
  expect(rendered).toBeGreaterThan(0);
  expect(rendered).toBeLessThan(30);
  await expect(row(page, 1)).toHaveAttribute('aria-setsize', String(COUNT));
  await expect(list).toHaveAttribute('role', 'list');

  // The countdowns move, all on the one shared ticker.
  const first = row(page, 1).getByTestId('countdown');
  const before = Number(await first.getAttribute('data-seconds'));
  await expect.poll(async () => Number(await first.getAttribute('data-seconds'))).toBeLessThan(before);
  // An hour to go reads as minutes and seconds, not thousands of seconds.
  await expect(first.locator('.countdown-text')).toHaveText(/^\d{2}:\d{2} left$/);

  // Scrolling the pane reaches the last request; the window follows, still small.
  await expect
    .poll(async () => {
      await page.locator('main').evaluate((pane) => pane.scrollTo(0, pane.scrollHeight));
      return row(page, COUNT).count();
    })
    .toBe(1);
  await expect(row(page, COUNT).getByTestId('request-card')).toBeInViewport();
  expect(await cards(page).count()).toBeLessThan(30);
  await expect(row(page, 1)).toHaveCount(0);

  // The keyboard: Home, End and the arrows move between cards, rendering them first.
  await row(page, COUNT).locator('.request-title').focus();
  await page.keyboard.press('Home');
  await expect(row(page, 1).locator('.request-title')).toBeFocused();
  await expect(row(page, 1)).toBeInViewport();
  await page.keyboard.press('ArrowDown');
  await expect(row(page, 2).locator('.request-title')).toBeFocused();
  await page.keyboard.press('End');
  await expect(row(page, COUNT).locator('.request-title')).toBeFocused();
  await expect(row(page, COUNT)).toBeInViewport();
  await page.keyboard.press('PageUp');
  await expect(row(page, COUNT - 5).locator('.request-title')).toBeFocused();
  // Tab walks into the card's buttons, and on into the next card's.
  await page.keyboard.press('Tab');
  await expect(row(page, COUNT - 5).locator(':focus')).toHaveCount(1);

  // The approve dialog opened from a card keeps its card rendered while the pane scrolls.
  await row(page, COUNT - 5).getByTestId('request-approve').click();
  await expect(page.locator('dialog[open]')).toHaveCount(1);
  await page.locator('main').evaluate((pane) => pane.scrollTo(0, 0));
  await expect(page.locator('dialog[open]')).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(page.locator('dialog[open]')).toHaveCount(0);

  // The screen at both widths and in Turkish, scrolled to the top and to the middle.
  for (const language of ['en', 'tr'] as const) {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('language-select').selectOption(language);
    await expect(page.locator('html')).toHaveAttribute('lang', language);
    await page.getByTestId('nav-approvals').click();
    for (const width of [1180, 800]) {
      await page.setViewportSize({ width, height: 780 });
      await page.locator('main').evaluate((pane) => pane.scrollTo(0, 0));
      await expect(row(page, 1)).toBeInViewport();
      await page.screenshot({ path: shotPath(`approvals-many-${width}-${language}-top.png`) });
      await page.locator('main').evaluate((pane) => pane.scrollTo(0, pane.scrollHeight / 2));
      await expect.poll(() => cards(page).count()).toBeGreaterThan(0);
      await page.screenshot({ path: shotPath(`approvals-many-${width}-${language}-middle.png`) });
    }
  }
});
