import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));
const alias = { '@warden/protocol': src('protocol'), '@warden/core': src('core'), '@warden/server': src('server'), '@warden/sdk': src('sdk') };

/** Tests that must pass on every runtime (they create sandboxes through `testEngine`, whose runtime is WARDEN_TEST_RUNTIME). */
const CONFORMANCE = [
  'test/security/**/*.test.ts',
  ...['code-contexts', 'codebase', 'exec', 'files', 'lifecycle', 'pool', 'pty', 'sessions'].map((f) => `test/integration/${f}.test.ts`),
];

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
      // The conformance suite: the engine's integration and security tests again, on the other runtimes.
      ...(['gvisor', 'docker'] as const).map((runtime) => ({
        resolve: { alias },
        test: {
          name: `conformance-${runtime}`,
          include: CONFORMANCE,
          env: { WARDEN_TEST_RUNTIME: runtime },
          // Docker: an engine to talk to (a private dockerd when none answers), for the whole run.
          ...(runtime === 'docker' ? { globalSetup: ['test/helpers/dockerd.ts'] } : {}),
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks' as const,
        },
      })),
    ],
  },
});
