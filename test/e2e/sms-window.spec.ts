import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import type { TwilioStandIn } from '../fixtures/twilio-standin';
import { enrollTwo, passChain, Phones, shotPath, typeStep } from './desk-helpers';
import { expect } from './fixtures';
import { saveTwilioSettings, withTwilioStandIn } from './twilio-fixture';

const PHONE = '+905321234567';
const MASKED = '+90 ••• ••• •• 67';

// Issue 12 in the window: an SMS factor enrolled (its code read from the Twilio stand-in, which
// checks every request against Twilio's OpenAPI description), the NIST note beside it, and a chain
// whose SMS step sends its code only when asked ("Send code"), with the resend countdown.
const { test, account } = withTwilioStandIn({ env: { CUSTODIAN_MFA_WINDOW_STEPS: '2', MFA_METHODS: 'totp,sms' } });

/** An element whole: the window grown to fit the pane (it scrolls inside), then back to its size. */
async function shoot(page: Page, target: Locator, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1180, height: 780 };
  const height = await page.locator('main').evaluate((pane) => pane.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height + 80) });
  await target.screenshot({ path: shotPath(name) });
  await page.setViewportSize(size);
}

/** The code in the stand-in's last message, once there are `count` messages. */
async function codeNumber(standIn: TwilioStandIn, count: number): Promise<string> {
  await expect.poll(() => standIn.received.length).toBe(count);
  return standIn.lastCode() ?? '';
}

