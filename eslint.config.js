// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');

const electronOnly = {
  paths: [{ name: 'electron', message: 'Only src-main/index.ts, src-main/electron/ and the Electron preload may import electron.' }],
};
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'url', 'util', 'stream', 'events'];

/**
 * The layering rules of STYLE.md rule 1, enforced by lint: src-shared imports no runtime, only the
 * Electron adapters import electron, the renderer never imports src-main, the preload imports only
 * src-shared and its own folder.
 */
module.exports = tseslint.config(
  { ignores: ['out/**', 'node_modules/**', '.tsbuild/**', '.electron-native/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', electronOnly],
    },
  },
  {
    files: ['src-main/index.ts', 'src-main/electron/**', 'src-main/preload/electron-preload.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src-shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'src-shared runs on both sides: no runtime imports.' }],
          patterns: [
            { group: nodeBuiltins, message: 'src-shared runs on both sides: no Node imports.' },
            { group: ['**/src-main/**', '**/src-renderer/**', 'react', 'react-dom'], message: 'src-shared imports neither side.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'process', 'Buffer', '__dirname'],
    },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks to main only through window.custodian.' }],
          patterns: [
            { group: ['**/src-main/**', '**/src-main'], message: 'The renderer never imports src-main.' },
            { group: nodeBuiltins, message: 'The renderer has no Node.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/preload/**'],
    ignores: ['src-main/preload/electron-preload.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only electron-preload.ts imports electron.' }],
          patterns: [
            { regex: '^\\.\\./(?!\\.\\./src-shared/)', message: 'The preload imports only src-shared and its own folder.' },
            { group: nodeBuiltins, message: 'The sandboxed preload has no Node.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/preload/electron-preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!\\.\\./src-shared/)', message: 'The preload imports only src-shared and its own folder.' },
            { group: nodeBuiltins, message: 'The sandboxed preload has no Node.' },
          ],
        },
      ],
    },
  },
  {
    // Issue 10: the MFA services check a code only through its factor type's method (methods/),
    // and take their randomness from the injected Random port (STYLE.md rule 6).
    files: ['src-main/services/mfa/**'],
    ignores: ['src-main/services/mfa/methods/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...electronOnly.paths,
            {
              name: 'node:crypto',
              importNames: ['randomBytes', 'randomInt', 'randomUUID', 'getRandomValues'],
              message: 'MFA takes its randomness from the injected Random port (src-main/random.ts).',
            },
          ],
          patterns: [{ group: ['./totp', '../totp'], importNames: ['checkTotp'], message: 'Check a code through its FactorMethod (methods/registry.ts).' }],
        },
      ],
    },
  },
  {
    // Tests index into fixtures they just built; a failed assertion says more than a guard would.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
