import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';
import { passChain, type Phones } from './desk-helpers';
import { expect, test as base } from './fixtures';

/** The Twilio credentials a spec's stand-in accepts: fresh for each spec file. */
export interface TwilioAccount {
  accountSid: string;
  authToken: string;
}

/**
 * The app under test talking to a Twilio stand-in that checks every request against Twilio's own
 * OpenAPI description (test/fixtures/twilio-standin.ts), with `env` added to the app's environment.
 * `invalidTo` are numbers the stand-in refuses as Twilio does (21211).
 */
export function withTwilioStandIn(options: { env?: NodeJS.ProcessEnv; invalidTo?: string[] } = {}) {
  const account: TwilioAccount = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
  const test = base.extend<{ standIn: TwilioStandIn }>({
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern; this one has none.
    standIn: async ({}, use) => {
      const standIn = await startTwilioStandIn({ ...account, ...(options.invalidTo ? { invalidTo: options.invalidTo } : {}) });
      await use(standIn);
      await standIn.close();
    },
    appEnv: async ({ standIn }, use) => {
      await use({ CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl, ...options.env });
    },
  });
  return { test, account };
}

/** Twilio's credentials saved on the Settings screen, after the chain at the critical policy that takes; stays on Settings. */
export async function saveTwilioSettings(page: Page, phones: Phones, account: TwilioAccount): Promise<void> {
  await page.getByTestId('nav-settings').click();
  const card = page.getByTestId('sms-card');
  await card.getByLabel('Account SID').fill(account.accountSid);
  await card.getByLabel('Auth token').fill(account.authToken);
  await card.getByLabel('Sender').fill('+1 415 555 2345');
  await card.getByTestId('sms-save').click();
  await passChain(page, phones);
  await expect(card.getByTestId('sms-saved')).toBeVisible();
}
