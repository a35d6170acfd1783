// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'scratch/**', 'packages/agent/*.mjs', 'packages/cli/bin/**', 'packages/agent/*.d.mts', 'eslint.config.js', 'packages/core/src/code/servers/**', 'packages/dashboard/vite.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json', './packages/*/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['packages/core/src/**/*.ts', 'packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name=/^(exec|execSync)$/]", message: 'Use argv arrays (execFile/spawn), never a shell.' },
        { selector: "Property[key.name='shell'][value.value=true]", message: 'shell: true is banned in core.' },
      ],
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'protocol has no Node built-ins (the SDK and dashboard use it).' }] }],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['fastify', '@warden/cli', '@warden/sdk', '@warden/server'], message: 'core never imports the layers above it.' }] }],
    },
  },
  {
    files: ['packages/sdk/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The SDK runs in browsers too: fetch and web streams only, no Node built-ins.' },
            { group: ['@warden/core', '@warden/server', '@warden/cli'], message: 'The SDK talks to the API, never to the layers behind it.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/server/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['@warden/cli', '@warden/sdk'], message: 'The server sits on the core; it never imports its clients.' }] }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name=/^(exec|execSync)$/]", message: 'Use argv arrays (execFile/spawn), never a shell.' },
        { selector: "Property[key.name='shell'][value.value=true]", message: 'shell: true is banned in the server.' },
      ],
    },
  },
  {
    // MCP tools are a client of the API: they reach it through the SDK, from `warden mcp` over stdio
    // and from the server's /mcp over its own socket, so both transports run the same tool code through
    // the same routes (auth, scopes, tenant checks, scan gates, audit). No other server file may.
    files: ['packages/server/src/mcp/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@warden/cli', '@warden/core'], message: 'MCP tools go through the API (the SDK), never around it.' }] }],
    },
  },
  {
    // The dashboard runs in browsers and is a client of the API like any other: the SDK, never the layers behind it.
    files: ['packages/dashboard/src/**/*.{ts,tsx}'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The dashboard runs in browsers: no Node built-ins.' },
            { group: ['@warden/core', '@warden/server', '@warden/cli'], message: 'The dashboard talks to the API through @warden/sdk only.' },
          ],
        },
      ],
      // Command output, file names and audit text come from sandboxes: React must render them as text.
      'no-restricted-syntax': ['error', { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'Render text, never HTML: everything shown may come from a sandbox.' }],
    },
  },
  {
    // Route handlers and hooks are async whether or not they await, so fastify treats every
    // return value and every throw the same way.
    files: ['packages/server/src/routes/**/*.ts', 'packages/server/src/auth/**/*.ts', 'packages/server/src/e2b/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
