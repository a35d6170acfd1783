/**
 * `@e2b/code-interpreter` (newest and previous minor), unchanged, against a
 * real Warden server: runCode with state across cells, streaming callbacks,
 * errors, rich results, JavaScript, code contexts, timeouts, the guard, and
 * what Warden refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Current from '@e2b/code-interpreter';
import * as PreviousModule from 'e2b-code-interpreter-prev';

/** The previous minor has the same API; one type lets a test run against either. */
const Previous = PreviousModule as unknown as typeof Current;
import { testServer, type TestServer } from '../helpers/server.js';
import { rejection, useE2b } from '../helpers/e2b.js';

let t: TestServer;
let restore: () => void;
const sandboxes: Array<{ kill(): Promise<unknown> }> = [];

beforeAll(async () => {
  t = await testServer();
  restore = useE2b(t, t.key('e2b-code'));
});

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.kill().catch(() => undefined)));
  restore?.();
  await t?.[Symbol.asyncDispose]();
});

describe.each([
  ['@e2b/code-interpreter 2.8.0', Current],
  ['@e2b/code-interpreter 2.7.2', Previous],
] as const)('%s', (_name, sdk) => {
  let sbx: Current.Sandbox;
  beforeAll(async () => {
    sbx = await sdk.Sandbox.create();
    sandboxes.push(sbx);
  });

  it('creates its sandbox from the code-interpreter-v1 template', async () => {
    expect((await sbx.getInfo()).templateId).toBe('code-interpreter-v1');
  });

  it('keeps state across cells and returns the last value, logs and the execution count', async () => {
    const first = await sbx.runCode('import statistics\nsamples = [3, 5, 10]');
    expect(first.error).toBeUndefined();
    expect(first.results).toEqual([]);
    const out: string[] = [];
    const second = await sbx.runCode('print("mean of", len(samples))\nstatistics.mean(samples)', { onStdout: (m) => void out.push(m.line) });
    expect(second.text).toBe('6');
    expect(second.logs).toEqual({ stdout: ['mean of 3\n'], stderr: [] });
    expect(out).toEqual(['mean of 3\n']);
    expect(second.executionCount).toBe((first.executionCount ?? 0) + 1);
    expect((await sbx.runCode('"a string"')).text).toBe('a string'); // unquoted, as E2B's server sends it
  });

  it('returns an exception as the execution’s error, after the output that came before it', async () => {
    const seen: string[] = [];
    const e = await sbx.runCode('print("before")\n{}["missing"]', { onError: (err) => void seen.push(err.name), onStderr: (m) => void seen.push(m.line) });
    expect(e.logs.stdout).toEqual(['before\n']);
    expect(e.error).toMatchObject({ name: 'KeyError', value: "'missing'" });
    expect(e.error?.traceback).toMatch(/KeyError/);
    expect(seen).toEqual(['KeyError']);
    expect((await sbx.runCode('1 + 1')).text).toBe('2'); // the context goes on
  });

  it('streams rich results: display() calls and a matplotlib PNG', async () => {
    const results: Current.Result[] = [];
    const cell = ['class Bold:', '    def _repr_html_(self): return "<b>hi</b>"', 'display(Bold())', 'import matplotlib.pyplot as plt', 'plt.plot([0, 1], [1, 0])', 'plt.show()', '7'].join('\n');
    const e = await sbx.runCode(cell, {
      onResult: (r) => void results.push(r),
    });
    expect(e.error).toBeUndefined();
    expect(results.length).toBe(e.results.length);
    expect(e.results.find((r) => r.html)?.html).toBe('<b>hi</b>');
    const png = e.results.find((r) => r.png)?.png;
    expect(Buffer.from(png ?? '', 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(e.results.find((r) => r.isMainResult)?.text).toBe('7');
  }, 60_000);

  it('runs JavaScript by language name', async () => {
    const e = await sbx.runCode('const xs = [1, 2, 3]; xs.map((x) => x * 2)', { language: 'js' });
    expect(e.results[0]).toMatchObject({ isMainResult: true, json: [2, 4, 6] });
    expect((await sbx.runCode('xs.length', { language: 'javascript' })).text).toBe('3');
  });

  it('creates, lists, restarts and removes code contexts, each with its own state and cwd', async () => {
    const ctx = await sbx.createCodeContext({ language: 'python', cwd: '/tmp' });
    expect(ctx).toMatchObject({ language: 'python', cwd: '/tmp' });
    await sbx.runCode('mine = 1', { context: ctx });
    expect((await sbx.runCode('import os; os.getcwd()', { context: ctx })).text).toBe('/tmp');
    expect((await sbx.runCode('"mine" in globals()')).text).toBe('False'); // the default context is another one
    expect((await sbx.listCodeContexts()).map((c) => c.id)).toContain(ctx.id);
    await sbx.restartCodeContext(ctx);
    expect((await sbx.runCode('mine', { context: ctx })).error?.name).toBe('NameError');
    await sbx.removeCodeContext(ctx.id);
    expect((await sbx.listCodeContexts()).map((c) => c.id)).not.toContain(ctx.id);
    await expect(sbx.runCode('1', { context: ctx })).rejects.toBeInstanceOf(Current.NotFoundError);
  });

  it("stops waiting at timeoutMs (TimeoutError) and interrupts the cell; the context's state survives", async () => {
    await sbx.runCode('survivor = 41');
    const err = await rejection(sbx.runCode('import time\ntime.sleep(30)', { timeoutMs: 1000 }));
    expect(err).toBeInstanceOf(Current.TimeoutError);
    const started = Date.now();
    expect((await sbx.runCode('survivor + 1')).text).toBe('42'); // not queued behind a 30 s sleep
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('guard and refusals', () => {
  let sbx: Current.Sandbox;
  beforeAll(async () => {
    sbx = await Current.Sandbox.create();
    sandboxes.push(sbx);
  });

  it('a cell the guard denies does not run; the error says why', async () => {
    await sbx.files.write('keep.txt', 'kept');
    const err = await rejection(sbx.runCode('import shutil\nshutil.rmtree("/", ignore_errors=True)'));
    expect(err).toBeInstanceOf(Current.SandboxError);
    expect(err.message).toMatch(/^403 .*guard/i);
    expect(await t.server.engine.get(sbx.sandboxId).files.readText('keep.txt')).toBe('kept');
  });

  it('refuses other languages, per-cell envs and a context with a language', async () => {
    for (const [opts, message] of [
      [{ language: 'r' }, /^501 Language "r" is not supported/],
      [{ language: 'typescript' }, /^501 Language "typescript" is not supported/],
      [{ envs: { A: '1' } }, /^501 Per-execution environment variables \(envs\) are not supported/],
    ] as const) {
      const err = await rejection(sbx.runCode('1', opts));
      expect(err).toBeInstanceOf(Current.SandboxError);
      expect(err.message).toMatch(message);
    }
    await expect(sbx.createCodeContext({ language: 'java' })).rejects.toThrow(/^501 Language "java" is not supported/);
    // @ts-expect-error -- both on purpose: the SDK itself refuses the mix
    await expect(sbx.runCode('1', { language: 'python', context: { id: 'x', language: 'python', cwd: '/' } })).rejects.toBeInstanceOf(Current.InvalidArgumentError);
  });
});
