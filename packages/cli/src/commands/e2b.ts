/**
 * `warden e2b env`: the environment that points the official E2B SDKs
 * (`e2b`, `@e2b/code-interpreter`) at a Warden server, as `export` lines for
 * `eval "$(warden e2b env)"` or, with --json, one object of name → value.
 */
import { parseArgs } from 'node:util';
import { printJson, UsageError } from '../output.js';

export const E2B_USAGE = `usage: warden e2b env [--server URL] [--json]
  prints E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY (from WARDEN_API_KEY) and E2B_DEBUG=false
  for the E2B SDKs to use the Warden server at URL (default: $WARDEN_URL, else http://127.0.0.1:8765)`;

/**
 * The variables the E2B SDKs read, for a Warden server at `url`. Control-plane
 * calls go to `<url>/e2b`; calls into a sandbox go to `<url>` itself, naming the
 * sandbox in a header. E2B_DEBUG=false overrides a stale debug setting, which
 * would send sandbox calls to localhost:49983 and skip the API. The key is
 * left out when there is none. Pure.
 */
export function e2bEnv(url: string, apiKey: string | undefined): Record<string, string> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`--server must be the Warden server's URL such as http://127.0.0.1:8765, got ${JSON.stringify(url)}.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--server must be an http:// or https:// URL, got ${JSON.stringify(url)}.`);
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  return {
    E2B_API_URL: `${root}/e2b`,
    E2B_SANDBOX_URL: root,
    ...(apiKey !== undefined && apiKey !== '' ? { E2B_API_KEY: apiKey } : {}),
    E2B_DEBUG: 'false',
  };
}

const shellQuote = (v: string): string => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`);

export async function e2bCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'env') throw new UsageError(E2B_USAGE);
  const { values } = parseArgs({ args: rest, options: { server: { type: 'string' }, json: { type: 'boolean' } } });
  const env = e2bEnv(values.server ?? process.env.WARDEN_URL ?? 'http://127.0.0.1:8765', process.env.WARDEN_API_KEY);
  if (values.json) printJson(env);
  else process.stdout.write(Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join(''));
  if (env.E2B_API_KEY === undefined) process.stderr.write('warden: E2B_API_KEY is not set: set WARDEN_API_KEY to your Warden API key (`warden keys create`), or export E2B_API_KEY yourself.\n');
  return Promise.resolve(0);
}
