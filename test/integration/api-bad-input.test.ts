/**
 * Bad input over a real socket, table-driven: every case is a 4xx with a
 * stable code and a message that says what to do — never a 5xx, never a crash,
 * and the server keeps serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let sbx: string;
let cmd: string;

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: () => string;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  readonly status: number;
  readonly code: string;
  /** A fragment the message must contain: the field or the fix. */
  readonly says: string | RegExp;
}

const json = (v: unknown): string => JSON.stringify(v);

const cases: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: () => '/v1/sandboxes', body: '{"limits": {', status: 400, code: 'E_INVALID_REQUEST', says: 'not valid JSON' },
  { name: 'JSON that is not an object', method: 'POST', path: () => '/v1/sandboxes', body: '[1,2]', status: 400, code: 'E_INVALID_REQUEST', says: 'must be an object' },
  { name: 'a wrong type', method: 'POST', path: () => '/v1/sandboxes', body: json({ limits: { memoryMb: 'lots' } }), status: 400, code: 'E_INVALID_REQUEST', says: 'limits.memoryMb must be an integer' },
  { name: 'a value out of range', method: 'POST', path: () => '/v1/sandboxes', body: json({ limits: { memoryMb: 1 } }), status: 400, code: 'E_INVALID_REQUEST', says: 'from 16 to' },
  { name: 'an unknown field', method: 'POST', path: () => '/v1/sandboxes', body: json({ memory: 512 }), status: 400, code: 'E_INVALID_REQUEST', says: 'unknown option "memory"' },
  { name: 'a host path (tenants cannot mount server directories)', method: 'POST', path: () => '/v1/sandboxes', body: json({ workspace: { hostPath: '/etc' } }), status: 400, code: 'E_INVALID_REQUEST', says: 'unknown option "workspace"' },
  { name: 'an empty JSON body', method: 'POST', path: () => '/v1/sandboxes', body: '', status: 400, code: 'E_INVALID_REQUEST', says: 'Send a JSON object' },
  { name: 'a huge body', method: 'POST', path: () => '/v1/sandboxes', body: json({ metadata: { a: 'x'.repeat(2_000_000) } }), status: 413, code: 'E_BODY_TOO_LARGE', says: 'PUT /v1/sandboxes/{id}/files' },
  { name: 'a body of the wrong content type', method: 'POST', path: () => '/v1/sandboxes', body: 'limits=1', contentType: 'text/plain', status: 415, code: 'E_UNSUPPORTED_MEDIA_TYPE', says: 'application/json' },
  { name: 'a malformed sandbox id', method: 'GET', path: () => '/v1/sandboxes/sbx_..%2F..%2Fetc', status: 400, code: 'E_INVALID_REQUEST', says: 'a sandbox id like sbx_' },
  { name: 'an upper-case sandbox id', method: 'GET', path: () => '/v1/sandboxes/SBX_AAAAAAAAAAAA', status: 400, code: 'E_INVALID_REQUEST', says: 'a sandbox id like sbx_' },
  { name: 'a well-formed unknown sandbox id', method: 'GET', path: () => '/v1/sandboxes/sbx_aaaaaaaaaaaa', status: 404, code: 'E_SANDBOX_NOT_FOUND', says: 'GET /v1/sandboxes' },
  { name: 'a malformed command id', method: 'GET', path: () => `/v1/sandboxes/${sbx}/commands/nope`, status: 400, code: 'E_INVALID_REQUEST', says: 'a command id like cmd_' },
  { name: 'an unknown command id', method: 'GET', path: () => `/v1/sandboxes/${sbx}/commands/cmd_aaaaaaaaaaaa`, status: 404, code: 'E_COMMAND_NOT_FOUND', says: 'List its commands' },
  { name: 'a page size of 0', method: 'GET', path: () => '/v1/sandboxes?limit=0', status: 400, code: 'E_INVALID_REQUEST', says: 'limit' },
  { name: 'a page size that is not a number', method: 'GET', path: () => '/v1/sandboxes?limit=many', status: 400, code: 'E_INVALID_REQUEST', says: 'limit' },
  { name: 'a forged cursor', method: 'GET', path: () => '/v1/sandboxes?cursor=AAAA', status: 400, code: 'E_INVALID_REQUEST', says: 'nextCursor' },
  { name: 'an unknown query option', method: 'GET', path: () => '/v1/sandboxes?owner=me', status: 400, code: 'E_INVALID_REQUEST', says: 'unknown option "owner"' },
  { name: 'a command with neither cmd nor argv', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({}), status: 400, code: 'E_INVALID_REQUEST', says: 'cmd' },
  { name: 'a command with both cmd and argv', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({ cmd: 'a', argv: ['b'] }), status: 400, code: 'E_INVALID_REQUEST', says: 'exactly one of cmd' },
  { name: 'an empty argv', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({ argv: [] }), status: 400, code: 'E_INVALID_REQUEST', says: 'argv' },
  { name: 'stdin that is not base64', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({ cmd: 'cat', stdin: 'not base64!' }), status: 400, code: 'E_INVALID_REQUEST', says: 'base64' },
  { name: 'a relative cwd', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({ cmd: 'pwd', cwd: 'tmp' }), status: 400, code: 'E_INVALID_REQUEST', says: 'absolute path' },
  { name: 'an unknown signal', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands/${cmd}/signal`, body: json({ signal: 'SIGNOPE' }), status: 400, code: 'E_INVALID_ARGUMENT', says: 'SIGNOPE' },
  { name: 'a resize of a command without a terminal', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands/${cmd}/resize`, body: json({ cols: 80, rows: 24 }), status: 400, code: 'E_INVALID_ARGUMENT', says: 'pty' },
  { name: 'a terminal of 0 columns', method: 'POST', path: () => `/v1/sandboxes/${sbx}/commands`, body: json({ cmd: 'sh', pty: { cols: 0, rows: 24 } }), status: 400, code: 'E_INVALID_REQUEST', says: 'pty.cols' },
  { name: 'a file path with a NUL byte', method: 'GET', path: () => `/v1/sandboxes/${sbx}/files?path=a%00b`, status: 400, code: 'E_INVALID_REQUEST', says: 'NUL' },
  { name: 'a file download without a path', method: 'GET', path: () => `/v1/sandboxes/${sbx}/files`, status: 400, code: 'E_INVALID_REQUEST', says: 'path' },
  { name: 'a list depth of 0', method: 'GET', path: () => `/v1/sandboxes/${sbx}/files/list?path=/&depth=0`, status: 400, code: 'E_INVALID_REQUEST', says: 'depth' },
  { name: 'an upload sent as JSON', method: 'PUT', path: () => `/v1/sandboxes/${sbx}/files?path=a.txt`, body: json({ content: 'x' }), status: 415, code: 'E_UNSUPPORTED_MEDIA_TYPE', says: 'application/octet-stream' },
  { name: 'a missing file', method: 'GET', path: () => `/v1/sandboxes/${sbx}/files?path=/workspace/nothing-here`, status: 404, code: 'E_FILE_NOT_FOUND', says: '/workspace/nothing-here' },
  { name: 'an unknown session', method: 'POST', path: () => `/v1/sandboxes/${sbx}/sessions/ses_aaaaaaaaaaaa/run`, body: json({ command: 'true' }), status: 404, code: 'E_SESSION_NOT_FOUND', says: 'ses_aaaaaaaaaaaa' },
  { name: 'a TTL below a second', method: 'POST', path: () => `/v1/sandboxes/${sbx}/timeout`, body: json({ ttlMs: 5 }), status: 400, code: 'E_INVALID_REQUEST', says: 'ttlMs' },
  { name: 'a key with an unknown scope', method: 'POST', path: () => '/v1/keys', body: json({ name: 'x', scopes: ['root'] }), status: 403, code: 'E_FORBIDDEN', says: 'admin' },
  { name: 'an unknown route', method: 'GET', path: () => '/v1/sandboxez', status: 404, code: 'E_ROUTE_NOT_FOUND', says: '/openapi.json' },
  { name: 'an unsupported method', method: 'PATCH', path: () => '/v1/sandboxes', body: json({}), status: 404, code: 'E_ROUTE_NOT_FOUND', says: 'PATCH' },
];

