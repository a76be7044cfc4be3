import { randomBytes } from 'node:crypto';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { enrollTwo, passChain, Phones, shotPath } from './desk-helpers';
import { expect } from './fixtures';
import { withTwilioStandIn } from './twilio-fixture';

// The app under test talks to a Twilio stand-in that checks every request against Twilio's own
// OpenAPI description (test/fixtures/twilio-standin.ts).
const { test, account } = withTwilioStandIn({ env: { CUSTODIAN_MFA_WINDOW_STEPS: '2' }, invalidTo: ['+15005550001'] });
const ACCOUNT_SID = account.accountSid;
const AUTH_TOKEN = account.authToken;

/** The card whole: the window grown to fit the pane (it scrolls inside), then back to its size. */
async function shoot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1180, height: 780 };
  const height = await page.locator('main').evaluate((pane) => pane.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height + 80) });
  await page.getByTestId('sms-card').screenshot({ path: shotPath(name) });
  await page.setViewportSize(size);
}

test('the Twilio card: enter the credentials, send a test message to the stand-in; a wrong token says so', async ({ app, standIn }) => {
  const { page } = app;
  // Saving the credentials takes a chain at the critical policy, which asks for two factors.
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await page.getByTestId('nav-settings').click();
  const card = page.getByTestId('sms-card');
  await expect(card.getByTestId('sms-state')).toHaveText('Not set up yet.');
  await expect(card.getByTestId('sms-test-send')).toBeDisabled();

  // A malformed SID is refused under its field, and nothing is stored.
  await card.getByLabel('Account SID').fill('AC123');
  await card.getByLabel('Auth token').fill(AUTH_TOKEN);
  await card.getByLabel('Sender').fill('+1 415 555 2345');
  await card.getByTestId('sms-save').click();
  await expect(card.getByTestId('sms-accountSid-error')).toHaveText('The account SID must be AC and 32 hexadecimal characters.');
  await expect(card.getByLabel('Account SID')).toHaveAttribute('aria-invalid', 'true');

  await card.getByLabel('Account SID').fill(ACCOUNT_SID);
  await card.getByTestId('sms-save').click();
  // Well formed, so the chain comes (sms:configure); the save follows it.
  await passChain(page, phones);
  await expect(card.getByTestId('sms-saved')).toBeVisible();
  await expect(card.getByTestId('sms-state')).toHaveText(`Set up: account …${ACCOUNT_SID.slice(-4)}, sender +1 ••• ••• ••45`);
  // Write-only: the token field is empty again and the page holds the token nowhere.
  await expect(card.getByLabel('Auth token')).toHaveValue('');
  expect(await page.content()).not.toContain(AUTH_TOKEN);

  await card.getByLabel('Phone number').fill('+90 532 123 45 67');
  await card.getByTestId('sms-test-send').click();
  await expect(card.getByTestId('sms-test-sent')).toContainText('Sent to +90 ••• ••• •• 67.');
  expect(standIn.violations).toEqual([]);
  expect(standIn.received).toMatchObject([{ accountSid: ACCOUNT_SID, to: '+905321234567', from: '+14155552345' }]);
  await expect(card.getByTestId('sms-test-sent')).toContainText(standIn.received[0]?.sid ?? 'missing');
  expect((await new AxeBuilder({ page }).include('[data-testid="sms-card"]').analyze()).violations.map((v) => v.id)).toEqual([]);

  await shoot(page, 'sms-card-1180.png');
  await page.setViewportSize({ width: 800, height: 780 });
  await shoot(page, 'sms-card-800.png');
  await page.getByTestId('language-select').selectOption('tr');
  await expect(card.getByTestId('sms-state')).toContainText('Ayarlandı');
  await shoot(page, 'sms-card-800-tr.png');
  await page.setViewportSize({ width: 1180, height: 780 });
  await shoot(page, 'sms-card-1180-tr.png');
  await page.getByTestId('language-select').selectOption('en');

  // A number Twilio refuses (21211) says so, without the number.
  await card.getByLabel('Phone number').fill('+1 500 555 0001');
  await card.getByTestId('sms-test-send').click();
  await expect(card.getByTestId('sms-test-error')).toHaveText('Twilio says the phone number cannot receive messages. Check the number.');

  // A wrong token, kept for the same account: Twilio answers 20003, the card says what to check.
  await card.getByLabel('Account SID').fill(ACCOUNT_SID);
  await card.getByLabel('Auth token').fill(randomBytes(16).toString('hex'));
  await card.getByLabel('Sender').fill('+1 415 555 2345');
  await card.getByTestId('sms-save').click();
  await passChain(page, phones);
  await expect(card.getByTestId('sms-saved')).toBeVisible();
  await card.getByLabel('Phone number').fill('+90 532 123 45 67');
  await card.getByTestId('sms-test-send').click();
  await expect(card.getByTestId('sms-test-error')).toHaveText('Twilio refused the account SID or auth token. Check both on the Settings screen.');
  await expect(card.getByTestId('sms-test-error')).toHaveAttribute('data-code', 'ERR-SMS-AUTH');
  await shoot(page, 'sms-card-auth-error-1180.png');
  expect(standIn.violations).toEqual([]);
  expect(standIn.received).toHaveLength(1);
});
