/**
 * Tenant isolation: tenant B's keys cannot see or touch anything of tenant A —
 * sandboxes, commands, sessions, files, watches, keys — and every refusal looks
 * like "not found", so B cannot even learn that A's ids exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let keyA: string;
let keyB: string;
let sbxA: string;
let cmdA: string;
let sesA: string;
const canary = 'tenant-a-secret-content';

const call = (key: string, method: string, path: string, body?: unknown): ReturnType<TestServer['call']> => t.call(key, method, path, body);

beforeAll(async () => {
  t = await testServer();
  keyA = t.key('alpha');
  keyB = t.key('bravo', ['sandboxes:read', 'sandboxes:write', 'approvals:decide']);
  const created = await call(keyA, 'POST', '/v1/sandboxes', { metadata: { owner: 'alpha' } });
  sbxA = String(created.body.id);
  const cmd = await call(keyA, 'POST', `/v1/sandboxes/${sbxA}/commands`, { cmd: 'sleep 600', background: true });
  cmdA = String(cmd.body.id);
  const ses = await call(keyA, 'POST', `/v1/sandboxes/${sbxA}/sessions`, {});
  sesA = String(ses.body.id);
  const put = await t.put(keyA, sbxA, 'secret.txt', canary);
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

describe('tenant B against tenant A', () => {
  const attempts: Array<[string, string, () => string, unknown?]> = [
    ['get the sandbox', 'GET', () => `/v1/sandboxes/${sbxA}`],
    ['kill the sandbox', 'DELETE', () => `/v1/sandboxes/${sbxA}`],
    ['extend its lifetime', 'POST', () => `/v1/sandboxes/${sbxA}/timeout`, { ttlMs: 60_000 }],
    ['run a command in it', 'POST', () => `/v1/sandboxes/${sbxA}/commands`, { cmd: 'echo pwned' }],
    ['list its commands', 'GET', () => `/v1/sandboxes/${sbxA}/commands`],
    ['get its command', 'GET', () => `/v1/sandboxes/${sbxA}/commands/${cmdA}`],
    ['reattach to its command output', 'GET', () => `/v1/sandboxes/${sbxA}/commands/${cmdA}/events`],
    ['write to its command stdin', 'POST', () => `/v1/sandboxes/${sbxA}/commands/${cmdA}/stdin`, { eof: true }],
    ['signal its command', 'POST', () => `/v1/sandboxes/${sbxA}/commands/${cmdA}/signal`, { signal: 'SIGKILL' }],
    ["resize its command's terminal", 'POST', () => `/v1/sandboxes/${sbxA}/commands/${cmdA}/resize`, { cols: 80, rows: 24 }],
    ['see its diff', 'GET', () => `/v1/sandboxes/${sbxA}/diff`],
    ['list its sessions', 'GET', () => `/v1/sandboxes/${sbxA}/sessions`],
    ['run in its session', 'POST', () => `/v1/sandboxes/${sbxA}/sessions/${sesA}/run`, { command: 'echo pwned' }],
    ['close its session', 'DELETE', () => `/v1/sandboxes/${sbxA}/sessions/${sesA}`],
    ['read its file', 'GET', () => `/v1/sandboxes/${sbxA}/files?path=secret.txt`],
    ['stat its file', 'GET', () => `/v1/sandboxes/${sbxA}/files/stat?path=secret.txt`],
    ['list its files', 'GET', () => `/v1/sandboxes/${sbxA}/files/list?path=/workspace`],
    ['check its file exists', 'GET', () => `/v1/sandboxes/${sbxA}/files/exists?path=secret.txt`],
    ['remove its file', 'DELETE', () => `/v1/sandboxes/${sbxA}/files?path=secret.txt`],
    ['make a directory in it', 'POST', () => `/v1/sandboxes/${sbxA}/files/mkdir`, { path: 'x' }],
    ['move its file', 'POST', () => `/v1/sandboxes/${sbxA}/files/move`, { from: 'secret.txt', to: 'stolen.txt' }],
    ['watch its files', 'GET', () => `/v1/sandboxes/${sbxA}/files/watch?path=/workspace`],
  ];

  it.each(attempts)('cannot %s: 404 E_SANDBOX_NOT_FOUND, as for an id that does not exist', async (_what, method, path, body) => {
    const r = await call(keyB, method, path(), body);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('E_SANDBOX_NOT_FOUND');
    expect(JSON.stringify(r.body)).not.toContain(canary);
    // The same call on an id nobody has answers the same way: B learns nothing.
    const ghost = await call(keyB, method, path().replace(sbxA, 'sbx_aaaaaaaaaaaa'), body);
    expect({ status: ghost.status, code: ghost.body.code }).toEqual({ status: 404, code: 'E_SANDBOX_NOT_FOUND' });
  });

  it('cannot upload into its sandbox', async () => {
    const res = await t.put(keyB, sbxA, 'secret.txt', 'overwritten');
    expect({ status: res.status, code: ((await res.json()) as { code?: string }).code }).toEqual({ status: 404, code: 'E_SANDBOX_NOT_FOUND' });
    // The host is the oracle: A's file is as A wrote it.
    const file = await fetch(`${t.url}/v1/sandboxes/${sbxA}/files?path=secret.txt`, { headers: { authorization: `Bearer ${keyA}` } });
    expect(await file.text()).toBe(canary);
  });

  it('does not see its sandboxes when listing, even filtering by its metadata', async () => {
    const r = await call(keyB, 'GET', `/v1/sandboxes?state=all&metadata=${encodeURIComponent('owner=alpha')}`);
    expect(r.status).toBe(200);
    expect(r.body.sandboxes).toEqual([]);
  });

  it('cannot list, create or revoke keys (no admin scope)', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys', { name: 'x', tenant: 'alpha', scopes: ['admin'] }],
      ['DELETE', `/v1/keys/key_aaaaaaaaaaaa`],
    ] as const) {
      const r = await call(keyB, method, path, body);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('E_FORBIDDEN');
    }
  });

  it('left everything of tenant A as it was (positive twin: A still reaches all of it)', async () => {
    expect((await call(keyA, 'GET', `/v1/sandboxes/${sbxA}`)).body.state).toBe('running');
    const cmd = await call(keyA, 'GET', `/v1/sandboxes/${sbxA}/commands/${cmdA}`);
    expect(cmd.body.running).toBe(true);
    const file = await fetch(`${t.url}/v1/sandboxes/${sbxA}/files?path=secret.txt`, { headers: { authorization: `Bearer ${keyA}` } });
    expect(await file.text()).toBe(canary);
    const ses = await call(keyA, 'POST', `/v1/sandboxes/${sbxA}/sessions/${sesA}/run`, { command: 'echo still-mine' });
    expect(ses.body.stdout).toBe('still-mine\n');
    expect((await call(keyA, 'GET', `/v1/sandboxes/${sbxA}/files/exists?path=stolen.txt`)).body.exists).toBe(false);
  });
});

describe('keys', () => {
  it('a revoked key stops working at once', async () => {
    const admin = t.adminKey;
    const created = await call(admin, 'POST', '/v1/keys', { name: 'short-lived', tenant: 'charlie' });
    const key = String(created.body.key);
    expect((await call(key, 'GET', '/v1/sandboxes')).status).toBe(200);
    const info = created.body.info as { id: string };
    expect((await call(admin, 'DELETE', `/v1/keys/${info.id}`)).status).toBe(200);
    const r = await call(key, 'GET', '/v1/sandboxes');
    expect({ status: r.status, code: r.body.code }).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
  });

  it('an expired key is refused', async () => {
    const created = await call(t.adminKey, 'POST', '/v1/keys', { name: 'expiring', tenant: 'charlie', ttlMs: 1000 });
    const key = String(created.body.key);
    expect((await call(key, 'GET', '/v1/sandboxes')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // the key's own lifetime, not a wait for a process
    const r = await call(key, 'GET', '/v1/sandboxes');
    expect({ status: r.status, code: r.body.code }).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
  });

  it('a read-only key can look but not run', async () => {
    const ro = t.key('alpha', ['sandboxes:read']);
    expect((await call(ro, 'GET', `/v1/sandboxes/${sbxA}`)).status).toBe(200);
    const r = await call(ro, 'POST', `/v1/sandboxes/${sbxA}/commands`, { cmd: 'echo x' });
    expect(r).toMatchObject({ status: 403, body: { code: 'E_FORBIDDEN', details: { scope: 'sandboxes:write' } } });
  });

  it('the key store never holds a key in clear', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${t.dataDir}/warden.db`, { readonly: true });
    try {
      const dump = JSON.stringify(db.prepare('SELECT * FROM api_keys').all());
      expect(dump).not.toContain(keyA);
      expect(dump).not.toContain(t.adminKey);
      expect(dump).toContain('bravo'); // positive twin: the dump does hold the key table
    } finally {
      db.close();
    }
  });
});
