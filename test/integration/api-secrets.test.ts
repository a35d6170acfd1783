/**
 * The secrets store and egress policy through the real server, SDK and CLI:
 * who may store what, values never leaving through the API (results,
 * streams, listings, errors), the log or the audit log, values encrypted at
 * rest with a key outside the database, and a running sandbox's network
 * policy read and changed by its owner.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient } from '@warden/sdk';
import { testServer, type TestServer } from '../helpers/server.js';
import { runWarden } from '../helpers/cli.js';

const VALUE = `ghp_${Buffer.from(String(Math.random())).toString('hex').slice(0, 36)}`;
let srv: TestServer;
let log = '';
let writer: string; // sandboxes:read+write
let admin: string; // secrets:write too

beforeAll(async () => {
  srv = await testServer({
    logStream: new Writable({
      write(chunk: Buffer, _enc, done) {
        log += chunk.toString();
        done();
      },
    }),
  });
  writer = srv.key('acme');
  admin = srv.key('acme', ['sandboxes:read', 'sandboxes:write', 'secrets:write']);
}, 60_000);

afterAll(async () => {
  await srv?.[Symbol.asyncDispose]();
});

describe('secrets over the API', () => {
  it('needs secrets:write to store or delete; lists names and rules, never values', async () => {
    const denied = await srv.call(writer, 'PUT', '/v1/secrets/GH_TOKEN', { value: VALUE });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('E_FORBIDDEN');
    const put = await srv.call(admin, 'PUT', '/v1/secrets/GH_TOKEN', { value: VALUE });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'GH_TOKEN', injectOnly: false, domains: [] });
    const short = await srv.call(admin, 'PUT', '/v1/secrets/SHORT', { value: 'abc' });
    expect(short.body.code).toBe('E_INVALID_REQUEST');
    await srv.call(admin, 'PUT', '/v1/secrets/INJECT_ONLY', { value: `io-${VALUE}`, injectOnly: true, domains: ['api.github.test'] });
    const list = await srv.call(writer, 'GET', '/v1/secrets');
    expect(list.body).toMatchObject({ secrets: [{ name: 'GH_TOKEN' }, { name: 'INJECT_ONLY', injectOnly: true, domains: ['api.github.test'] }] });
    // Another tenant sees none of them.
    expect((await srv.call(srv.key('other'), 'GET', '/v1/secrets')).body).toEqual({ secrets: [] });
    for (const r of [put, list]) expect(JSON.stringify(r.body)).not.toContain(VALUE);
  });

  it('keeps values encrypted at rest, under a 0600 key file beside the database', async () => {
    const key = await stat(join(srv.dataDir, 'keys', 'secrets.key'));
    expect(key.mode & 0o777).toBe(0o600);
    const db = Buffer.concat(await Promise.all(['warden.db', 'warden.db-wal'].map((f) => readFile(join(srv.dataDir, f)).catch(() => Buffer.alloc(0)))));
    expect(db.length).toBeGreaterThan(0);
    expect(db.includes(Buffer.from(VALUE))).toBe(false);
    expect(db.includes(Buffer.from('GH_TOKEN'))).toBe(true); // twin: the probe reads the rows it should
  });

  it('gives a sandbox the secret and masks it in results, streams, sessions and the audit log', async () => {
    await using sbx = await Sandbox.create({ ...srv.conn(writer), secrets: [{ name: 'GH_TOKEN' }] });
    const r = await sbx.commands.run('echo "t=$GH_TOKEN"; printf %s "$GH_TOKEN" | sha256sum');
    expect(r.stdout.split('\n')[0]).toBe('t=[MASKED]');
    const { createHash } = await import('node:crypto');
    expect(r.stdout.split('\n')[1]?.split(' ')[0]).toBe(createHash('sha256').update(VALUE).digest('hex'));
    let streamed = '';
    await sbx.commands.run('echo "$GH_TOKEN"; echo "$GH_TOKEN" >&2', { onStdout: (s) => (streamed += s), onStderr: (s) => (streamed += s) });
    expect(streamed).toBe('[MASKED]\n[MASKED]\n');
    // The raw NDJSON stream: base64 chunks decoded.
    const raw = await fetch(`${srv.url}/v1/sandboxes/${sbx.id}/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: 'echo $GH_TOKEN', stream: true }),
    });
    const events = (await raw.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; data?: string });
    const out = events.filter((e) => e.type === 'stdout').map((e) => Buffer.from(e.data ?? '', 'base64').toString()).join('');
    expect(out).toBe('[MASKED]\n');
    const session = await sbx.sessions.create();
    expect((await session.run('echo $GH_TOKEN')).stdout).toBe('[MASKED]\n');
    const audit = await new WardenClient(srv.conn(srv.adminKey)).audit.query({ sandboxId: sbx.id, limit: 1000 });
    expect(audit.length).toBeGreaterThan(3);
    expect(JSON.stringify(audit)).not.toContain(VALUE);
  });

  it('refuses unknown secrets and an inject-only secret as a variable, without echoing values', async () => {
    const missing = await srv.call(writer, 'POST', '/v1/sandboxes', { secrets: [{ name: 'NOPE' }] });
    expect([missing.status, missing.body.code]).toEqual([404, 'E_SECRET_NOT_FOUND']);
    const forbidden = await srv.call(writer, 'POST', '/v1/sandboxes', { secrets: [{ name: 'INJECT_ONLY' }] });
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'E_SECRET_FORBIDDEN']);
    const wrongDomain = await srv.call(writer, 'POST', '/v1/sandboxes', { network: { mode: 'allowlist', allow: ['evil.test'], inject: [{ domain: 'evil.test', secret: 'INJECT_ONLY' }] } });
    expect([wrongDomain.status, wrongDomain.body.code]).toEqual([403, 'E_SECRET_FORBIDDEN']);
    for (const r of [missing, forbidden, wrongDomain]) expect(JSON.stringify(r.body)).not.toContain(VALUE);
  });

  it("lets the owner read and replace a running sandbox's network policy", async () => {
    await using sbx = await Sandbox.create({ ...srv.conn(writer), network: { mode: 'allowlist', allow: ['pypi.test'] } });
    expect(await sbx.network.get()).toEqual({ sandboxId: sbx.id, mode: 'allowlist', allow: ['pypi.test'], inject: [] });
    const env = await sbx.commands.run('echo $HTTPS_PROXY');
    expect(env.stdout).toBe('http://127.0.0.1:3128\n');
    const updated = await sbx.network.update({ mode: 'allowlist', allow: ['*.pypi.test', 'api.github.test'], inject: [{ domain: 'api.github.test', secret: 'INJECT_ONLY' }] });
    expect(updated).toMatchObject({ allow: ['*.pypi.test', 'api.github.test'], inject: [{ domain: 'api.github.test', secret: 'INJECT_ONLY', header: 'Authorization', template: 'Bearer {secret}' }] });
    // The proxy's CA is trusted by processes started from now on.
    expect((await sbx.commands.run('echo $SSL_CERT_FILE')).stdout).toBe('/.warden/net/ca-bundle.pem\n');
    const bad = await srv.call(writer, 'PUT', `/v1/sandboxes/${sbx.id}/network`, { mode: 'allowlist', allow: ['10.0.0.1'] });
    expect([bad.status, bad.body.code]).toEqual([400, 'E_INVALID_REQUEST']);
    const otherTenant = await srv.call(srv.key('other'), 'GET', `/v1/sandboxes/${sbx.id}/network`);
    expect(otherTenant.body.code).toBe('E_SANDBOX_NOT_FOUND');
    await sbx.network.update({ mode: 'none' });
    expect((await sbx.commands.run('echo "[$HTTPS_PROXY]"')).stdout).toBe('[]\n');
  });

  it('stores a secret from stdin with the CLI and runs with it through the server', async () => {
    const env = { WARDEN_API_KEY: admin, WARDEN_URL: srv.url };
    const set = await runWarden(['secrets', 'set', 'CLI_TOKEN', '--server', srv.url], { dataDir: srv.dataDir, stdin: `cli-${VALUE}\n`, env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^stored CLI_TOKEN/);
    const list = await runWarden(['secrets', 'list', '--json', '--server', srv.url], { dataDir: srv.dataDir, env });
    expect(JSON.parse(list.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'CLI_TOKEN' })]));
    const run = await runWarden(['run', '--server', srv.url, '--secret', 'CLI_TOKEN', '--allow-domain', 'pypi.test', '--', 'sh', '-c', 'echo "$CLI_TOKEN $HTTPS_PROXY"'], { dataDir: srv.dataDir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('[MASKED] http://127.0.0.1:3128\n');
    expect(run.stdout + run.stderr + set.stdout + list.stdout).not.toContain(VALUE);
  });

  it('never writes a value to the server log (debug level)', () => {
    expect(log.length).toBeGreaterThan(1000);
    expect(log).not.toContain(VALUE);
  });
});
