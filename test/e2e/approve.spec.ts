import { spawn } from 'node:child_process';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { addIntegration, createProfile, enrollFirstFactor, enrollTwo, passChain, Phones, shotPath } from './desk-helpers';
import { expect, test } from './fixtures';

const CLI = join(__dirname, '..', '..', 'bin', 'custodian.js');

interface Running {
  /** What the process has written to stderr so far (the match code shows there at once). */
  stderr(): string;
  done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/**
 * The built CLI as a backup script runs it: a separate process, the key in its environment, and
 * `input` (a token) on stdin, never in its arguments.
 */
function custodian(args: string[], env: NodeJS.ProcessEnv, input?: string): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  // No input is an empty stdin that ends at once, as `< /dev/null` gives a script.
  child.stdin.end(input === undefined ? '' : `${input}\n`);
  return { stderr: () => stderr, done: new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr }))) };
}

/** The number the requester's CLI shows for the approver to type. */
async function matchCodeOf(request: Running): Promise<string> {
  await expect.poll(() => request.stderr()).toMatch(/match code \d\d/);
  return /match code (\d\d)/.exec(request.stderr())?.[1] ?? '';
}

/** Screenshots at the two widths the desk is checked at, in the current language. */
async function shoot(page: Page, name: string, language: 'en' | 'tr'): Promise<void> {
  for (const width of [1180, 800]) {
    // Tall enough for the whole dialog (checklist, number, chain) in one picture.
    await page.setViewportSize({ width, height: 1100 });
    await page.screenshot({ path: shotPath(`${name}-${width}-${language}.png`) });
  }
  await page.setViewportSize({ width: 1180, height: 780 });
}

async function inTurkishToo(page: Page, name: string): Promise<void> {
  await shoot(page, name, 'en');
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
  await shoot(page, name, 'tr');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
}

// Two time steps either side, so each factor has unused codes left after enrolling; and time
// enough for the screenshots before the request lapses.
test.use({ appEnv: { CUSTODIAN_MFA_WINDOW_STEPS: '2', CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '600' } });

