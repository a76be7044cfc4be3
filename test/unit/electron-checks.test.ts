import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RENDERER_CSP } from '../../src-main/electron/content-security-policy';
import { JUSTIFIED, scan } from '../../scripts/electronegativity.mjs';

const root = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'custodian-eng-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function directives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name as string, values.join(' ')]),
  );
}

describe('the Electron checks (issue 13)', () => {
  it('keep the page’s meta CSP equal to the header main sets, which Electronegativity cannot read', () => {
    const html = readFileSync(join(root, 'src-renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const header = directives(RENDERER_CSP);
    // A meta element cannot carry frame-ancestors (CSP3 §6.4.2): the header alone does.
    header.delete('frame-ancestors');
    expect(directives(meta ?? '')).toEqual(header);
  });

  it('justify in the README each finding the gate lets through', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const { id, file } of JUSTIFIED) expect(readme, `${id} ${file}`).toMatch(new RegExp(`\\| \`${id}\` \\| \`${file.replace(/[.]/g, '\\.')}\` \\|`));
  });

  it('fail on a window that turns isolation off, and on a justification with nothing left to justify', async () => {
    const dir = join(scratch, 'app');
    mkdirSync(join(dir, 'src-main'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', devDependencies: { electron: '41.0.0' } }));
    writeFileSync(
      join(dir, 'src-main', 'window.ts'),
      "import { BrowserWindow } from 'electron';\n" +
        "export const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
    );
    const { problems } = await scan(dir, [{ id: 'NOT_A_CHECK', file: 'src-main/window.ts', count: 1, why: 'stale' }]);
    expect(problems.some((p: string) => p.startsWith('SANDBOX_JS_CHECK at src-main/window.ts'))).toBe(true);
    expect(problems.some((p: string) => p.startsWith('CONTEXT_ISOLATION_JS_CHECK at src-main/window.ts'))).toBe(true);
    expect(problems).toContain('justified but no longer found, drop it here and in the README: NOT_A_CHECK in src-main/window.ts');
  });
});
