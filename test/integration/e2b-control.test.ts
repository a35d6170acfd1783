/**
 * The official `e2b` SDK (the newest version and the previous minor, which
 * uses the v1 create and connect routes), unchanged, against a real Warden
 * server over a socket: create, connect, list, getInfo, setTimeout, kill,
 * tenancy and auth, access tokens, and the features Warden refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Current from 'e2b';
import * as PreviousModule from 'e2b-prev';

/** The previous minor has the same API; one type lets a test run against either. */
const Previous = PreviousModule as unknown as typeof Current;
import { testServer, type TestServer } from '../helpers/server.js';
import { rejection, useE2b } from '../helpers/e2b.js';
import { runWarden } from '../helpers/cli.js';

let t: TestServer;
let key: string;
let restore: () => void;

beforeAll(async () => {
  t = await testServer();
  key = t.key('e2b-control');
  restore = useE2b(t, key);
});

afterAll(async () => {
  restore?.();
  await t?.[Symbol.asyncDispose]();
});

/** Warden's own record of the sandbox (the host side, not what the SDK says). */
const record = (id: string) => t.server.app.store.get(id, 'e2b-control');

describe.each([
  ['e2b 2.51.0', Current],
  ['e2b 2.50.0 (v1 routes)', Previous],
] as const)('%s', (_name, sdk) => {
  it('creates a sandbox with metadata, envs and a timeout, and reports it', async () => {
    const before = Date.now();
    const sbx = await sdk.Sandbox.create({ metadata: { owner: 'ada', job: '7' }, envs: { GREETING: 'hi' }, timeoutMs: 120_000 });
    try {
      const info = await sbx.getInfo();
      expect(info).toMatchObject({ sandboxId: sbx.sandboxId, templateId: 'base', name: 'base', metadata: { owner: 'ada', job: '7' }, state: 'running', envdVersion: '0.5.7', cpuCount: 1, memoryMB: 512 });
      expect(info.endAt.getTime() - before).toBeGreaterThanOrEqual(119_000);
      expect(info.endAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
      expect((await sbx.commands.run('echo $GREETING')).stdout).toBe('hi\n');
      expect(record(sbx.sandboxId)).toMatchObject({ state: 'running', metadata: { owner: 'ada', job: '7' } });
      expect(await sbx.isRunning()).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it('connects by id from anywhere, extending (never shortening) the timeout', async () => {
    const sbx = await sdk.Sandbox.create({ timeoutMs: 60_000 });
    try {
      await sbx.files.write('state.txt', 'from the first client');
      const again = await sdk.Sandbox.connect(sbx.sandboxId, { timeoutMs: 600_000 });
      expect(again.sandboxId).toBe(sbx.sandboxId);
      expect(await again.files.read('state.txt')).toBe('from the first client');
      const extended = (await again.getInfo()).endAt.getTime();
      expect(extended - Date.now()).toBeGreaterThan(590_000);
      await sdk.Sandbox.connect(sbx.sandboxId, { timeoutMs: 30_000 });
      expect((await sbx.getInfo()).endAt.getTime()).toBe(extended);
    } finally {
      await sbx.kill();
    }
  });

  it('sets the timeout, longer or shorter, and the sandbox is killed when it passes', async () => {
    const sbx = await sdk.Sandbox.create({ timeoutMs: 60_000 });
    await sbx.setTimeout(900_000);
    expect((await sbx.getInfo()).endAt.getTime() - Date.now()).toBeGreaterThan(890_000);
    await sbx.setTimeout(2_000);
    const deadline = Date.now() + 15_000;
    while (record(sbx.sandboxId)?.state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(record(sbx.sandboxId)).toMatchObject({ state: 'closed', closedReason: 'expired' });
    expect(await sbx.isRunning()).toBe(false);
    await expect(sdk.Sandbox.getInfo(sbx.sandboxId)).rejects.toBeInstanceOf(sdk.SandboxNotFoundError);
  });

  it('kills: the sandbox is gone on the host, then "not found" everywhere', async () => {
    const sbx = await sdk.Sandbox.create();
    expect(await sbx.kill()).toBe(true);
    expect(record(sbx.sandboxId)).toMatchObject({ state: 'closed', closedReason: 'killed' });
    expect(() => t.server.engine.get(sbx.sandboxId)).toThrow();
    expect(await sbx.isRunning()).toBe(false);
    expect(await sdk.Sandbox.kill(sbx.sandboxId)).toBe(false);
    await expect(sdk.Sandbox.connect(sbx.sandboxId)).rejects.toBeInstanceOf(sdk.SandboxNotFoundError);
    await expect(sbx.setTimeout(60_000)).rejects.toBeInstanceOf(sdk.SandboxNotFoundError);
    // The daemon of a killed sandbox answers as E2B's proxy does: the SDK's "sandbox is gone" timeout.
    const run = await rejection(sbx.commands.run('true'));
    expect(run).toBeInstanceOf(sdk.SandboxError);
    expect(run.message).toMatch(/has ended|not running|sandbox timeout/i);
  });
});

describe('list', () => {
  it('filters by metadata and state, and pages with nextToken in either order', async () => {
    const tag = `list-${Date.now()}`;
    const made: Current.Sandbox[] = [];
    try {
      for (let i = 0; i < 3; i++) made.push(await Current.Sandbox.create({ metadata: { tag, n: String(i) } }));
      const other = await Current.Sandbox.create({ metadata: { tag: 'other' } });
      made.push(other);
      const all = await Current.Sandbox.list({ query: { metadata: { tag } } }).nextItems();
      expect(all.map((s) => s.metadata.n)).toEqual(['2', '1', '0']); // newest first, E2B's default
      expect(all.every((s) => s.state === 'running' && s.templateId === 'base')).toBe(true);

      const pager = Current.Sandbox.list({ query: { metadata: { tag } }, limit: 2, order: 'asc' });
      const first = await pager.nextItems();
      expect(pager.hasNext).toBe(true);
      const second = await pager.nextItems();
      expect(pager.hasNext).toBe(false);
      expect([...first, ...second].map((s) => s.metadata.n)).toEqual(['0', '1', '2']);

      expect(await Current.Sandbox.list({ query: { metadata: { tag }, state: ['paused'] } }).nextItems()).toEqual([]);
      expect((await Current.Sandbox.list({ query: { metadata: { tag, n: '1' }, state: ['running'] } }).nextItems()).map((s) => s.sandboxId)).toEqual([made[1]?.sandboxId]);
      expect((await Current.Sandbox.list({ query: { metadata: { tag }, template: 'code-interpreter-v1' } }).nextItems())).toEqual([]);
      expect((await Current.Sandbox.list({ query: { metadata: { tag }, template: 'base' } }).nextItems())).toHaveLength(3);
      expect((await Current.Sandbox.list({ query: { metadata: { tag }, startedAfter: new Date(Date.now() + 60_000) } }).nextItems())).toEqual([]);
      // GET /sandboxes, the unpaginated list of earlier SDKs.
      const v1 = await fetch(`${t.url}/e2b/sandboxes?metadata=${encodeURIComponent(`tag=${tag}`)}`, { headers: { 'x-api-key': key } });
      expect(((await v1.json()) as Array<{ sandboxID: string }>).map((s) => s.sandboxID).sort()).toEqual(made.slice(0, 3).map((s) => s.sandboxId).sort());
      // The older SDK lists through the same route.
      expect((await Previous.Sandbox.list({ query: { metadata: { tag: 'other' } } }).nextItems()).map((s) => s.sandboxId)).toEqual([other.sandboxId]);
    } finally {
      await Promise.all(made.map((s) => s.kill()));
    }
  });
});

describe('tenants, keys and access tokens', () => {
  it("another tenant's key cannot see, reach or kill the sandbox", async () => {
    const sbx = await Current.Sandbox.create();
    const otherKey = t.key('someone-else');
    try {
      await expect(Current.Sandbox.connect(sbx.sandboxId, { apiKey: otherKey })).rejects.toBeInstanceOf(Current.SandboxNotFoundError);
      await expect(Current.Sandbox.getInfo(sbx.sandboxId, { apiKey: otherKey })).rejects.toBeInstanceOf(Current.SandboxNotFoundError);
      expect(await Current.Sandbox.kill(sbx.sandboxId, { apiKey: otherKey })).toBe(false);
      expect((await Current.Sandbox.list({ apiKey: otherKey }).nextItems()).map((s) => s.sandboxId)).not.toContain(sbx.sandboxId);
      expect(record(sbx.sandboxId)?.state).toBe('running');
    } finally {
      await sbx.kill();
    }
  });

  it('an unknown key is an AuthenticationError; a read-only key lists but cannot create', async () => {
    await expect(Current.Sandbox.create({ apiKey: 'wdn_not-a-key-at-all' })).rejects.toBeInstanceOf(Current.AuthenticationError);
    const reader = t.key('e2b-control', ['sandboxes:read']);
    await expect(Current.Sandbox.list({ apiKey: reader }).nextItems()).resolves.toBeInstanceOf(Array);
    const refused = await rejection(Current.Sandbox.create({ apiKey: reader }));
    expect(refused).toBeInstanceOf(Current.SandboxError);
    expect(refused.message).toMatch(/^403: .*sandboxes:write/);
  });

  it('in-sandbox requests need the access token the sandbox was handed out with, and a key that is still valid', async () => {
    const issuer = t.key('e2b-control');
    const sbx = await Current.Sandbox.create({ apiKey: issuer });
    const other = await Current.Sandbox.create();
    try {
      const post = (headers: Record<string, string>): Promise<Response> =>
        fetch(`${t.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', ...headers }, body: '{"path":"/workspace"}' });
      const token = (s: Current.Sandbox): string => (s as unknown as { envdAccessToken: string }).envdAccessToken;
      expect((await post({ 'x-access-token': token(sbx) })).status).toBe(200);
      const wrong: Array<Record<string, string>> = [{}, { 'x-access-token': token(other) }, { 'x-access-token': `${token(sbx)}x` }];
      for (const headers of wrong) {
        const res = await post(headers);
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 'unauthenticated' });
      }
      // Revoking the key that connected revokes its tokens.
      const keyId = token(sbx).split('.')[0] ?? '';
      expect(t.server.app.keys.revoke(keyId)).toBe(true);
      expect((await post({ 'x-access-token': token(sbx) })).status).toBe(401);
      await expect(sbx.files.read('/etc/hostname')).rejects.toBeInstanceOf(Current.AuthenticationError);
      // The same sandbox through another valid key of its tenant works again.
      const reconnected = await Current.Sandbox.connect(sbx.sandboxId);
      expect((await reconnected.commands.run('echo ok')).stdout).toBe('ok\n');
    } finally {
      await Current.Sandbox.kill(sbx.sandboxId);
      await other.kill();
    }
  });
});

describe('what Warden does not support fails clearly', () => {
  it.each([
    ['allowOut without deny-all (all other traffic open)', { network: { allowOut: ['pypi.org'] } }, /^501: network\.allowOut without denyOut/],
    ['an IP address in allowOut', { network: { allowOut: ['8.8.8.8'], denyOut: [Current.ALL_TRAFFIC] } }, /^501: network\.allowOut \["8\.8\.8\.8"\]: Warden's egress proxy allows domain names only/],
    ['internet access', { allowInternetAccess: true }, /^501: allowInternetAccess: true is not supported/],
    ['pausing on timeout', { lifecycle: { onTimeout: 'pause' as const } }, /^501: Pausing is not supported/],
    ['a template that does not exist', { template: 'desktop' }, /^404: No E2B template "desktop".*"base" and "code-interpreter-v1"/],
  ])('create with %s', async (_what, opts, message) => {
    const before = t.server.engine.list().length;
    const err = await rejection(Current.Sandbox.create(opts));
    expect(err).toBeInstanceOf(Current.SandboxError);
    expect(err.message).toMatch(message);
    expect(t.server.engine.list().length).toBe(before); // nothing was started
  });

  it('deny-all with allowOut domains becomes an allowlist of those names through the egress proxy', async () => {
    const sbx = await Current.Sandbox.create({ network: { denyOut: [Current.ALL_TRAFFIC], allowOut: ['pypi.org', '*.pythonhosted.org'] } });
    try {
      expect(t.server.engine.get(sbx.sandboxId).network.policy).toMatchObject({ mode: 'allowlist', allow: ['pypi.org:*', '*.pythonhosted.org:*'] });
      // Programs in it are pointed at the proxy, the only way out.
      expect((await sbx.commands.run('echo $HTTPS_PROXY')).stdout).toMatch(/^http:\/\/127\.0\.0\.1:3128/);
    } finally {
      await sbx.kill();
    }
  });

  it('pause, snapshots, metrics, network updates and signed URLs', async () => {
    const sbx = await Current.Sandbox.create();
    try {
      for (const call of [() => sbx.pause(), () => sbx.createSnapshot(), () => sbx.getMetrics(), () => sbx.updateNetwork({ allowOut: ['x.org'] }), () => sbx.fork()]) {
        const err = await rejection(call());
        expect(err).toBeInstanceOf(Current.SandboxError);
        expect(err.message).toMatch(/^501: Warden's E2B adapter does not implement (POST|GET|PUT) \/e2b\/.*pausing, resuming, forking/);
      }
      const res = await fetch(await sbx.uploadUrl('x.txt'), { method: 'POST', body: 'x' });
      expect(res.status).toBe(501);
      expect(((await res.json()) as { message: string }).message).toMatch(/Signed file URLs .* are not supported/);
      expect(record(sbx.sandboxId)?.state).toBe('running');
    } finally {
      await sbx.kill();
    }
  });

  it('any other E2B API route answers 501 in E2B\'s error shape', async () => {
    const res = await fetch(`${t.url}/e2b/volumes`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{"name":"v"}' });
    expect(res.status).toBe(501);
    expect(await res.json()).toMatchObject({ code: 501, message: expect.stringMatching(/does not implement POST \/e2b\/volumes/) as string });
  });

  it('without E2B_SANDBOX_URL, sandbox calls fail locally at DNS: nothing goes to E2B', async () => {
    const url = process.env.E2B_SANDBOX_URL;
    delete process.env.E2B_SANDBOX_URL;
    let sbx: Current.Sandbox | undefined;
    try {
      sbx = await Current.Sandbox.create();
      const err = await rejection(sbx.files.read('/etc/hostname'));
      // undici: TypeError('fetch failed') caused by getaddrinfo ENOTFOUND <host>.
      expect(String((err.cause as Error | undefined)?.message)).toMatch(/ENOTFOUND 49983-sbx_[a-z2-7]{12}\.set-e2b-sandbox-url\.invalid/);
    } finally {
      process.env.E2B_SANDBOX_URL = url;
      if (sbx) await Current.Sandbox.kill(sbx.sandboxId);
    }
  });
});

describe('warden e2b env', () => {
  it('prints the environment this suite runs with, as JSON and as export lines', async () => {
    const json = await runWarden(['e2b', 'env', '--server', t.url, '--json'], { dataDir: t.dataDir, env: { WARDEN_API_KEY: key } });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ E2B_API_URL: process.env.E2B_API_URL, E2B_SANDBOX_URL: process.env.E2B_SANDBOX_URL, E2B_API_KEY: key, E2B_DEBUG: 'false' });
    const text = await runWarden(['e2b', 'env'], { dataDir: t.dataDir, env: { WARDEN_URL: t.url, WARDEN_API_KEY: '' } });
    expect(text.stdout).toBe(`export E2B_API_URL=${t.url}/e2b\nexport E2B_SANDBOX_URL=${t.url}\nexport E2B_DEBUG=false\n`);
    expect(text.stderr).toMatch(/E2B_API_KEY is not set/);
  });
});
