import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import type { TwilioStandIn } from '../fixtures/twilio-standin';
import { currentLabel, enrollPush, enrollTwo, highTakesPush, passChain, Phones, shotPath, typeStep } from './desk-helpers';
import { expect } from './fixtures';
import { saveTwilioSettings, withTwilioStandIn } from './twilio-fixture';

// What issue 12 left in the window: "Resume" by method, a backup code in place of a push step,
// and the lines said after an action following a switch of language.
const { test, account } = withTwilioStandIn({ env: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });
const MASKED = '+90 ••• ••• •• 67';

/** A factor's row, by its exact name (one name may be part of another). */
function row(page: Page, label: string): Locator {
  return page.getByTestId('factor-row').filter({ has: page.locator('.factor-label', { hasText: new RegExp(`^${label}$`) }) });
}

async function setLanguage(page: Page, language: 'en' | 'tr'): Promise<void> {
  await page.evaluate((lng) => window.custodian.settings.setLanguage(lng), language);
  await expect(page.locator('html')).toHaveAttribute('lang', language);
}

/**
 * `target` at 1180 and 800 px wide, in English and in Turkish, for a person to look at; the window
 * grown to fit the pane (it scrolls inside) for each picture.
 */
async function shots(page: Page, target: Locator, name: string): Promise<void> {
  for (const [width, language] of [[1180, 'en'], [800, 'en'], [800, 'tr'], [1180, 'tr']] as const) {
    await page.setViewportSize({ width, height: 780 });
    await setLanguage(page, language);
    const height = await page.locator('main').evaluate((pane) => pane.scrollHeight);
    await page.setViewportSize({ width, height: Math.max(780, height + 80) });
    await target.screenshot({ path: shotPath(`${name}-${width}${language === 'tr' ? '-tr' : ''}.png`) });
  }
  await setLanguage(page, 'en');
  await page.setViewportSize({ width: 1180, height: 780 });
}

/**
 * The critical policy as one push step: a weakening, so it takes a grant from a chain at critical
 * first (passed here through the API with the TOTP factors' codes).
 */
async function criticalTakesPushOnly(page: Page, phones: Phones): Promise<void> {
  const attempt = await page.evaluate(() => window.custodian.chain.start('policies:weaken', 'critical'));
  for (const step of attempt.steps) {
    const code = await phones.codeSoon(step.label);
    await page.evaluate(([id, factorId, value]) => window.custodian.chain.verifyStep(id, factorId, value), [attempt.attemptId, step.id, code] as const);
  }
  await page.evaluate(async () => {
    const { factors } = await window.custodian.factors.list();
    const push = factors.find((f) => f.type === 'push' && f.state === 'active');
    const critical = (await window.custodian.policies.list()).find((p) => p.sensitivity === 'critical');
    if (!push || !critical) throw new Error('no push factor or no critical policy');
    await window.custodian.policies.save({ ...critical, requiredSteps: 1, eligible: { by: 'ids', ids: [push.id] } });
  });
}

/** The code in the stand-in's last message, once there are `count` messages. */
async function texted(standIn: TwilioStandIn, count: number): Promise<string> {
  await expect.poll(() => standIn.received.length).toBe(count);
  return standIn.lastCode() ?? '';
}

