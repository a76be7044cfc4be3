import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_ALIASES, envNameFor, settingPaths } from '../../src-main/config';
import { ERROR_CODES, ERRORS } from '../../src-shared/errors';

// The README is part of the contract with administrators and backup tools: keep it true.
const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('the README', () => {
  it('documents every error code with its HTTP status', () => {
    for (const code of ERROR_CODES) expect(readme, code).toContain(`| \`${code}\` | ${ERRORS[code].status} |`);
  });

  it('documents every setting’s environment override, and the seeds’ names', () => {
    for (const { path } of settingPaths()) expect(readme, path).toContain(`\`${envNameFor(path)}\``);
    for (const alias of Object.keys(ENV_ALIASES)) expect(readme, alias).toContain(`\`${alias}\``);
  });

  it('shows the two setup commands', () => {
    expect(readme).toContain('npm run setup');
    expect(readme).toContain('npm test');
  });
});
