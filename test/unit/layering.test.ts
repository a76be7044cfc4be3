import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The boundaries of STYLE.md rule 1 are lint errors; these prove the rules bite where they should.
const eslint = new ESLint({ cwd: join(__dirname, '..', '..') });

async function restricted(filePath: string, code: string): Promise<boolean> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals');
}

describe('the layering rules', () => {
  it('let only the Electron entry and adapters import electron', async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    expect(await restricted('src-main/services/audit/x.service.ts', code)).toBe(true);
    expect(await restricted('src-main/composition-x.ts', code)).toBe(true);
    expect(await restricted('src-main/electron/x.ts', code)).toBe(false);
    expect(await restricted('src-main/index.ts', code)).toBe(false);
  });

  it('keep Node, DOM and both sides out of src-shared', async () => {
    expect(await restricted('src-shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toBe(true);
    expect(await restricted('src-shared/x.ts', 'export const w = window.location;\n')).toBe(true);
    expect(await restricted('src-shared/x.ts', "import { loadConfig } from '../src-main/config';\nexport const l = loadConfig;\n")).toBe(true);
    expect(await restricted('src-shared/x.ts', "import { z } from 'zod';\nexport const s = z.string();\n")).toBe(false);
  });

  it('keep the renderer out of src-main', async () => {
    const code = "import { APP_VERSION } from '../../src-main/version';\nexport const v = APP_VERSION;\n";
    expect(await restricted('src-renderer/features/x.ts', code)).toBe(true);
    expect(await restricted('src-renderer/features/y.ts', "import type { AuditEntry } from '../../src-shared/domain/audit';\nexport type A = AuditEntry;\n")).toBe(false);
  });

  it('let the preload import only src-shared and its own folder', async () => {
    expect(await restricted('src-main/preload/x.ts', "import { loadConfig } from '../config';\nexport const l = loadConfig;\n")).toBe(true);
    expect(await restricted('src-main/preload/x.ts', "import { createCustodianApi } from './custodian-api';\nexport const c = createCustodianApi;\n")).toBe(false);
    expect(await restricted('src-main/preload/x.ts', "import { channels } from '../../src-shared/ipc/contract';\nexport const c = channels;\n")).toBe(false);
  });

  it('keep the MFA services on the factor methods and the Random port (issue 10)', async () => {
    const check = "import { checkTotp } from './totp';\nexport const c = checkTotp;\n";
    expect(await restricted('src-main/services/mfa/verifier-x.ts', check)).toBe(true);
    expect(await restricted('src-main/services/mfa/methods/x.method.ts', "import { checkTotp } from '../totp';\nexport const c = checkTotp;\n")).toBe(false);
    expect(await restricted('src-main/services/mfa/x.service.ts', "import { randomBytes } from 'node:crypto';\nexport const r = randomBytes;\n")).toBe(true);
    expect(await restricted('src-main/services/mfa/x.service.ts', "import { createHmac } from 'node:crypto';\nexport const h = createHmac;\n")).toBe(false);
    expect(await restricted('src-main/services/mfa/x.service.ts', "import { app } from 'electron';\nexport const a = app;\n")).toBe(true);
  });
});
