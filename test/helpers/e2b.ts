/**
 * The official E2B SDKs against a test server, configured the way a user
 * does it: the environment `warden e2b env` prints. The SDK reads it when it
 * builds each connection, so tests set it once per file. E2B_DOMAIN is
 * removed: nothing may fall back to E2B's cloud.
 */
import { e2bEnv } from '../../packages/cli/src/commands/e2b.js';
import type { TestServer } from './server.js';

const NAMES = ['E2B_API_URL', 'E2B_SANDBOX_URL', 'E2B_API_KEY', 'E2B_DEBUG', 'E2B_DOMAIN', 'E2B_ACCESS_TOKEN'] as const;

/** Points the SDKs at `t` with `apiKey` as E2B_API_KEY; returns a function that restores the environment. */
export function useE2b(t: TestServer, apiKey: string): () => void {
  const saved = NAMES.map((n) => [n, process.env[n]] as const);
  for (const n of NAMES) delete process.env[n];
  Object.assign(process.env, e2bEnv(t.url, apiKey));
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Process names running in a sandbox, read from /proc inside it by `run`. */
export const PROCESS_NAMES = 'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done';
