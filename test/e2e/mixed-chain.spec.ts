import type { Page } from '@playwright/test';
import type { TwilioStandIn } from '../fixtures/twilio-standin';
import { enrollPush, enrollTwo, passChain, Phones, shell } from './desk-helpers';
import { expect } from './fixtures';
import { saveTwilioSettings, withTwilioStandIn } from './twilio-fixture';

const PHONE = '+905321234567';

// Issue 12, "Everywhere": one chain of TOTP, then SMS (its code read from the Twilio stand-in,
// which checks every request against Twilio's OpenAPI description), then push, started from a
// shell on the app's data directory and its push answered in the window.
const { test, account } = withTwilioStandIn({ env: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

/** Twilio set up on the Settings screen (a critical chain first), then an SMS factor enrolled by its texted code. */
async function enrollSms(page: Page, phones: Phones, standIn: TwilioStandIn, label: string): Promise<void> {
  await saveTwilioSettings(page, phones, account);

  await page.getByTestId('nav-factors').click();
  await page.getByTestId('enroll-start').click();
  const dialog = page.getByTestId('enroll-dialog');
  await dialog.getByTestId('enroll-method-sms').check();
  await dialog.getByTestId('enroll-label').fill(label);
  await dialog.getByTestId('enroll-phone').fill(PHONE);
  await dialog.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await expect.poll(() => standIn.received.length).toBe(1);
  await dialog.getByTestId('enroll-code').fill(standIn.lastCode() ?? '');
  await dialog.getByTestId('enroll-confirm').click();
  await expect(page.locator('[data-testid="factor-row"][data-state="active"]', { hasText: label })).toHaveCount(1);
}

test('a chain of TOTP, then SMS, then push: started in a shell, the push answered in the window', async ({ app, standIn }) => {
  // Five chains in a row may wait for a TOTP time step or two.
  test.setTimeout(120_000);
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await enrollSms(page, phones, standIn, 'Desk phone');
  await enrollPush(page, phones, 'This desk');

  // The medium policy: three steps in this fixed order. More steps and fewer eligible factors are
  // no weakening, so no chain is asked for.
  await page.evaluate(async () => {
    const { factors } = await window.custodian.factors.list();
    const id = (label: string): string => factors.find((f) => f.label === label && f.state === 'active')?.id ?? '';
    const medium = (await window.custodian.policies.list()).find((p) => p.sensitivity === 'medium');
    if (!medium) throw new Error('no medium policy');
    await window.custodian.policies.save({ ...medium, mode: 'fixed', requiredSteps: 3, eligible: { by: 'ids', ids: [id('Work phone'), id('Desk phone'), id('This desk')] } });
  });

  const run = shell(['verify', '--sensitivity', 'medium'], app.env);
  const [steps] = await run.printed(/1\. Work phone[^\n]*\n\s+2\. Desk phone[^\n]*\n\s+3\. This desk[^\n]*\n/);
  expect(steps).toContain('(totp, 6 digits)');
  expect(steps).toContain('(sms, 6 digits)');
  expect(steps).toContain('(push, answered in the Custodian window)');

  // Step 1, TOTP: the code typed in the shell.
  run.write(await phones.codeSoon('Work phone'));
  // Step 2, SMS: the shell sends the code; it is read from what the stand-in received.
  const [sentTo] = await run.printed(/a code was sent to [^\n]+/);
  // Masked: the country code and the last two digits only.
  expect(sentTo).toMatch(/\+90\D+67$/);
  expect(sentTo).not.toContain('532');
  await expect.poll(() => standIn.received.length).toBe(2);
  expect(standIn.received[1]).toMatchObject({ to: PHONE });
  run.write(standIn.lastCode() ?? '');
  // Step 3, push: the shell shows the number; the window prompts with three.
  const [, shown] = await run.printed(/pick (\d{2}) there/);
  const prompt = page.getByTestId('push-prompt');
  await expect(prompt).toBeVisible();
  await expect(prompt.getByTestId('push-source')).toHaveText('A shell on this computer');
  await expect(prompt.getByTestId('push-factor')).toHaveText('This desk');
  await prompt.locator(`[data-testid="push-number"][data-number="${shown ?? ''}"]`).click();
  await expect(prompt).toBeHidden();

  const result = await run.done;
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('chain completed: 3 of 3 steps passed');
  expect(standIn.violations).toEqual([]);

  // The audit log tells the chain step by step, each method in its turn.
  await page.getByTestId('nav-audit').click();
  await expect(page.getByTestId('audit-row').filter({ hasText: 'mfa_push_approved' })).toHaveCount(2);
  await expect(page.getByTestId('audit-row').filter({ hasText: 'mfa_chain_completed' }).first()).toBeVisible();
});