test('the whole story: the CLI asks, the approver checks, types the number and passes a 2-factor chain; the token redeems once', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  // A critical request needs a security admin (DESIGN.md "Domain": the role ceilings).
  await enrollTwo(page, phones, 'security-admin');
  const key = await addIntegration(page, 'restic-nightly');
  const env = { ...app.env, CUSTODIAN_API_KEY: key };
  await page.getByTestId('nav-approvals').click();

  const request = custodian(
    ['request', '--backup', 'snap-2026-11-24', '--target', '/srv/restore/db', '--reason', 'restore drill', '--sensitivity', 'critical', '--requester', 'backup@db1'],
    env,
  );
  const matchCode = await matchCodeOf(request);

  // Where it came from: the integration (verified by its key), the masked address, and the
  // requester marked as only asserted.
  const card = page.getByTestId('request-card');
  await expect(card).toHaveAttribute('data-state', 'pending');
  await expect(card.getByRole('heading', { name: 'backup@db1' })).toBeVisible();
  await expect(card.getByTestId('request-integration')).toHaveText('restic-nightly');
  await expect(card.getByTestId('request-source')).toHaveText(/^127\.0\.0\./);
  const tag = card.getByTestId('unverified-tag').first();
  await expect(tag).toHaveText('Unverified');
  await expect(tag).toHaveAttribute('title', /nothing verified it/);
  await expect(tag).toHaveAccessibleDescription(/restic-nightly asserted and nothing checked/);

  // Keyboard only: Approve opens the dialog with the checks, the focus in the number field.
  await card.getByTestId('request-approve').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('approve-dialog');
  await expect(dialog).toBeVisible();
  const checks = dialog.getByTestId('approve-check');
  await expect(checks).toHaveCount(4);
  for (const rule of ['role-ceiling', 'self-approval', 'incident-mode', 'expiry']) {
    await expect(dialog.locator(`[data-testid="approve-check"][data-rule="${rule}"]`)).toHaveAttribute('data-state', 'pass');
  }
  await expect(dialog.locator('[data-rule="role-ceiling"]')).toContainText('Your role approves up to Critical; this request is Critical.');
  await expect(dialog.getByTestId('approve-match-code')).toBeFocused();
  await expect(dialog.getByTestId('approve-confirm')).toBeDisabled();
  await page.keyboard.type(matchCode);
  await expect(dialog.getByTestId('approve-confirm')).toBeEnabled();
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);

  // Enter: the chain at the request's sensitivity (critical: two steps), before anything is sent.
  await page.keyboard.press('Enter');
  const prompt = dialog.getByTestId('chain-prompt');
  await expect(prompt).toHaveAttribute('data-status', 'open');
  await expect(prompt.getByTestId('chain-step')).toHaveCount(2);
  await expect(prompt).toContainText('Critical');
  await expect(dialog.getByTestId('approve-match-code')).toHaveAttribute('readonly', '');
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await inTurkishToo(page, 'approve-dialog');
  await passChain(page, phones);

  // Approved: the dialog goes, the card says so with the token's countdown, focus on the card.
  await expect(dialog).toHaveCount(0);
  await expect(card).toHaveAttribute('data-state', 'approved');
  await expect(card.getByRole('heading', { name: 'backup@db1' })).toBeFocused();
  const token = card.getByTestId('request-token');
  const countdown = token.getByTestId('countdown');
  await expect(countdown).toHaveAttribute('data-state', 'running');
  const seconds = Number(await countdown.getAttribute('data-seconds'));
  expect(seconds).toBeGreaterThan(850);
  expect(seconds).toBeLessThanOrEqual(901);

  // The CLI prints the token, once, and exits 0; the card hears that it was collected.
  const result = await request.done;
  expect(result.status, result.stderr).toBe(0);
  const raw = result.stdout.trim();
  expect(raw).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(token).toHaveAttribute('data-state', 'delivered');
  await expect(token.getByTestId('token-revoke')).toBeVisible();
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await inTurkishToo(page, 'approved-card');

  // Redeemed once (the token on stdin, not in argv): the approved backup and target.
  const first = await custodian(['redeem', '--requester', 'backup@db1'], env, raw).done;
  expect(first.status, first.stderr).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ backupId: 'snap-2026-11-24', target: '/srv/restore/db' });
  await expect(token).toHaveAttribute('data-state', 'redeemed');
  await expect(token.getByTestId('request-token-state')).toHaveText('Redeemed: used once, it works no more');
  await expect(token.getByTestId('token-revoke')).toHaveCount(0);
  await expect(token.getByTestId('countdown')).toHaveCount(0);

  // A replay is a deny: exit 3.
  const second = await custodian(['redeem', '--requester', 'backup@db1'], env, raw).done;
  expect(second.stderr).toContain('not valid');
  expect(second.status).toBe(3);

  await page.getByTestId('approvals-tab-history').click();
  const row = page.getByTestId('history-row');
  await expect(row).toHaveAttribute('data-status', 'approved');
  await expect(row.getByTestId('history-token')).toHaveAttribute('data-state', 'redeemed');
  await expect(row.getByTestId('history-token')).toHaveText('Token redeemed');
});