beforeAll(async () => {
  t = await testServer();
  key = t.key('tenant');
  const h = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  sbx = ((await (await fetch(`${t.url}/v1/sandboxes`, { method: 'POST', headers: h, body: '{}' })).json()) as { id: string }).id;
  cmd = ((await (await fetch(`${t.url}/v1/sandboxes/${sbx}/commands`, { method: 'POST', headers: h, body: json({ cmd: 'sleep 600', background: true }) })).json()) as { id: string }).id;
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

describe('bad input', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
    const res = await fetch(t.url + c.path(), { method: c.method, headers, ...(c.body !== undefined ? { body: c.body } : {}) });
    const body = (await res.json()) as { code: string; message: string; requestId: string; stack?: unknown };
    expect({ status: res.status, code: body.code }).toEqual({ status: c.status, code: c.code });
    if (typeof c.says === 'string') expect(body.message).toContain(c.says);
    else expect(body.message).toMatch(c.says);
    expect(body.requestId).toMatch(/^req_/);
    expect(res.headers.get('x-request-id')).toBe(body.requestId);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|\/work\/|node_modules/); // no stack, no host path
  });

  it('admin key creation with an unknown scope is refused with the list of scopes', async () => {
    const res = await fetch(`${t.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: json({ name: 'x', scopes: ['root'] }),
    });
    const body = (await res.json()) as { code: string; message: string };
    expect({ status: res.status, code: body.code }).toEqual({ status: 400, code: 'E_INVALID_REQUEST' });
    expect(body.message).toContain('sandboxes:read');
  });

  it('a path that climbs out of /workspace stays inside the sandbox: the host file is not served', async () => {
    const res = await fetch(`${t.url}/v1/sandboxes/${sbx}/files?path=${encodeURIComponent('../../../../../etc/shadow')}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(text).not.toMatch(/^root:/m);
    // Positive twin: the host's shadow file does start with root: (so the probe would see a leak).
    const { readFile } = await import('node:fs/promises');
    expect(await readFile('/etc/shadow', 'utf8')).toMatch(/^root:/m);
  });

  it('serves an OpenAPI 3.0 document without a key: no non-standard keywords, public routes marked public, streams typed', async () => {
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, unknown> }> }>> };
    expect(doc.openapi).toBe('3.0.3');
    // OpenAPI 3.0 allows only x- extensions in a schema: Warden's own keywords must not appear as is.
    expect(JSON.stringify(doc)).not.toMatch(/"(hint|expects)":"/);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/sandboxes/{id}/commands/{cid}/events']?.get?.responses['200']?.content ?? {})).toEqual(['application/x-ndjson']);
    expect(Object.keys(doc.paths['/v1/sandboxes/{id}/files']?.get?.responses['200']?.content ?? {})).toEqual(['application/octet-stream']);
  });

  it('still serves normally after all of that', async () => {
    const res = await fetch(`${t.url}/v1/sandboxes/${sbx}/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: json({ cmd: 'echo alive' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stdout: string }).stdout).toBe('alive\n');
  });
});
