/**
 * Code contexts end to end over a real socket with the SDK: cells, streaming,
 * contexts, the guard, scopes, validation and hang-ups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, hasCode, type CodeResult } from '@warden/sdk';
import { eventually } from '../helpers/host.js';
import { testServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let sbx: Sandbox;

beforeAll(async () => {
  t = await testServer();
  key = t.key('coder');
  sbx = await Sandbox.create({ ...t.conn(key), limits: { timeoutMs: 60_000 } });
});

afterAll(async () => {
  await sbx?.kill().catch(() => undefined);
  await t?.[Symbol.asyncDispose]();
});

const mainText = (results: readonly CodeResult[]): string | undefined => results.find((r) => r.isMainResult)?.text;

describe('runCode over the API', () => {
  it('runs Python in the default context, keeping state between calls', async () => {
    const first = await sbx.runCode('import statistics\nsamples = [3, 5, 10]');
    expect(first).toMatchObject({ results: [], logs: { stdout: [], stderr: [] }, executionCount: 1, truncated: false, stateLost: false });
    expect(first.error).toBeUndefined();
    const second = await sbx.runCode('print("mean:")\nstatistics.mean(samples)');
    expect(second.logs.stdout).toEqual(['mean:\n']);
    expect(mainText(second.results)).toBe('6');
    expect(second.contextId).toBe(first.contextId);
  });

  it('runs JavaScript, top-level await included, and gives JSON for plain values', async () => {
    const e = await sbx.runCode('const xs = await Promise.resolve([1, 2, 3]); xs.map((x) => x * 2)', { language: 'javascript' });
    expect(e.results).toEqual([{ isMainResult: true, text: '[ 2, 4, 6 ]', json: [2, 4, 6] }]);
  });

  it('streams output and results as they come, then resolves with the whole execution', async () => {
    const events: string[] = [];
    let firstAt = 0;
    const started = Date.now();
    const e = await sbx.runCode('import time, sys\nprint("a")\ntime.sleep(0.4)\nprint("b", file=sys.stderr)\ndisplay(7)\n"done"', {
      onStdout: (s) => {
        firstAt ||= Date.now() - started;
        events.push(`out:${s}`);
      },
      onStderr: (s) => events.push(`err:${s}`),
      onResult: (r) => events.push(`result:${r.text ?? ''}:${String(r.isMainResult)}`),
    });
    expect(events).toEqual(['out:a\n', 'err:b\n', 'result:7:false', "result:'done':true"]);
    expect(firstAt).toBeLessThan(Date.now() - started - 300);
    expect(e.logs).toEqual({ stdout: ['a\n'], stderr: ['b\n'] });
    expect(e.results.map((r) => r.text)).toEqual(['7', "'done'"]);
  });

  it('returns errors, timeouts and crashes as the execution’s error, and calls onError', async () => {
    const errors: string[] = [];
    const e = await sbx.runCode('{}["missing"]', { onError: (err) => errors.push(err.name) });
    expect(e.error).toMatchObject({ name: 'KeyError', value: "'missing'" });
    expect(e.error!.traceback).toContain('File "<cell-');
    expect(errors).toEqual(['KeyError']);
    const slow = await sbx.runCode('import time\ntime.sleep(30)', { timeoutMs: 300, onStdout: () => undefined });
    expect(slow).toMatchObject({ error: { name: 'TimeoutError' }, stateLost: false });
    const crash = await sbx.runCode('import os; os._exit(9)');
    expect(crash).toMatchObject({ error: { name: 'InterpreterExited' }, stateLost: true });
    expect(crash.error!.value).toMatch(/exit code 9/);
    expect(mainText((await sbx.runCode('1 + 1')).results)).toBe('2');
  });

  it('sends a matplotlib figure as a base64 PNG', async () => {
    const e = await sbx.runCode('import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()');
    const png = e.results.find((r) => r.png)?.png;
    expect(png).toBeDefined();
    expect(Buffer.from(png!, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
  }, 60_000);
});

describe('contexts over the API', () => {
  it('creates, lists, gets, restarts and deletes contexts; deleted ones are gone (404)', async () => {
    const ctx = await sbx.contexts.create({ language: 'python', cwd: '/tmp', envs: { MODE: 'api' } });
    expect(ctx).toMatchObject({ id: expect.stringMatching(/^ctx_[a-z2-7]{12}$/) as unknown, sandboxId: sbx.id, language: 'python', cwd: '/tmp', isDefault: false, started: false, busy: false, executionCount: 0, restarts: 0 });
    const e = await sbx.runCode('import os\nstate = 1\n(os.getcwd(), os.environ["MODE"])', { context: ctx });
    expect(mainText(e.results)).toBe("('/tmp', 'api')");
    expect(e.contextId).toBe(ctx.id);
    expect((await sbx.contexts.list()).map((c) => c.id)).toContain(ctx.id);
    expect(await sbx.contexts.get(ctx.id)).toMatchObject({ started: true, executionCount: 1 });

    const restarted = await sbx.contexts.restart(ctx);
    expect(restarted).toMatchObject({ id: ctx.id, started: true, executionCount: 0, restarts: 1 });
    expect((await sbx.runCode('state', { context: ctx.id })).error).toMatchObject({ name: 'NameError' });

    await sbx.contexts.delete(ctx);
    expect((await sbx.contexts.list()).map((c) => c.id)).not.toContain(ctx.id);
    const gone = await t.call(key, 'POST', `/v1/sandboxes/${sbx.id}/code`, { code: '1', contextId: ctx.id });
    expect(gone).toMatchObject({ status: 404, body: { code: 'E_CONTEXT_NOT_FOUND' } });
    await expect(sbx.contexts.get(ctx.id)).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_CONTEXT_NOT_FOUND'));
  });

  it('refuses a language that does not match the context', async () => {
    const ctx = await sbx.contexts.create({ language: 'javascript' });
    await expect(sbx.runCode('1', { context: ctx, language: 'python' })).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_INVALID_ARGUMENT'));
    await sbx.contexts.delete(ctx);
  });
});

describe('the guard and the API edge', () => {
  it('refuses a destructive cell before it runs (403 E_GUARD_DENIED), streaming or not', async () => {
    const code = 'import os; os.system("rm -rf /")';
    await expect(sbx.runCode(code)).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_GUARD_DENIED'));
    await expect(sbx.runCode(code, { onStdout: () => undefined })).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_GUARD_DENIED'));
    const raw = await t.call(key, 'POST', `/v1/sandboxes/${sbx.id}/code`, { code, stream: true });
    expect(raw.status).toBe(403);
    expect(raw.body).toMatchObject({ code: 'E_GUARD_DENIED', details: { decision: 'deny' } });
    // Nothing ran: the sandbox's system directories are all there.
    expect((await sbx.commands.run('ls /usr/bin/python3')).exitCode).toBe(0);
  });

  it('needs sandboxes:write to run cells or change contexts, and sandboxes:read to list them', async () => {
    const reader = t.key('coder', ['sandboxes:read']);
    const run = await t.call(reader, 'POST', `/v1/sandboxes/${sbx.id}/code`, { code: '1' });
    expect(run).toMatchObject({ status: 403, body: { code: 'E_FORBIDDEN' } });
    expect(await t.call(reader, 'POST', `/v1/sandboxes/${sbx.id}/code/contexts`, {})).toMatchObject({ status: 403 });
    expect(await t.call(reader, 'GET', `/v1/sandboxes/${sbx.id}/code/contexts`)).toMatchObject({ status: 200 });
  });

  it('keeps tenants apart: another tenant cannot see or use the sandbox’s contexts', async () => {
    const other = t.key('someone-else');
    expect(await t.call(other, 'GET', `/v1/sandboxes/${sbx.id}/code/contexts`)).toMatchObject({ status: 404, body: { code: 'E_SANDBOX_NOT_FOUND' } });
    expect(await t.call(other, 'POST', `/v1/sandboxes/${sbx.id}/code`, { code: '1' })).toMatchObject({ status: 404 });
  });

  it.each([
    ['an unknown language', { code: '1', language: 'ruby' }],
    ['a malformed context id', { code: '1', contextId: 'ses_abcdefghijkl' }],
    ['a zero timeout', { code: '1', timeoutMs: 0 }],
    ['an unknown field', { code: '1', lang: 'python' }],
    ['no code', { language: 'python' }],
  ])('answers 400 to %s', async (_what, body) => {
    const r = await t.call(key, 'POST', `/v1/sandboxes/${sbx.id}/code`, body);
    expect(r).toMatchObject({ status: 400, body: { code: 'E_INVALID_REQUEST' } });
  });

  it('interrupts the cell when the caller hangs up, and the context stays usable', async () => {
    const ctx = await sbx.contexts.create();
    await sbx.runCode('kept = "yes"', { context: ctx });
    const abort = new AbortController();
    const running = sbx.runCode('import time\ntime.sleep(60)', { context: ctx, signal: abort.signal, onStdout: () => undefined });
    await eventually(async () => (await sbx.contexts.get(ctx)).busy, 10_000, 'the cell to start');
    abort.abort();
    await expect(running).rejects.toThrow();
    await eventually(async () => !(await sbx.contexts.get(ctx)).busy, 5000, 'the cell to be interrupted');
    expect(mainText((await sbx.runCode('kept', { context: ctx })).results)).toBe("'yes'");
    await sbx.contexts.delete(ctx);
  });
});
