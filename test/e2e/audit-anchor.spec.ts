import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { expect, test } from './fixtures';

// Issue 9, item 5: with entries in the log, an anchor that is missing from the keychain is a
// failure on screen too, never the green "Chain verified".
test('the audit view turns red when the keychain anchor is deleted', async ({ app }) => {
  const { page, env } = app;
  // Two audited changes, made the way an approver makes them.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('tr');
  await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
  await page.getByTestId('language-select').selectOption('en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  const db = new BetterSqlite3(join(env.CUSTODIAN_DATA_DIR!, 'custodian.db'), { readonly: true });
  const databaseId = db.prepare("SELECT value FROM settings WHERE key = 'database.id'").pluck().get() as string;
  db.close();
  const keychain = new KeytarSecretStore({ service: env.CUSTODIAN_KEYCHAIN_SERVICE!, timeoutMs: 5000 });
  const account = `audit:head:${databaseId}`;
  // The app anchors after each commit; the tamper comes once it has.
  await expect.poll(() => keychain.get(account)).toMatch(/^2 [0-9a-f]{64}$/);
  await keychain.delete(account);

  await page.getByTestId('nav-audit').click();
  const status = page.getByTestId('audit-chain-status');
  await expect(status).toHaveAttribute('data-state', 'broken');
  await expect(status).toContainText('This log has no anchor in the system keychain');
  await expect(page.getByTestId('audit-anchor-status')).toHaveAttribute('data-anchor', 'anchor-missing');
  await expect(page.getByTestId('audit-anchor-status')).toContainText('custodian audit reanchor');
});
