/**
 * MCP end to end: the official SDK client drives the real `warden mcp`
 * process over stdio and the server's /mcp over streamable HTTP, against a
 * real server. Every tool runs on both; an action the guard holds for a
 * person is approved (or denied) through the API by another key and retried
 * with its approval id; refusals and errors come back as tool errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WardenClient } from '@warden/sdk';
import { runWarden, WARDEN_BIN } from '../helpers/cli.js';
import { testServer, type TestServer } from '../helpers/server.js';

const TENANT = 'mcp';
let srv: TestServer;
let agentKey: string;
let approver: WardenClient;
let cbDir: string;

beforeAll(async () => {
  srv = await testServer();
  agentKey = srv.key(TENANT);
  approver = new WardenClient(srv.conn(srv.key(TENANT, ['sandboxes:read', 'approvals:decide'])));
  cbDir = await mkdtemp(join(tmpdir(), 'warden-mcp-cb-'));
  await writeFile(join(cbDir, 'README.md'), '# demo\n');
  await writeFile(join(cbDir, 'main.py'), 'print("v1")\n');
  await srv.server.engine.codebases.add({ dir: cbDir }, { name: 'mcp-demo' });
});

afterAll(async () => {
  await srv?.[Symbol.asyncDispose]();
  if (cbDir) await rm(cbDir, { recursive: true, force: true });
});

type Connect = (key: string) => Promise<Client>;

async function stdio(key: string): Promise<Client> {
  const client = new Client({ name: 'warden-test', version: '0.0.0' });
  // The environment an MCP client config gives: the server's URL and the key, nothing else of ours.
  await client.connect(new StdioClientTransport({ command: WARDEN_BIN, args: ['mcp'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WARDEN_URL: srv.url, WARDEN_API_KEY: key }, stderr: 'pipe' }));
  return client;
}

async function http(key: string): Promise<Client> {
  const client = new Client({ name: 'warden-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const textOf = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
const structured = (r: CallToolResult): Record<string, unknown> => r.structuredContent ?? {};

describe.each<[string, Connect]>([
  ['stdio (warden mcp)', stdio],
  ['streamable HTTP (/mcp)', http],
])('MCP over %s', (_name, connect) => {
  let client: Client;
  let call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;
  const sandboxes: string[] = [];

  async function create(args: Record<string, unknown> = {}): Promise<string> {
    const r = await call('create_sandbox', args);
    expect(r.isError, textOf(r)).toBeFalsy();
    const id = (structured(r).sandbox as { id: string }).id;
    sandboxes.push(id);
    return id;
  }

  beforeAll(async () => {
    client = await connect(agentKey);
    call = async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  });

  afterAll(async () => {
    await client?.close();
    for (const id of sandboxes) await srv.call(agentKey, 'DELETE', `/v1/sandboxes/${id}`).catch(() => undefined);
  });

  it('lists every tool with a description and a plain JSON Schema for its input', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['create_sandbox', 'kill_sandbox', 'list_files', 'read_file', 'run_code', 'run_command', 'show_diff', 'write_file']);
    for (const t of tools) {
      expect(t.description?.length, t.name).toBeGreaterThan(60);
      expect(t.inputSchema.type).toBe('object');
      // Warden's own keywords (for its error messages) are not sent to clients.
      expect(JSON.stringify(t.inputSchema)).not.toMatch(/"(expects|hint)":"/);
    }
    const run = tools.find((t) => t.name === 'run_command');
    expect(run?.inputSchema.required).toEqual(['sandboxId', 'command']);
    expect(Object.keys(run?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['approvalId', 'approvalWaitMs', 'timeoutMs', 'cwd']));
  });

  it('creates a sandbox, runs commands and code, writes, reads and lists files, and kills it', async () => {
    const id = await create({ metadata: { via: 'mcp' } });
    expect((await srv.call(agentKey, 'GET', `/v1/sandboxes/${id}`)).body).toMatchObject({ state: 'running', metadata: { via: 'mcp' } });

    const echo = await call('run_command', { sandboxId: id, command: 'echo "hi $WHO" && echo oops >&2 && exit 3', env: { WHO: 'model' } });
    expect(echo.isError, textOf(echo)).toBeFalsy();
    expect(structured(echo)).toMatchObject({ status: 'completed', reason: 'exited', exitCode: 3, stdout: 'hi model\n', stderr: 'oops\n' });
    expect(textOf(echo)).toContain('Exited with code 3');

    const w = await call('write_file', { sandboxId: id, path: 'notes/a.txt', content: 'línea uno\n' });
    expect(w.isError, textOf(w)).toBeFalsy();
    expect(structured(w).entry).toMatchObject({ path: '/workspace/notes/a.txt', size: Buffer.byteLength('línea uno\n') });
    // The host's view through another route: the file is there with that content.
    expect((await call('run_command', { sandboxId: id, command: 'cat /workspace/notes/a.txt' })).structuredContent).toMatchObject({ stdout: 'línea uno\n' });

    const r = await call('read_file', { sandboxId: id, path: '/workspace/notes/a.txt' });
    expect(textOf(r)).toBe('línea uno\n');
    expect(structured(r)).toMatchObject({ truncated: false, bytes: Buffer.byteLength('línea uno\n') });
    const cut = await call('read_file', { sandboxId: id, path: 'notes/a.txt', maxBytes: 3 });
    expect(structured(cut)).toMatchObject({ content: 'lí', truncated: true, bytes: 3 });

    await call('write_file', { sandboxId: id, path: 'bin.dat', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' });
    expect(structured(await call('read_file', { sandboxId: id, path: 'bin.dat', encoding: 'base64' })).content).toBe('AAEC/w==');
    const notText = await call('read_file', { sandboxId: id, path: 'bin.dat' });
    expect(notText.isError).toBe(true);
    expect(textOf(notText)).toContain('encoding "base64"');

    const ls = await call('list_files', { sandboxId: id, depth: 2 });
    expect(textOf(ls)).toContain('/workspace/notes/');
    expect(textOf(ls)).toContain('/workspace/notes/a.txt');

    const cell1 = await call('run_code', { sandboxId: id, code: 'x = 6\nprint("set")' });
    expect(cell1.isError, textOf(cell1)).toBeFalsy();
    const cell2 = await call('run_code', { sandboxId: id, code: 'x * 7' });
    expect(structured(cell2)).toMatchObject({ status: 'completed', error: null });
    expect(textOf(cell2)).toContain('Result:\n42');
    const js = await call('run_code', { sandboxId: id, code: '[1, 2, 3].map((n) => n * 2)', language: 'javascript' });
    expect(textOf(js)).toContain('2, 4, 6');
    const boom = await call('run_code', { sandboxId: id, code: '1 / 0' });
    expect(boom.isError).toBeFalsy(); // the cell ran; its exception is its result
    expect(structured(boom).error).toMatchObject({ name: 'ZeroDivisionError' });
    expect(textOf(boom)).toContain('ZeroDivisionError');

    const k = await call('kill_sandbox', { sandboxId: id });
    expect(structured(k)).toMatchObject({ killed: true });
    expect((await srv.call(agentKey, 'GET', `/v1/sandboxes/${id}`)).body).toMatchObject({ state: 'closed' });
    expect(structured(await call('kill_sandbox', { sandboxId: id }))).toMatchObject({ killed: false });
    const after = await call('run_command', { sandboxId: id, command: 'true' });
    expect(after.isError).toBe(true);
    expect(structured(after)).toMatchObject({ status: 'error', code: 'E_SANDBOX_CLOSED' });
  });

  it('shows the diff of a codebase sandbox, and says why for a sandbox without one', async () => {
    const id = await create({ codebase: { name: 'mcp-demo' }, preset: 'full-write' });
    for (const r of [
      await call('write_file', { sandboxId: id, path: 'main.py', content: 'print("v2, longer")\n' }),
      await call('write_file', { sandboxId: id, path: 'new.txt', content: 'new\n' }),
      await call('run_command', { sandboxId: id, command: 'rm README.md' }),
    ]) {
      expect(r.isError, textOf(r)).toBeFalsy();
    }
    const d = await call('show_diff', { sandboxId: id });
    expect(d.isError, textOf(d)).toBeFalsy();
    expect(textOf(d)).toContain('1 added, 1 modified, 1 deleted');
    expect(structured(d).diff).toMatchObject({ added: [{ path: 'new.txt' }], modified: [{ path: 'main.py' }], deleted: [{ path: 'README.md' }] });
    // The codebase itself is untouched.
    expect(textOf(await call('read_file', { sandboxId: await create({ codebase: { name: 'mcp-demo' } }), path: 'main.py' }))).toBe('print("v1")\n');

    const plain = await create();
    const none = await call('show_diff', { sandboxId: plain });
    expect(none.isError).toBe(true);
    expect(structured(none)).toMatchObject({ code: 'E_NO_CODEBASE' });
  });

  it('a command the guard holds for a person: pending with the approval id and reasons, approved by another key, retried and run', async () => {
    const id = await create();
    const cmd = 'unset HISTFILE && echo ran-after-approval';
    const held = await call('run_command', { sandboxId: id, command: cmd });
    expect(held.isError, textOf(held)).toBeFalsy();
    const s = structured(held) as { status: string; approvalId: string; risk: string; ruleIds: string[]; reasons: Array<{ message: string }> };
    expect(s.status).toBe('pending_approval');
    expect(s.approvalId).toMatch(/^apr_/);
    expect(s.ruleIds).toContain('obfuscation.history-tamper');
    expect(s.reasons[0]?.message.length).toBeGreaterThan(5);
    expect(textOf(held)).toContain(`approvalId "${s.approvalId}"`);
    // Nothing ran: the pending approval is what a person sees.
    const pending = await approver.approvals.get(s.approvalId);
    expect(pending).toMatchObject({ state: 'pending', sandboxId: id, kind: 'command' });

    // Retrying before anyone decided is still pending, not an error.
    expect(structured(await call('run_command', { sandboxId: id, command: cmd, approvalId: s.approvalId })).status).toBe('pending_approval');

    await approver.approvals.approve(s.approvalId, { reason: 'fine in a sandbox' });
    const ran = await call('run_command', { sandboxId: id, command: cmd, approvalId: s.approvalId });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(structured(ran)).toMatchObject({ status: 'completed', exitCode: 0, stdout: 'ran-after-approval\n' });
    expect((await approver.approvals.get(s.approvalId)).state).toBe('used');
  });

  it('waits for the decision within one call when asked to (approvalWaitMs), for a code cell too', async () => {
    const id = await create();
    const code = "import base64\nexec(base64.b64decode('cHJpbnQoNiAqIDcp'))";
    const held = structured(await call('run_code', { sandboxId: id, code })) as { status: string; approvalId: string; ruleIds: string[] };
    expect(held.status).toBe('pending_approval');
    expect(held.ruleIds).toContain('obfuscation.decode-and-eval');
    const waiting = call('run_code', { sandboxId: id, code, approvalId: held.approvalId, approvalWaitMs: 30_000 });
    await approver.approvals.approve(held.approvalId);
    const ran = await waiting;
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(structured(ran)).toMatchObject({ status: 'completed', stdout: '42\n' });
  });

  it('a command the policy denies, and one a person denies, are tool errors with the reasons; nothing runs', async () => {
    const id = await create();
    await call('write_file', { sandboxId: id, path: 'keep.txt', content: 'still here\n' });
    const d = await call('run_command', { sandboxId: id, command: 'rm -rf / --no-preserve-root' });
    expect(d.isError).toBe(true);
    expect(structured(d)).toMatchObject({ status: 'denied', risk: 'critical' });
    expect(structured(d).ruleIds).toContain('fs.rm-root');
    expect(textOf(d)).toContain('did not run');

    const held = structured(await call('run_command', { sandboxId: id, command: 'rm keep.txt; export HISTFILE=/dev/null' })) as { approvalId: string };
    await approver.approvals.deny(held.approvalId, { reason: 'keep that file' });
    const refused = await call('run_command', { sandboxId: id, command: 'rm keep.txt; export HISTFILE=/dev/null', approvalId: held.approvalId });
    expect(refused.isError).toBe(true);
    expect(structured(refused)).toMatchObject({ status: 'denied', approvalId: held.approvalId, reason: 'keep that file' });
    expect(textOf(refused)).toContain('keep that file');
    expect(textOf(await call('read_file', { sandboxId: id, path: 'keep.txt' }))).toBe('still here\n');
  });

  it('bad arguments, unknown sandboxes and other tenants are tool errors that say what to do', async () => {
    const bad = await call('run_command', { sandboxId: 'not-an-id', command: 'true' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/sandboxId.*sbx_/);
    expect(structured(bad)).toMatchObject({ code: 'E_INVALID_REQUEST' });
    const extra = await call('kill_sandbox', { sandboxId: 'sbx_aaaaaaaaaaaa', force: true });
    expect(textOf(extra)).toContain('force');
    const missing = await call('list_files', { sandboxId: 'sbx_aaaaaaaaaaaa' });
    expect(structured(missing)).toMatchObject({ code: 'E_SANDBOX_NOT_FOUND' });
    await expect(client.callTool({ name: 'format_disk', arguments: {} })).rejects.toThrow(/Unknown tool "format_disk"/);

    // Another tenant's key cannot see this tenant's sandbox.
    const mine = await create();
    const other = await connect(srv.key('mcp-other'));
    try {
      const r = (await other.callTool({ name: 'run_command', arguments: { sandboxId: mine, command: 'true' } })) as CallToolResult;
      expect(structured(r)).toMatchObject({ code: 'E_SANDBOX_NOT_FOUND' });
    } finally {
      await other.close();
    }
  });

  it('a client that goes away ends the command it was waiting for', async () => {
    const id = await create();
    const gone = await connect(agentKey);
    const call1 = gone.callTool({ name: 'run_command', arguments: { sandboxId: id, command: 'sleep 120' } }).catch((err: unknown) => err);
    // Wait until the command runs, then hang up.
    const deadline = Date.now() + 15_000;
    let cmds: Array<{ running: boolean; result: { reason: string } | null }> = [];
    while (Date.now() < deadline) {
      cmds = (await srv.call(agentKey, 'GET', `/v1/sandboxes/${id}/commands`)).body.commands as typeof cmds;
      if (cmds.some((c) => c.running)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(cmds.some((c) => c.running), `no running command in ${id}`).toBe(true);
    await gone.close();
    await call1;
    while (Date.now() < deadline) {
      cmds = (await srv.call(agentKey, 'GET', `/v1/sandboxes/${id}/commands`)).body.commands as typeof cmds;
      if (cmds.every((c) => !c.running)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(cmds.every((c) => !c.running), `command still running in ${id}`).toBe(true);
    // And no sleep is left in the sandbox.
    expect(structured(await call('run_command', { sandboxId: id, command: 'pgrep -x sleep || echo none' })).stdout).toBe('none\n');
  });
});

describe('warden mcp', () => {
  it('refuses to start without an API key, saying where to put it; --help shows the usage', async () => {
    const r = await runWarden(['mcp'], { dataDir: srv.dataDir, env: { WARDEN_API_KEY: '', WARDEN_URL: srv.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WARDEN_API_KEY');
    expect(r.stdout).toBe('');
    const help = await runWarden(['mcp', '--help'], { dataDir: srv.dataDir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: warden mcp');
  });
});

describe('MCP over HTTP: the endpoint', () => {
  it('needs an API key, and refuses pages of another origin', async () => {
    await expect(http('wdn_not_a_key_0000000000')).rejects.toThrow(/401|unknown|E_UNAUTHENTICATED/i);
    const res = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://evil.example' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('E_FORBIDDEN');
  });

  it('is stateless: GET and DELETE answer 405', async () => {
    const res = await fetch(`${srv.url}/mcp`, { headers: { authorization: `Bearer ${agentKey}`, accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
