import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));
const alias = { '@warden/protocol': src('protocol'), '@warden/core': src('core'), '@warden/server': src('server'), '@warden/sdk': src('sdk') };

export default defineConfig({
  resolve: { alias },
  test: {
    maxWorkers: 2,
    projects: [
      { resolve: { alias }, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'packages/agent/test/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' },
      },
      {
        resolve: { alias },
        test: { name: 'security', include: ['test/security/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' },
      },
    ],
  },
});