test('Resume on a pending factor offers what its method needs: TOTP its QR code, SMS a new texted code with "Send again", push a new push', async ({ app, standIn }) => {
  // Eight chains of two TOTP steps: each phone runs out of codes in its window now and then, and
  // waits for the next time step.
  test.setTimeout(240_000);
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  await saveTwilioSettings(page, phones, account);
  await page.getByTestId('nav-factors').click();
  const dialog = page.getByTestId('enroll-dialog');
  const prompt = page.getByTestId('push-prompt');
  const pending = page.locator('[data-testid="factor-row"][data-state="pending"]');

  // Three set-ups left half-way, one per method: each started, its chain passed, then cancelled.
  await page.getByTestId('enroll-start').click();
  await dialog.getByTestId('enroll-label').fill('Spare app');
  await dialog.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-qr')).toBeVisible();
  await dialog.getByTestId('enroll-cancel').click();

  await page.getByTestId('enroll-start').click();
  await dialog.getByTestId('enroll-method-sms').check();
  await dialog.getByTestId('enroll-label').fill('Desk phone');
  await dialog.getByTestId('enroll-phone').fill('+90 532 123 45 67');
  await dialog.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-sent-to')).toBeVisible();
  await texted(standIn, 1);
  await dialog.getByTestId('enroll-cancel').click();

  await page.getByTestId('enroll-start').click();
  await dialog.getByTestId('enroll-method-push').check();
  await dialog.getByTestId('enroll-label').fill('Window push');
  await dialog.getByTestId('enroll-continue').click();
  await passChain(page, phones);
  await expect(prompt).toBeVisible();
  // The push that confirms a new factor takes no backup code.
  await expect(prompt.getByTestId('push-use-backup')).toHaveCount(0);
  await prompt.getByTestId('push-deny').click();
  await prompt.getByTestId('push-result-close').click();
  await expect(dialog.getByTestId('enroll-push')).toHaveAttribute('data-state', 'failed');
  await dialog.getByTestId('enroll-cancel').click();
  await expect(pending).toHaveCount(3);
  await pending.first().scrollIntoViewIfNeeded();
  await shots(page, page.locator('main'), 'factors-pending');

  const intro = dialog.getByTestId('enroll-resume-intro');
  const resume = dialog.getByTestId('enroll-resume-submit');

  // TOTP: its QR code again.
  await row(page, 'Spare app').getByTestId('factor-resume').click();
  await expect(intro).toContainText('Show the QR code of Spare app again.');
  await expect(resume).toHaveText('Show QR code');
  await resume.click();
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-qr')).toBeVisible();
  await dialog.getByTestId('enroll-cant-scan').click();
  phones.add('Spare app', (await dialog.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '');
  await dialog.getByTestId('enroll-code').fill(phones.code('Spare app'));
  await dialog.getByTestId('enroll-confirm').click();
  await expect(row(page, 'Spare app')).toHaveAttribute('data-state', 'active');

  // SMS: a new code texted to the same number, with "Send again"; no QR code.
  await row(page, 'Desk phone').getByTestId('factor-resume').click();
  await expect(intro).toContainText(`Send a new code to ${MASKED} to finish adding Desk phone.`);
  await expect(resume).toHaveText('Send code');
  await resume.click();
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-sent-to')).toHaveText(`Code sent to ${MASKED}.`);
  await expect(dialog.getByTestId('enroll-resend')).toBeVisible();
  await expect(dialog.getByTestId('enroll-qr')).toHaveCount(0);
  await dialog.getByTestId('enroll-code').fill(await texted(standIn, 2));
  await dialog.getByTestId('enroll-confirm').click();
  await expect(row(page, 'Desk phone')).toHaveAttribute('data-state', 'active');

  // Push: a new push, answered in this window; nothing speaks of a QR code.
  await row(page, 'Window push').getByTestId('factor-resume').click();
  await expect(intro).toContainText('Send a new push to this window to finish adding Window push');
  await expect(intro).not.toContainText('QR');
  await expect(resume).toHaveText('Send push');
  await expect(resume).toBeFocused();
  expect((await new AxeBuilder({ page }).include('[data-testid="enroll-dialog"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await shots(page, dialog, 'push-resume');
  await setLanguage(page, 'tr');
  await expect(intro).toContainText('Window push eklemeyi bitirmek için bu pencereye yeni bir anlık bildirim gönderin');
  await expect(resume).toHaveText('Bildirim gönder');
  await setLanguage(page, 'en');
  await resume.click();
  await passChain(page, phones);
  await expect(dialog.getByTestId('enroll-push')).toHaveAttribute('data-state', 'waiting');
  await expect(dialog).not.toContainText('QR');
  const number = (await dialog.getByTestId('push-wait-number').textContent()) ?? '';
  await expect(prompt).toBeVisible();
  await prompt.locator(`[data-testid="push-number"][data-number="${number}"]`).click();
  await expect(row(page, 'Window push')).toHaveAttribute('data-state', 'active');
  await expect(pending).toHaveCount(0);
  await shots(page, page.locator('main'), 'factors-all');

  // For a person to look at: a chain of the SMS factor and the push factor, at high (two steps
  // and fewer eligible factors: stronger, so no chain is asked for; the policy's mode stays).
  await page.evaluate(async () => {
    const { factors } = await window.custodian.factors.list();
    const ids = ['sms', 'push'].map((type) => factors.find((f) => f.type === type && f.state === 'active')?.id ?? '');
    const high = (await window.custodian.policies.list()).find((p) => p.sensitivity === 'high');
    if (!high) throw new Error('no high policy');
    await window.custodian.policies.save({ ...high, requiredSteps: 2, eligible: { by: 'ids', ids } });
  });
  const card = page.getByTestId('chain-test-card');
  const chain = page.getByTestId('chain-prompt');
  await card.getByTestId('chain-test-sensitivity').selectOption('high');
  await card.getByTestId('chain-test-start').click();
  await expect(chain.getByTestId('chain-step')).toHaveCount(2);
  for (let position = 0; position < 2; position += 1) {
    await expect(chain).toHaveAttribute('data-position', String(position));
    if ((await currentLabel(page)) === 'Desk phone') {
      await expect(chain.getByTestId('chain-sms-send')).toBeFocused();
      await shots(page, chain, 'chain-sms-send');
      await chain.getByTestId('chain-sms-send').click();
      const code = await texted(standIn, 3);
      await expect(chain.getByTestId('chain-code')).toBeFocused();
      await shots(page, chain, 'chain-sms-sent');
      await typeStep(page, code);
    } else {
      await expect(chain.getByTestId('push-wait')).toBeVisible();
      await expect(prompt).toBeVisible();
      // The chain, started steps ago, runs out before this push: the step's ring never promises
      // more time than the chain's own.
      const left = async (ring: Locator): Promise<number> => Number(await ring.getAttribute('data-seconds'));
      const chainLeft = await left(chain.locator('.chain-header').getByTestId('countdown'));
      expect(await left(chain.getByTestId('push-wait').getByTestId('countdown'))).toBeLessThanOrEqual(chainLeft);
      await shots(page, prompt, 'push-prompt-chain');
      // The step behind the prompt, as the approver reads it (the prompt set aside for the picture).
      await prompt.evaluate((dialog: HTMLDialogElement) => (dialog.style.display = 'none'));
      await shots(page, chain, 'chain-push-wait');
      await prompt.evaluate((dialog: HTMLDialogElement) => (dialog.style.display = ''));
      const picked = (await chain.getByTestId('push-wait-number').textContent()) ?? '';
      await prompt.locator(`[data-testid="push-number"][data-number="${picked}"]`).click();
    }
  }
  await expect(chain).toHaveAttribute('data-status', 'completed');
});

test('a push step takes a backup code instead, from its push prompt or the step itself, where the chain allows one', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  const backupCodes = await enrollTwo(page, phones);
  await enrollPush(page, phones, 'Desk');
  await highTakesPush(page);
  const prompt = page.getByTestId('push-prompt');
  const chain = page.getByTestId('chain-prompt');

  // From the push prompt: an approver who cannot answer the push types a backup code instead.
  const card = page.getByTestId('chain-test-card');
  await card.getByTestId('chain-test-sensitivity').selectOption('high');
  await card.getByTestId('chain-test-start').click();
  await expect(prompt).toBeVisible();
  await expect(chain.getByTestId('chain-use-backup')).toHaveText('Use a backup code for this step');
  await expect(prompt.getByTestId('push-use-backup')).toHaveText('Use a backup code instead');
  expect((await new AxeBuilder({ page }).include('[data-testid="push-prompt"]').analyze()).violations.map((v) => v.id)).toEqual([]);
  await shots(page, prompt, 'push-prompt-backup');
  await prompt.getByTestId('push-use-backup').click();
  await expect(prompt).toBeHidden();
  await expect(chain.getByTestId('chain-code')).toBeFocused();
  await expect(chain.getByTestId('chain-use-backup')).toHaveText('Use Desk instead');
  await chain.scrollIntoViewIfNeeded();
  await shots(page, chain, 'push-step-backup');
  await typeStep(page, backupCodes[0] ?? '');
  await expect(chain).toHaveAttribute('data-status', 'completed');
  // Main withdrew the push: nothing waits, and the prompt does not come back.
  expect(await page.evaluate(() => window.custodian.push.pending())).toEqual([]);
  await expect(prompt).toBeHidden();

  // From the step itself, after a denial: "Send push" or a backup code, by keyboard, and back.
  await chain.getByTestId('chain-again').click();
  await expect(prompt).toBeVisible();
  await prompt.getByTestId('push-deny').click();
  await prompt.getByTestId('push-result-close').click();
  await expect(prompt).toBeHidden();
  await expect(chain.getByTestId('chain-push-send')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(chain.getByTestId('chain-use-backup')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(chain.getByTestId('chain-code')).toBeFocused();
  await chain.getByTestId('chain-use-backup').click();
  await expect(chain.getByTestId('chain-push-send')).toBeFocused();
  await shots(page, chain, 'chain-push-send');
  await chain.getByTestId('chain-use-backup').click();
  await typeStep(page, backupCodes[1] ?? '');
  await expect(chain).toHaveAttribute('data-status', 'completed');

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 200 }));
  const passedByBackup = audit.entries.filter((e) => e.event === 'mfa_chain_step_passed' && (e.data as { method?: string }).method === 'backup');
  expect(passedByBackup).toHaveLength(2);

  // A chain that takes no backup code (replacing the backup codes) offers none for its push step either.
  await criticalTakesPushOnly(page, phones);
  await page.getByTestId('backup-regenerate').click();
  const regenerate = page.getByTestId('regenerate-dialog');
  await regenerate.getByTestId('regenerate-confirm').click();
  await expect(prompt).toBeVisible();
  await expect(regenerate.getByTestId('push-wait')).toHaveCount(1);
  await expect(prompt.getByTestId('push-use-backup')).toHaveCount(0);
  await expect(regenerate.getByTestId('chain-use-backup')).toHaveCount(0);
  const number = (await regenerate.getByTestId('push-wait-number').textContent()) ?? '';
  await prompt.locator(`[data-testid="push-number"][data-number="${number}"]`).click();
  await expect(regenerate.getByTestId('backup-code')).toHaveCount(10);
});

test('the lines said after an action follow a switch of language', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  const status = page.getByTestId('factors-status');

  // "… is ready to use." after adding a factor.
  await expect(status).toHaveText('Tablet is ready to use.');
  await setLanguage(page, 'tr');
  await expect(status).toHaveText('Tablet kullanıma hazır.');
  await setLanguage(page, 'en');
  await expect(status).toHaveText('Tablet is ready to use.');

  // "Renamed to …".
  await row(page, 'Tablet').getByTestId('factor-rename').click();
  await page.getByTestId('factor-rename-input').fill('Old tablet');
  await page.getByTestId('factor-rename-save').click();
  await expect(status).toHaveText('Renamed to Old tablet.');
  await setLanguage(page, 'tr');
  await expect(status).toHaveText('Yeni ad: Old tablet.');
  await setLanguage(page, 'en');

  // A policy saved: its sensitivity's name, translated with it.
  await page.getByTestId('nav-policies').click();
  const low = page.locator('[data-testid="policy-row"][data-sensitivity="low"]');
  await low.getByTestId('policy-edit').click();
  await low.getByTestId('policy-save').click();
  const saved = page.getByTestId('policies-status');
  await expect(saved).toHaveText('The Low policy was saved.');
  await setLanguage(page, 'tr');
  await expect(saved).toHaveText('Düşük politikası kaydedildi.');
  await setLanguage(page, 'en');
  await expect(saved).toHaveText('The Low policy was saved.');
});
