/**
 * A real Warden server for end-to-end tests: listening on a loopback port, with
 * its own data dir, SQLite store and engine; keys for as many tenants as a test
 * needs. Disposing it stops the server and removes the data dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type RunningServer, type ServeOptions } from '@warden/server';
import type { Scope } from '@warden/protocol';

export interface TestServer extends AsyncDisposable {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  readonly adminKey: string;
  /** A new key for `tenant` (default scopes: read + write). */
  key(tenant: string, scopes?: Scope[], ttlMs?: number): string;
  /** SDK connection options for a key. */
  conn(key: string): { url: string; apiKey: string };
  /** A raw JSON API call; the body is the answer's first JSON line (or `{ raw }` when it is not JSON). */
  call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: { code?: string } & Record<string, unknown> }>;
  /** Uploads `body` to `path` in a sandbox (PUT /files, streamed octets). */
  put(key: string, sandboxId: string, path: string, body: string): Promise<Response>;
}

export interface TestServerOptions {
  /** Warm default sandboxes (`--pool`). Default 0: tests that count sandboxes see only their own. */
  readonly poolSize?: number;
  /** The egress proxy's DNS servers and upstream CAs (ServeOptions.egress). */
  readonly egress?: ServeOptions['egress'];
  /** Where the server's JSON log goes (with logLevel 'debug' when set). Default: WARDEN_TEST_LOG level on stderr. */
  readonly logStream?: NodeJS.WritableStream;
}

export async function testServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-srv-'));
  const server = await serve({
    port: 0,
    dataDir,
    logLevel: options.logStream ? 'debug' : (process.env.WARDEN_TEST_LOG ?? 'silent'),
    adminKey: `wdn_admin_${Math.random().toString(36).slice(2)}`,
    poolSize: options.poolSize ?? 0,
    ...(options.egress ? { egress: options.egress } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const adminKey = server.createdAdminKey ?? '';
  return {
    server,
    url: server.url,
    dataDir,
    adminKey,
    key: (tenant, scopes = ['sandboxes:read', 'sandboxes:write'], ttlMs) => server.app.keys.create({ name: `test ${tenant}`, tenant, scopes, ...(ttlMs ? { ttlMs } : {}) }).key,
    conn: (apiKey) => ({ url: server.url, apiKey }),
    call: async (key, method, path, body) => {
      const res = await fetch(server.url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text.split('\n')[0] ?? '{}') as Record<string, unknown> };
      } catch {
        return { status: res.status, body: { raw: text } };
      }
    },
    put: (key, sandboxId, path, body) =>
      fetch(`${server.url}/v1/sandboxes/${sandboxId}/files?path=${encodeURIComponent(path)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        body,
      }),
    [Symbol.asyncDispose]: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