test('an SMS factor: enrolled with the texted code, noted as NIST-restricted, and passed in a chain with "Send code"', async ({ app, standIn }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);

  // Twilio's credentials, on the Settings screen (a chain at the critical policy).
  await saveTwilioSettings(page, phones, account);

  // --- Enrollment ---
  await page.getByTestId('nav-factors').click();
  await page.getByTestId('enroll-start').click();
  const dialog = page.getByTestId('enroll-dialog');
  // The desk turns on TOTP and SMS: both are offered, the app first.
  await expect(dialog.getByTestId('enroll-method-totp')).toBeChecked();
  await dialog.getByTestId('enroll-method-sms').check();
  // The name nobody typed follows the method.
  await expect(dialog.getByTestId('enroll-label')).toHaveValue('Phone (SMS)');
  await dialog.getByTestId('enroll-label').fill('Desk phone');

  // A number libphonenumber refuses is said under its field, and nothing is sent.
  const phone = dialog.getByTestId('enroll-phone');
  await phone.fill('0532 123 45 67');
  await dialog.getByTestId('enroll-continue').click();
  await expect(dialog.getByTestId('enroll-phone-error')).toHaveText('Start with + and the country code, for example +1 or +90.');
  await expect(phone).toHaveAttribute('aria-invalid', 'true');
  await expect(phone).toBeFocused();
  await phone.fill('+1 555 555 5555');
  await dialog.getByTestId('enroll-continue').click();
  await expect(dialog.getByTestId('enroll-phone-error')).toHaveText('This is not a valid phone number for its country. Check the digits.');
  expect(standIn.received).toHaveLength(0);
  expect((await new AxeBuilder({ page }).include('[data-testid="enroll-dialog"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await dialog.screenshot({ path: shotPath('sms-enroll-details-1180.png') });
  await page.setViewportSize({ width: 800, height: 780 });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(dialog.getByTestId('enroll-phone-error')).toHaveText('Bu, ülkesi için geçerli bir telefon numarası değil. Rakamları denetleyin.');
  await dialog.screenshot({ path: shotPath('sms-enroll-details-800-tr.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await page.setViewportSize({ width: 1180, height: 780 });

  await phone.fill('+90 532 123 45 67');
  await expect(dialog.getByTestId('enroll-phone-error')).toHaveCount(0);
  await expect(dialog.getByTestId('enroll-continue')).toHaveText('Send code');
  await dialog.getByTestId('enroll-continue').click();
  // Adding a factor once MFA is on takes the critical chain; then the first code goes out.
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-sent-to')).toHaveText(`Code sent to ${MASKED}.`);
  const first = await codeNumber(standIn, 1);
  expect(standIn.received[0]).toMatchObject({ to: PHONE, from: '+14155552345' });
  await expect(dialog.getByTestId('enroll-code')).toBeFocused();
  // "Send again" waits for the first text to arrive, with a live countdown.
  const resend = dialog.getByTestId('enroll-resend');
  await expect(resend).toBeDisabled();
  const countdown = dialog.getByTestId('enroll-resend-countdown');
  await expect(countdown).toContainText('Another code can be sent in 0:');
  const waitSeconds = Number(await countdown.getAttribute('data-seconds'));
  expect(waitSeconds).toBeGreaterThan(15);
  expect(waitSeconds).toBeLessThanOrEqual(31);
  await expect.poll(async () => Number(await countdown.getAttribute('data-seconds'))).toBeLessThan(waitSeconds);
  expect((await new AxeBuilder({ page }).include('[data-testid="enroll-dialog"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await dialog.screenshot({ path: shotPath('sms-enroll-verify-1180.png') });
  await page.setViewportSize({ width: 800, height: 780 });
  await dialog.screenshot({ path: shotPath('sms-enroll-verify-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(dialog.getByTestId('enroll-sent-to')).toHaveText(`${MASKED} numarasına kod gönderildi.`);
  await dialog.screenshot({ path: shotPath('sms-enroll-verify-800-tr.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await page.setViewportSize({ width: 1180, height: 780 });

  // Past the countdown (the window's clock moved on; main holds only the send limit), "Send
  // again" sends a new code to the same number; the focus goes back to the emptied code field.
  await page.clock.install();
  await page.clock.fastForward(32_000);
  await expect(resend).toBeEnabled();
  await dialog.getByTestId('enroll-code').fill(first);
  await resend.click();
  const second = await codeNumber(standIn, 2);
  expect(standIn.received[1]).toMatchObject({ to: PHONE });
  await expect(dialog.getByTestId('enroll-resent')).toHaveText(`A new code was sent to ${MASKED}. Only the newest code works.`);
  await expect(dialog.getByTestId('enroll-code')).toHaveValue('');
  await expect(dialog.getByTestId('enroll-code')).toBeFocused();
  // The new send's countdown runs from main's answer: with the window's clock back on time, it waits again.
  await page.clock.setSystemTime(Date.now());
  await expect(resend).toBeDisabled();
  await expect(dialog.getByTestId('enroll-resend-countdown')).toBeVisible();
  await page.keyboard.type(second);
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('factors-status')).toHaveText('Desk phone is ready to use.');

  // --- The NIST note beside the SMS factor, and beside no TOTP factor ---
  const smsRow = page.locator('[data-testid="factor-row"]', { hasText: 'Desk phone' });
  await expect(smsRow).toHaveAttribute('data-state', 'active');
  await expect(smsRow).toContainText('Text message (SMS)');
  await expect(smsRow).toContainText(MASKED);
  await expect(smsRow.getByTestId('factor-nist-note')).toHaveText(
    'NIST SP 800-63B treats SMS as a restricted authenticator: a text can be intercepted, or the number moved to another SIM. By default the critical policy does not accept it.',
  );
  await expect(page.getByTestId('factor-nist-note')).toHaveCount(1);
  expect((await new AxeBuilder({ page }).include('.factor-list').analyze()).violations.map((v) => v.id)).toEqual([]);
  const list = page.locator('.factor-list');
  await shoot(page, list, 'sms-factors-1180.png');
  await page.setViewportSize({ width: 800, height: 780 });
  await shoot(page, list, 'sms-factors-800.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(smsRow.getByTestId('factor-nist-note')).toContainText('kısıtlı bir doğrulayıcı');
  await shoot(page, list, 'sms-factors-800-tr.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await page.setViewportSize({ width: 1180, height: 780 });

  // --- A chain with an SMS step: low, fixed, Tablet then the SMS factor (more steps: not weaker) ---
  const ids = await page.evaluate(async () => Object.fromEntries((await window.custodian.factors.list()).factors.map((f) => [f.label, f.id])));
  await page.evaluate(
    (eligible) => window.custodian.policies.save({ sensitivity: 'low', mode: 'fixed', requiredSteps: 2, eligible: { by: 'ids', ids: eligible }, challengeTimeoutSeconds: 60 }),
    [ids['Tablet'] ?? '', ids['Desk phone'] ?? ''],
  );
  const testCard = page.getByTestId('chain-test-card');
  await testCard.getByTestId('chain-test-sensitivity').selectOption('low');
  await testCard.getByTestId('chain-test-start').click();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  const steps = prompt.getByTestId('chain-step');
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(1)).toContainText('Desk phone · Text message');
  await typeStep(page, phones.code('Tablet'));
  await expect(prompt).toHaveAttribute('data-position', '1');

  // The SMS step sends nothing by itself: "Send code" has the focus, and no code field shows yet.
  const send = prompt.getByTestId('chain-sms-send');
  await expect(send).toBeFocused();
  await expect(prompt.getByTestId('chain-code')).toHaveCount(0);
  expect(standIn.received).toHaveLength(2);
  await prompt.scrollIntoViewIfNeeded();
  await shoot(page, testCard, 'sms-chain-send-1180.png');
  await page.keyboard.press('Enter');
  const chainCode = await codeNumber(standIn, 3);
  expect(standIn.received[2]).toMatchObject({ to: PHONE });
  await expect(prompt.getByTestId('chain-sms-sent')).toHaveText('Code sent to Desk phone.');
  await expect(prompt.getByTestId('chain-code')).toBeFocused();
  const chainResend = prompt.getByTestId('chain-sms-resend');
  await expect(chainResend).toBeDisabled();
  // The third text in 10 minutes (the enrollment's two, this one) fills the send limit: the
  // countdown runs to when the first leaves the window, not just the usual 30 s.
  const chainCountdown = prompt.getByTestId('chain-sms-resend-countdown');
  await expect(chainCountdown).toContainText('Another code can be sent in 9:');
  expect(Number(await chainCountdown.getAttribute('data-seconds'))).toBeGreaterThan(540);
  expect((await new AxeBuilder({ page }).include('[data-testid="chain-test-card"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await shoot(page, testCard, 'sms-chain-sent-1180.png');
  await page.setViewportSize({ width: 800, height: 780 });
  await shoot(page, testCard, 'sms-chain-sent-800.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(prompt.getByTestId('chain-sms-sent')).toHaveText('Desk phone için kod gönderildi.');
  await shoot(page, testCard, 'sms-chain-sent-800-tr.png');
  await page.setViewportSize({ width: 1180, height: 780 });
  await shoot(page, testCard, 'sms-chain-sent-1180-tr.png');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await expect(chainResend).toBeDisabled();

  // Past the countdown in the window main still holds the send limit: its refusal, with the wait,
  // shows in the step, nothing is sent, and the chain stays at this step.
  await page.clock.fastForward('10:01');
  await expect(chainResend).toBeEnabled();
  await chainResend.click();
  const stepError = prompt.getByTestId('chain-sms-error').getByTestId('form-error');
  await expect(stepError).toHaveAttribute('data-code', 'ERR-MFA-RATE-LIMITED');
  await expect(stepError).toContainText('Too many attempts. Try again in');
  await expect(chainResend).toBeDisabled();
  await expect(prompt).toHaveAttribute('data-position', '1');
  expect(standIn.received).toHaveLength(3);
  await shoot(page, testCard, 'sms-chain-rate-limited-1180.png');

  await prompt.getByTestId('chain-code').focus();
  await typeStep(page, chainCode);
  await expect(prompt).toHaveAttribute('data-status', 'completed');
  expect(standIn.violations).toEqual([]);
  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 200 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_setup_code_resent', 'mfa_chain_challenged', 'mfa_chain_completed']));
  expect(JSON.stringify(audit)).not.toContain(PHONE.slice(3));
  for (const code of [first, second, chainCode]) expect(JSON.stringify(audit)).not.toContain(`"${code}"`);
});
