import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter } from '../../src-main/ipc/ipc-router';
import { oathtool } from '../fixtures/otp';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian } from '../fixtures/temp-custodian';

// Messages a newcomer met (issue 9 item 7): each says what happened, in the shell and the window.
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-cli-messages-'));
  env = { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_KEYCHAIN_SERVICE: `custodian-test-${dir.slice(-6)}` };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('what the shell says', () => {
  it('a second integration with a taken name: it says the name exists, and adds nothing', () => {
    expect(runCli(['integrations', 'add', 'restic-nightly'], env).status).toBe(0);
    const again = runCli(['integrations', 'add', 'restic-nightly'], env);
    expect(again.stderr).toBe('custodian: An integration named restic-nightly already exists. Choose another name, or revoke the old one first.\n');
    expect(again.stdout).toBe('');
    expect(again.status).toBe(1);
    const list = JSON.parse(runCli(['integrations', 'list', '--json'], env).stdout) as { integrations: unknown[] };
    expect(list.integrations).toHaveLength(1);
  });

  it('confirming a factor that is already active: it says so instead of "Not found."', () => {
    expect(runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'operator'], env).status).toBe(0);
    const enrolled = runCli(['factors', 'enroll', '--label', 'Phone', '--json'], env);
    const { id, uri } = JSON.parse(enrolled.stdout) as { id: string; uri: string };
    const secret = new URL(uri).searchParams.get('secret') ?? '';
    expect(runCli(['factors', 'confirm', id, oathtool(secret, Date.now())], env).status).toBe(0);

    const again = runCli(['factors', 'confirm', id, oathtool(secret, Date.now())], env);
    expect(again.stderr).toBe('custodian: This factor is already active: there is nothing to confirm.\n');
    expect(again.status).toBe(1);
    // An id that does not exist is still "Not found.".
    expect(runCli(['factors', 'confirm', 'f_aaaaaaaaaaaaaaaa', '123456'], env).stderr).toBe('custodian: Not found.\n');
  });

  it('a role that does not exist: it lists the ones that do', () => {
    const run = runCli(['profile', 'init', '--name', 'Alice', '--principal', 'alice@corp', '--role', 'boss'], env);
    expect(run.stderr).toContain("argument 'boss' is invalid. Allowed choices are operator, admin, security-admin.");
    expect(run.status).toBe(2);
    expect(runCli(['factors', 'list', '--json'], env).stdout).toContain('"factors":[]');
  });
});

describe('what the window says', () => {
  it('a second integration with a taken name: ERR-INTEGRATION-EXISTS, in the approver’s language', async () => {
    const t = tempCustodian();
    try {
      const router = createIpcRouter({
        handlers: createHandlers(t.custodian, 'chromium-host'),
        isTrustedUrl: (url) => url.origin === 'http://127.0.0.1:5555',
        language: () => t.custodian.settings.get().language,
      });
      const app = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
      expect((await router.handle('integrations:add', { name: 'borg-weekly' }, app)).ok).toBe(true);
      const before = t.custodian.audit.head();
      expect(await router.handle('integrations:add', { name: 'borg-weekly' }, app)).toEqual({
        ok: false,
        error: {
          code: 'ERR-INTEGRATION-EXISTS',
          message: 'An integration named borg-weekly already exists. Choose another name, or revoke the old one first.',
          details: { name: 'borg-weekly' },
        },
      });
      t.custodian.settings.setLanguage('tr', 'alice@corp');
      const turkish = await router.handle('integrations:add', { name: 'borg-weekly' }, app);
      expect(turkish.ok ? '' : turkish.error.message).toBe('borg-weekly adında bir entegrasyon zaten var. Başka bir ad seçin ya da önce eskisinin erişimini kaldırın.');
      expect(t.custodian.integrations.list()).toHaveLength(1);
      // Only the language change was recorded: a refused add writes nothing.
      expect(t.custodian.audit.head()?.id).toBe((before?.id ?? 0) + 1);
    } finally {
      await t.remove();
    }
  });
});