test('a wrong number is refused after the chain, nothing is approved, and Approve starts a new chain; Revoke takes the token back', async ({ app }) => {
  const { page } = app;
  const phones = new Phones(2);
  await enrollTwo(page, phones);
  const key = await addIntegration(page, 'borg-weekly');
  const env = { ...app.env, CUSTODIAN_API_KEY: key };
  await page.getByTestId('nav-approvals').click();
  const request = custodian(['request', '--backup', 'snap-3', '--target', '/srv/restore', '--reason', 'drill', '--sensitivity', 'high', '--requester', 'backup@db2'], env);
  const right = await matchCodeOf(request);
  const wrong = String((Number(right) + 1) % 100).padStart(2, '0');

  const card = page.getByTestId('request-card');
  await card.getByTestId('request-approve').click();
  const dialog = page.getByTestId('approve-dialog');
  await expect(dialog.getByTestId('approve-match-code')).toBeFocused();
  await page.keyboard.type(wrong);
  await page.keyboard.press('Enter');
  await passChain(page, phones);

  const error = dialog.getByTestId('form-error');
  await expect(error).toHaveAttribute('data-code', 'ERR-RESTORE-MATCH-MISMATCH');
  await expect(error).toHaveText('The number does not match the one the requester shows.');
  await expect(dialog.getByTestId('approve-again')).toBeVisible();
  await expect(dialog.getByTestId('chain-prompt')).toHaveCount(0);
  // The field is empty again and has the focus: the number is read afresh, not retyped.
  await expect(dialog.getByTestId('approve-match-code')).toHaveValue('');
  await expect(dialog.getByTestId('approve-match-code')).toBeFocused();
  await expect(card).toHaveAttribute('data-state', 'pending');
  const status = await custodian(['requests', 'show', await card.getAttribute('data-id') ?? ''], app.env).done;
  expect(status.stdout).toMatch(/status:\s+pending/);

  // In Turkish too, from the catalog.
  await page.evaluate(() => window.custodian.settings.setLanguage('tr'));
  await expect(error).toHaveText('Sayı, isteği yapanın gösterdiği sayıyla eşleşmiyor.');
  await page.evaluate(() => window.custodian.settings.setLanguage('en'));

  // The grant was spent: Approve runs a new chain before the number is sent again.
  await page.keyboard.type(right);
  await page.keyboard.press('Enter');
  await expect(dialog.getByTestId('chain-prompt')).toHaveAttribute('data-position', '0');
  await expect(error).toHaveCount(0);
  await passChain(page, phones);
  await expect(dialog).toHaveCount(0);
  await expect(card).toHaveAttribute('data-state', 'approved');
  const result = await request.done;
  expect(result.status).toBe(0);

  // Revoke asks first (Enter by reflex lands on Cancel), then the token no longer works.
  const token = card.getByTestId('request-token');
  await token.getByTestId('token-revoke').focus();
  await page.keyboard.press('Enter');
  const confirm = page.getByTestId('confirm-revoke-token');
  await expect(confirm).toContainText('stops working at once');
  await expect(confirm.getByTestId('confirm-revoke-token-cancel')).toBeFocused();
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.keyboard.press('Enter');
  await expect(confirm).toHaveCount(0);
  await expect(token).toHaveAttribute('data-state', 'delivered');
  await token.getByTestId('token-revoke').click();
  await confirm.getByTestId('confirm-revoke-token-confirm').click();
  await expect(token).toHaveAttribute('data-state', 'revoked');
  await expect(token.getByTestId('request-token-state')).toHaveText('Revoked: it no longer works');
  await expect(token.getByTestId('token-revoke')).toHaveCount(0);
  const refused = await custodian(['redeem', '--requester', 'backup@db2'], env, result.stdout.trim()).done;
  expect(refused.status).toBe(3);
});

test('the requester cannot approve their own request: the checklist says so and asks for nothing', async ({ app }) => {
  const { page } = app;
  await createProfile(page);
  await enrollFirstFactor(page);
  const key = await addIntegration(page, 'restic-nightly');
  await page.getByTestId('nav-approvals').click();
  // The tool asserts the approver's own principal.
  const request = custodian(['request', '--no-wait', '--backup', 'snap-1', '--target', '/srv', '--reason', 'mine', '--sensitivity', 'low', '--requester', 'alice@corp'], {
    ...app.env,
    CUSTODIAN_API_KEY: key,
  });
  expect((await request.done).status).toBe(0);

  const card = page.getByTestId('request-card');
  await card.getByTestId('request-approve').click();
  const dialog = page.getByTestId('approve-dialog');
  const self = dialog.locator('[data-testid="approve-check"][data-rule="self-approval"]');
  await expect(self).toHaveAttribute('data-state', 'fail');
  await expect(self).toContainText('You cannot approve your own restore request.');
  await expect(dialog.getByTestId('approve-blocked')).toBeVisible();
  await expect(dialog.getByTestId('approve-match-code')).toHaveCount(0);
  await expect(dialog.getByTestId('approve-confirm')).toHaveCount(0);
  await expect(dialog.getByTestId('approve-close')).toBeFocused();
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(card.getByTestId('request-approve')).toBeFocused();
  await expect(card).toHaveAttribute('data-state', 'pending');
});
