import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { oathtool } from '../fixtures/otp';
import { createProfile, shotPath } from './desk-helpers';
import { expect, test } from './fixtures';

// Two time steps either side, so each factor has unused codes left after enrolling (the replay
// floor only moves forward) without the test waiting for the clock.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });

/**
 * Each factor's codes, as a phone shows them, each time step used once: the next code of a factor
 * is for the step after its last one, and never older than the step before now. Reckoned from the
 * clock at each use, not from when the test began, so a test that runs across a step boundary
 * still sends codes inside the window (a fixed starting point did, about one run in six).
 */
class Phones {
  readonly #secrets = new Map<string, string>();
  readonly #last = new Map<string, number>();
  add(label: string, secret: string): void {
    this.#secrets.set(label, secret);
  }
  code(label: string): string {
    const secret = this.#secrets.get(label);
    if (secret === undefined) throw new Error(`no phone called ${label}`);
    const nowStep = Math.floor(Date.now() / 30_000);
    const step = Math.max((this.#last.get(label) ?? -Infinity) + 1, nowStep - 1);
    // The window is ±2 steps (appEnv above): a fifth code of one factor within a minute is not.
    if (step > nowStep + 2) throw new Error(`no code left for ${label} in this window`);
    this.#last.set(label, step);
    return oathtool(secret, step * 30_000);
  }
  /** A six-digit string no factor accepts now. */
  wrong(): string {
    const now = Date.now();
    const near = [...this.#secrets.values()].flatMap((s) => [-90_000, -60_000, -30_000, 0, 30_000, 60_000, 90_000].map((d) => oathtool(s, now + d)));
    return ['000000', '111111', '222222', '333333', '444444'].find((c) => !near.includes(c)) ?? '555555';
  }
}

/** Enrolls two authenticators through the UI; returns the backup codes shown with the first. */
async function enrollTwo(page: Page, phones: Phones): Promise<string[]> {
  await createProfile(page);

  await page.getByTestId('enroll-label').fill('Work phone');
  await page.getByTestId('enroll-continue').click();
  await page.getByTestId('enroll-cant-scan').click();
  const phone = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  // Confirmed with the code of the step before now, proving the second with the next: the later
  // steps stay unused for the chain.
  phones.add('Work phone', phone);
  await page.getByTestId('enroll-code').fill(phones.code('Work phone'));
  await page.getByTestId('enroll-confirm').click();
  await expect(page.getByTestId('backup-code')).toHaveCount(10);
  const backupCodes = (await page.getByTestId('backup-code').allTextContents()).map((c) => c.trim());
  await page.getByTestId('backup-codes-stored').check();
  await page.getByTestId('backup-codes-done').click();

  await page.getByTestId('enroll-start').click();
  await page.getByTestId('enroll-label').fill('Tablet');
  await page.getByTestId('enroll-prove-code').fill(phones.code('Work phone'));
  await page.getByTestId('enroll-continue').click();
  await page.getByTestId('enroll-cant-scan').click();
  const tablet = (await page.getByTestId('enroll-secret').getAttribute('data-secret')) ?? '';
  phones.add('Tablet', tablet);
  await page.getByTestId('enroll-code').fill(phones.code('Tablet'));
  await page.getByTestId('enroll-confirm').click();
  await expect(page.locator('[data-testid="factor-row"][data-state="active"]')).toHaveCount(2);
  return backupCodes;
}

/** The label of the step the prompt marks current. */
async function currentLabel(page: Page): Promise<string> {
  const current = page.locator('[data-testid="chain-step"][data-state="current"]');
  await expect(current).toHaveCount(1);
  const text = (await current.locator('.chain-step-label bdi').textContent()) ?? '';
  return text.trim();
}

/** Types the code where the focus is (the current step's field) and presses Enter. */
async function typeStep(page: Page, code: string): Promise<void> {
  await expect(page.getByTestId('chain-code')).toBeFocused();
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
}

test('a two-step chain passes through the prompt by keyboard, and a failed step sends it back to step 1', async ({ app }) => {
  const { page } = app;
  const phones = new Phones();
  const backupCodes = await enrollTwo(page, phones);

  // The default critical policy: two distinct factors, drawn at random.
  const card = page.getByTestId('chain-test-card');
  await expect(card.getByTestId('chain-test-sensitivity')).toHaveValue('critical');
  await card.getByTestId('chain-test-start').click();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  const steps = prompt.getByTestId('chain-step');
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'current');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'locked');
  await expect(steps.nth(0)).toContainText('Authenticator app');
  await expect(page.getByTestId('chain-code')).toHaveAttribute('maxlength', '6');
  const seconds = Number(await prompt.getByTestId('countdown').getAttribute('data-seconds'));
  expect(seconds).toBeGreaterThan(40);
  // Main's clock offset is measured to within half an app:info round trip: a second either way.
  expect(seconds).toBeLessThanOrEqual(61);
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-prompt-1180.png') });
  expect((await new AxeBuilder({ page }).include('[data-testid="chain-test-card"]').analyze()).violations.map((v) => v.id)).toEqual([]);

  // Pass: the focus moves to each current step; Enter submits. A backup code stands in for step 1,
  // and the backup-code count on this same screen follows.
  await page.getByTestId('chain-use-backup').click();
  await typeStep(page, backupCodes[1] ?? '');
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'done');
  await expect(page.getByTestId('backup-remaining')).toHaveAttribute('data-remaining', '9');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'current');
  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(prompt).toHaveAttribute('data-status', 'completed');
  await expect(page.getByTestId('chain-completed')).toBeVisible();
  await expect(page.getByTestId('chain-again')).toBeFocused();

  // A new attempt: step 1 passes, a wrong code at step 2 sends the chain back to step 1.
  await page.keyboard.press('Enter');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt).toHaveAttribute('data-position', '0');
  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(prompt).toHaveAttribute('data-position', '1');
  await typeStep(page, phones.wrong());
  await expect(page.getByTestId('chain-notice')).toHaveAttribute('data-notice', 'reset');
  await expect(page.getByTestId('chain-notice')).toContainText('went back to step 1');
  await expect(prompt).toHaveAttribute('data-position', '0');
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'current');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'locked');
  await expect(page.getByTestId('chain-notice')).toHaveAttribute('data-code', 'ERR-MFA-INVALID');
  await expect(page.getByTestId('chain-code')).toBeFocused();
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-1180.png') });

  await page.setViewportSize({ width: 800, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-800.png') });
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(page.getByTestId('chain-notice')).toContainText('1. adıma döndü');
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-800-tr.png') });
  await page.setViewportSize({ width: 1180, height: 780 });
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('chain-reset-1180-tr.png') });

  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 100 }));
  const events = audit.entries.map((e) => e.event);
  expect(events).toEqual(expect.arrayContaining(['mfa_chain_started', 'mfa_chain_completed', 'mfa_chain_step_failed', 'mfa_chain_reset']));
});

test('the Policies screen lists the four policies, and weakening one takes a critical chain first', async ({ app }) => {
  const { page } = app;
  const phones = new Phones();
  const backupCodes = await enrollTwo(page, phones);

  await page.getByTestId('nav-policies').click();
  const rows = page.getByTestId('policy-row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(3)).toHaveAttribute('data-sensitivity', 'critical');
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('2 steps, in a random order, 60 s');
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);

  // Fewer steps is weaker: the save asks for a chain at the critical policy, then saves.
  await rows.nth(3).getByTestId('policy-edit').click();
  await page.getByTestId('policy-steps').selectOption('1');
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-weaker')).toBeVisible();
  const prompt = page.getByTestId('chain-prompt');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await prompt.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotPath('policies-weaken-chain-1180.png') });
  // A backup code stands in for step 1, once: step 2 offers no backup code.
  await page.getByTestId('chain-use-backup').click();
  await typeStep(page, backupCodes[0] ?? '');
  await expect(prompt).toHaveAttribute('data-position', '1');
  await expect(page.getByTestId('chain-use-backup')).toHaveCount(0);

  await typeStep(page, phones.code(await currentLabel(page)));
  await expect(page.getByTestId('policies-status')).toContainText('Critical');
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('1 step, in a random order');
  const audit = await page.evaluate(() => window.custodian.audit.list({ limit: 100 }));
  expect(audit.entries.map((e) => e.event)).toEqual(expect.arrayContaining(['mfa_chain_completed', 'mfa_step_up_used', 'mfa_policy_changed']));
  expect(JSON.stringify(audit.entries)).not.toContain(backupCodes[0] ?? 'none');

  // A stronger change needs no chain.
  await rows.nth(3).getByTestId('policy-edit').click();
  await page.getByTestId('policy-steps').selectOption('2');
  await page.getByTestId('policy-save').click();
  await expect(rows.nth(3).getByTestId('policy-summary')).toContainText('2 steps');
  await expect(page.getByTestId('chain-prompt')).toHaveCount(0);

  // The backup code used in the chain is gone from the count the Factors screen shows.
  await page.getByTestId('nav-factors').click();
  await expect(page.getByTestId('backup-remaining')).toHaveAttribute('data-remaining', '9');
});
