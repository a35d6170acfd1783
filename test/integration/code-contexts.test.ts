/**
 * Stateful code contexts in a real bubblewrap sandbox: state, independence,
 * results (rich ones too), streaming, errors, timeouts, the output cap,
 * crashes, restarts and teardown, with the host as oracle.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasCode, type Execution } from '@warden/protocol';
import type { CodeContext, CodeContextOptions, Sandbox } from '@warden/core';
import { eventually, processesOwnedBy, sandboxProcesses, testEngine, testRuntime, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let sbx: Sandbox;

beforeAll(async () => {
  t = await testEngine();
  sbx = await t.engine.create({ limits: { timeoutMs: 30_000 } });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

/** A context in the shared sandbox whose id is printed if the test fails. */
async function context(opts?: CodeContextOptions, box: Sandbox = sbx): Promise<CodeContext> {
  const c = await box.code.create(opts);
  onTestFailed(() => console.error(`sandbox ${box.id}, context ${c.id}: ${JSON.stringify(c.info())}`));
  return c;
}

const text = (e: Execution): string | undefined => e.results.find((r) => r.isMainResult)?.text;
const ok = (e: Execution): Execution => {
  expect(e.error, JSON.stringify(e.error)).toBeUndefined();
  return e;
};

/** Host pids of the sandbox's processes whose command line contains `needle` (gVisor: pids in its kernel, which holds them). */
async function hostPids(box: Sandbox, needle: string): Promise<number[]> {
  if (testRuntime() === 'gvisor') return (await sandboxProcesses(t.engine, box)).filter((p) => p.cmdline.includes(needle.replaceAll('\0', ' '))).map((p) => p.pid);
  const pids: number[] = [];
  for (const pid of await processesOwnedBy(new Set([box.info().hostUid]))) {
    if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(needle)) pids.push(pid);
  }
  return pids;
}

describe('state', () => {
  it('persists across Python cells: variables, functions, classes and imports', async () => {
    await using c = await context();
    expect(c.id).toMatch(/^ctx_[a-z2-7]{12}$/);
    expect(c.info()).toMatchObject({ language: 'python', cwd: '/workspace', started: false, executionCount: 0 });
    ok(await c.run('import math\nx = 20\ndef twice(n):\n    return 2 * n\nclass Box:\n    value = 1'));
    const e = ok(await c.run('twice(x) + Box.value + math.floor(math.pi) - 2'));
    expect(e.results).toEqual([{ isMainResult: true, text: '42' }]);
    expect(e.executionCount).toBe(2);
    expect(c.info()).toMatchObject({ started: true, executionCount: 2, restarts: 0, busy: false });
    expect(c.info().version).toMatch(/^3\.\d+\.\d+$/);
  });

  it('persists across JavaScript cells: let, const, functions, classes and require', async () => {
    await using c = await context({ language: 'javascript' });
    ok(await c.run("const path = require('node:path'); let n = 20; function twice(v) { return 2 * v; } class Box { static value = 1 }"));
    const e = ok(await c.run("twice(n) + Box.value + path.basename('/a/b').length"));
    expect(text(e)).toBe('42');
    expect(c.info().version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('keeps contexts independent of each other, in one language and across languages', async () => {
    await using a = await context();
    await using b = await context();
    await using js = await context({ language: 'javascript' });
    ok(await a.run('secret = "a"'));
    ok(await js.run('globalThis.secret = "js"'));
    const inB = await b.run('secret');
    expect(inB.error).toMatchObject({ name: 'NameError', value: "name 'secret' is not defined" });
    expect(text(ok(await a.run('secret')))).toBe("'a'");
    expect(text(ok(await js.run('secret')))).toBe("'js'");
  });

  it('starts in the cwd and env it was given', async () => {
    await sbx.exec(['mkdir', '-p', '/tmp/ctx dir']);
    await using c = await context({ cwd: '/tmp/ctx dir', env: { GREETING: 'hi there' } });
    expect(text(ok(await c.run('import os; (os.getcwd(), os.environ["GREETING"])')))).toBe("('/tmp/ctx dir', 'hi there')");
  });

  it('runs cells of one context one after another, in call order', async () => {
    await using c = await context();
    const runs = [c.run('import time; log = []; time.sleep(0.2); log.append(1)'), c.run('log.append(2)'), c.run('log.append(3); log')];
    const [, , last] = await Promise.all(runs);
    expect(text(last!)).toBe('[1, 2, 3]');
  });

  it('gives runCode without a context one default context per language, listed as such', async () => {
    await using box = await t.engine.create();
    ok(await box.runCode('default_py = 1'));
    ok(await box.runCode('var defaultJs = 2', { language: 'javascript' }));
    expect(text(ok(await box.runCode('default_py + 1')))).toBe('2');
    expect(text(ok(await box.runCode('defaultJs + 1', { language: 'javascript' })))).toBe('3');
    const list = box.code.list();
    expect(list.map((i) => [i.language, i.isDefault])).toEqual([
      ['python', true],
      ['javascript', true],
    ]);
    const py = list[0]!.id;
    expect((await box.runCode('default_py', { context: py })).contextId).toBe(py);
    await expect(box.runCode('1', { context: py, language: 'javascript' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});

describe('results', () => {
  it('is the value of the last expression only, with _ holding it; statements and a trailing ; show nothing', async () => {
    await using c = await context();
    expect(ok(await c.run('y = 5')).results).toEqual([]);
    expect(ok(await c.run('None')).results).toEqual([]);
    expect(ok(await c.run('y * 2;')).results).toEqual([]);
    expect(text(ok(await c.run('print("side"); "last"')))).toBe("'last'");
    expect(text(ok(await c.run('_ + "!"')))).toBe("'last!'");
  });

  it('runs top-level await in Python and JavaScript', async () => {
    await using py = await context();
    await using js = await context({ language: 'javascript' });
    expect(text(ok(await py.run('import asyncio\nawait asyncio.sleep(0.01)\nv = await asyncio.sleep(0, result=21)\nv * 2')))).toBe('42');
    expect(text(ok(await js.run('const { v } = await new Promise((r) => setTimeout(() => r({ v: 21 }), 10)); v * 2')))).toBe('42');
    expect(text(ok(await js.run('v + 1')))).toBe('22');
  });

  it('gives JSON for plain JavaScript objects and arrays, and what [Symbol.for("warden.display")] returns', async () => {
    await using js = await context({ language: 'javascript' });
    expect(ok(await js.run('({ a: [1, 2], b: null })')).results).toEqual([{ isMainResult: true, text: '{ a: [ 1, 2 ], b: null }', json: { a: [1, 2], b: null } }]);
    const e = ok(await js.run("({ [Symbol.for('warden.display')]: () => ({ html: '<b>hi</b>', text: 'hi', json: [1] }) })"));
    expect(e.results).toEqual([{ isMainResult: true, html: '<b>hi</b>', text: 'hi', json: [1] }]);
    expect(ok(await js.run('undefined')).results).toEqual([]);
  });

  it('uses the _repr_*_ methods of Python objects, and display() shows more than one result', async () => {
    await using c = await context();
    const e = ok(
      await c.run(
        [
          'class Rich:',
          '    def _repr_html_(self): return "<i>rich</i>"',
          '    def _repr_markdown_(self): return "*rich*"',
          '    def _repr_json_(self): return {"rich": True}',
          '    def _repr_svg_(self): return "<svg/>"',
          '    def __repr__(self): return "Rich()"',
          'display(Rich(), 7)',
          'Rich()',
        ].join('\n'),
      ),
    );
    expect(e.results).toEqual([
      { isMainResult: false, html: '<i>rich</i>', markdown: '*rich*', json: { rich: true }, svg: '<svg/>', text: 'Rich()' },
      { isMainResult: false, text: '7' },
      { isMainResult: true, html: '<i>rich</i>', markdown: '*rich*', json: { rich: true }, svg: '<svg/>', text: 'Rich()' },
    ]);
  });

  it('turns matplotlib figures into PNG results, with plt.show() or without, and closes them', async () => {
    await using c = await context();
    const e = ok(await c.run('import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title("squares")\nplt.show()\nplt.figure()\nplt.bar([1, 2], [3, 4])\n1', { timeoutMs: 60_000 }));
    const figures = e.results.filter((r) => r.png !== undefined);
    expect(figures).toHaveLength(2);
    for (const f of figures) {
      expect(f.isMainResult).toBe(false);
      expect(f.text).toMatch(/^<Figure size \d+x\d+ with 1 Axes>$/);
      expect(Buffer.from(f.png!, 'base64').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
    expect(e.results.find((r) => r.isMainResult)?.text).toBe('1');
    expect(e.logs.stderr.join('')).toBe('');
    // Shown figures are closed: the next cell shows none of them again.
    expect(ok(await c.run('len(plt.get_fignums())')).results).toEqual([{ isMainResult: true, text: '0' }]);
  }, 90_000);

  it('turns a pandas DataFrame into an HTML table', async () => {
    await using c = await context();
    const e = ok(await c.run('import pandas as pd\npd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3, 19]})'));
    const r = e.results[0]!;
    expect(r.isMainResult).toBe(true);
    expect(r.html).toMatch(/<table[\s\S]*<th>city<\/th>[\s\S]*<td>Oslo<\/td>[\s\S]*<td>19<\/td>/);
    expect(r.text).toContain('Oslo');
  }, 60_000);
});

describe('output', () => {
  it('streams stdout and stderr as they are written, in order, with what programs the cell starts', async () => {
    await using c = await context();
    const seen: Array<[string, string, number]> = [];
    const started = Date.now();
    const e = ok(
      await c.run('import sys, time, os\nprint("one")\nprint("err", file=sys.stderr)\nos.system("echo from-child; echo child-err >&2")\nprint("two", flush=True)\ntime.sleep(0.5)\nprint("three")', {
        onStdout: (s) => seen.push(['out', s, Date.now() - started]),
        onStderr: (s) => seen.push(['err', s, Date.now() - started]),
      }),
    );
    expect(e.logs.stdout.join('')).toBe('one\nfrom-child\ntwo\nthree\n');
    expect(e.logs.stderr.join('')).toBe('err\nchild-err\n');
    expect(seen.map(([k, s]) => `${k}:${s}`).join('')).toBe('out:one\nerr:err\nout:from-child\nerr:child-err\nout:two\nout:three\n');
    // "two" arrived while the cell still slept.
    const two = seen.find(([, s]) => s.includes('two'))!;
    expect(two[2]).toBeLessThan(e.durationMs - 300);
  });

  it('collects what processes forked by a Python cell print (multiprocessing)', async () => {
    await using c = await context();
    const e = ok(await c.run('import multiprocessing as mp\ndef square(x):\n    print("child", x, flush=True)\n    return x * x\nwith mp.get_context("fork").Pool(2) as pool:\n    squares = pool.map(square, [1, 2, 3])\nsquares'));
    expect(text(e)).toBe('[1, 4, 9]');
    expect(e.logs.stdout.join('').split('\n').filter(Boolean).sort()).toEqual(['child 1', 'child 2', 'child 3']);
  });

  it('streams JavaScript console output as it is written', async () => {
    await using c = await context({ language: 'javascript' });
    const seen: string[] = [];
    const e = ok(await c.run("console.log('a'); console.error('b'); process.stdout.write('c'); 1", { onStdout: (s) => seen.push(s), onStderr: (s) => seen.push(`!${s}`) }));
    expect(seen.join('')).toBe('a\n!b\nc');
    expect(text(e)).toBe('1');
  });

  it('keeps the protocol safe from cells that write to fd 1 or read fd 0', async () => {
    await using py = await context();
    const e = ok(await py.run('import os, sys\nos.write(1, b"{\\"type\\":\\"done\\",\\"id\\":99,\\"executionCount\\":1}\\nraw\\n")\nsys.stdout.buffer.write(b"bytes\\n")\nos.read(0, 10)'));
    expect(e.logs.stdout.join('')).toBe('{"type":"done","id":99,"executionCount":1}\nraw\nbytes\n');
    expect(text(e)).toBe("b''");
    const input = await py.run('input()');
    expect(input.error).toMatchObject({ name: 'EOFError', value: expect.stringMatching(/stdin is not available/) as unknown });
    await using js = await context({ language: 'javascript' });
    // Node has no dup2: what reaches its fd 1 goes to the process's stderr (and, racing the end
    // of the cell, to its stderr log), never into the events.
    const j = ok(await js.run("require('fs').writeSync(1, '{\\\"type\\\":\\\"done\\\"}\\n'); require('child_process').execSync('echo child-js', { stdio: 'inherit' }); 2"));
    expect(text(j)).toBe('2');
    expect(j.logs.stdout).toEqual([]);
    expect(text(ok(await js.run('3')))).toBe('3');
  });

  it('caps huge output: keeps the first maxOutputBytes, interrupts the cell and keeps the context', async () => {
    await using c = await context();
    ok(await c.run('kept = "still here"'));
    const e = await c.run('import sys\nfor i in range(100):\n    sys.stdout.write("x" * 100_000)\nafter = True', { maxOutputBytes: 1_000_000 });
    expect(e.truncated).toBe(true);
    expect(e.error).toMatchObject({ name: 'OutputLimitExceeded' });
    expect(e.error!.value).toMatch(/passed maxOutputBytes \(1000000 bytes\)/);
    expect(e.stateLost).toBe(false);
    expect(Buffer.byteLength(e.logs.stdout.join(''))).toBe(1_000_000);
    expect(text(ok(await c.run('kept')))).toBe("'still here'");
    expect((await c.run('after')).error).toMatchObject({ name: 'NameError' });
  });

  it('keeps non-ASCII text exact in output, results and errors, across chunk boundaries', async () => {
    await using py = await context();
    await using js = await context({ language: 'javascript' });
    const big = 'é🌍'.repeat(100_000);
    const p = ok(await py.run(`s = ${JSON.stringify(big)}\nprint(s)\n"ünï 🌍"`));
    expect(p.logs.stdout.join('')).toBe(`${big}\n`);
    expect(text(p)).toBe("'ünï 🌍'");
    expect((await py.run('raise ValueError("ünï 🌍")')).error).toMatchObject({ value: 'ünï 🌍' });
    const j = ok(await js.run(`const s = ${JSON.stringify(big)}; process.stdout.write(s); 'ünï 🌍'`));
    expect(j.logs.stdout.join('')).toBe(big);
    expect(text(j)).toBe("'ünï 🌍'");
  });

  it('kills an interpreter that floods output between cells, and the next cell starts a fresh one', async () => {
    await using c = await context();
    ok(await c.run('import sys, threading, time\ndef flood():\n    time.sleep(0.3)\n    while True:\n        sys.stdout.write("z" * 1_000_000)\nthreading.Thread(target=flood, daemon=True).start()'));
    await eventually(() => !c.info().started, 30_000, 'the flooding interpreter to be killed');
    const e = ok(await c.run('"fresh"'));
    expect(text(e)).toBe("'fresh'");
    expect(c.info()).toMatchObject({ started: true, restarts: 1 });
  });

  it('sends a 1 MB output whole under the default cap', async () => {
    await using c = await context();
    const e = ok(await c.run('print("y" * 1_000_000)'));
    expect(e.logs.stdout.join('')).toBe(`${'y'.repeat(1_000_000)}\n`);
    expect(e.truncated).toBe(false);
  });
});

describe('errors', () => {
  it('reports a Python exception with name, value and a traceback of the cell, and the context goes on', async () => {
    await using c = await context();
    ok(await c.run('def inner():\n    raise ValueError("bad value")\nz = 1'));
    const e = await c.run('print("before")\ninner()');
    expect(e.error).toMatchObject({ name: 'ValueError', value: 'bad value' });
    expect(e.error!.traceback).toMatch(/^Traceback \(most recent call last\):\n {2}File "<cell-2>", line 2, in <module>\n {4}inner\(\)\n {2}File "<cell-1>", line 2, in inner\n/);
    expect(e.error!.traceback).not.toContain('<warden>');
    expect(e.logs.stdout).toEqual(['before\n']);
    expect(e.stateLost).toBe(false);
    expect(text(ok(await c.run('z + 1')))).toBe('2');
  });

  it('reports syntax errors, SystemExit and KeyboardInterrupt raised by the code without losing the context', async () => {
    await using c = await context();
    ok(await c.run('w = 3'));
    expect((await c.run('1 +')).error).toMatchObject({ name: 'SyntaxError' });
    expect((await c.run('import sys; sys.exit(4)')).error).toMatchObject({ name: 'SystemExit', value: '4' });
    expect((await c.run('raise KeyboardInterrupt')).error).toMatchObject({ name: 'KeyboardInterrupt' });
    expect(text(ok(await c.run('w')))).toBe('3');
  });

  it('reports a JavaScript exception with its stack, and thrown non-errors', async () => {
    await using c = await context({ language: 'javascript' });
    const e = await c.run('function f() { return null.x; }\nf()');
    expect(e.error).toMatchObject({ name: 'TypeError', value: "Cannot read properties of null (reading 'x')" });
    expect(e.error!.traceback).toMatch(/^TypeError: .*\n {4}at f \(<cell-1>:1:\d+\)\n {4}at <cell-1>:2:1$/);
    expect((await c.run('throw "plain"')).error).toMatchObject({ name: 'Uncaught', value: "'plain'" });
    expect((await c.run('let ok = ;')).error).toMatchObject({ name: 'SyntaxError' });
    expect(text(ok(await c.run('f.name')))).toBe("'f'");
  });
});

describe('timeouts and interrupts', () => {
  it('interrupts a Python cell that runs too long; variables set before survive', async () => {
    await using c = await context();
    const e = await c.run('import time\nbefore = "kept"\nwhile True:\n    time.sleep(0.01)', { timeoutMs: 500 });
    expect(e.error).toMatchObject({ name: 'TimeoutError' });
    expect(e.error!.value).toMatch(/longer than timeoutMs \(500 ms\).*keeps its state/);
    expect(e.error!.traceback).toMatch(/KeyboardInterrupt/);
    expect(e.stateLost).toBe(false);
    expect(e.durationMs).toBeLessThan(2500);
    expect(text(ok(await c.run('before')))).toBe("'kept'");
  });

  it('interrupts a busy Python loop and a program the cell waits for', async () => {
    await using c = await context();
    expect((await c.run('n = 0\nwhile True:\n    n += 1', { timeoutMs: 300 })).error).toMatchObject({ name: 'TimeoutError' });
    expect(Number(text(ok(await c.run('n'))))).toBeGreaterThan(0);
    const sub = await c.run('import subprocess\nsubprocess.run(["sleep", "600"])', { timeoutMs: 300 });
    expect(sub).toMatchObject({ error: { name: 'TimeoutError' }, stateLost: false });
    await eventually(async () => (await hostPids(sbx, 'sleep\x00600')).length === 0, 5000, 'sleep 600 to end');
  });

  it('interrupts synchronous JavaScript and an await that never settles; the realm survives', async () => {
    await using c = await context({ language: 'javascript' });
    ok(await c.run('let survivor = "kept"'));
    const busy = await c.run('while (true) {}', { timeoutMs: 300 });
    expect(busy).toMatchObject({ error: { name: 'TimeoutError' }, stateLost: false });
    const waiting = await c.run('await new Promise(() => {})', { timeoutMs: 300 });
    expect(waiting).toMatchObject({ error: { name: 'TimeoutError' }, stateLost: false });
    expect(text(ok(await c.run('survivor')))).toBe("'kept'");
  });

  it('kills an interpreter whose cell ignores the interrupt, says the state is lost, and starts afresh', async () => {
    await using c = await context();
    ok(await c.run('doomed = 1'));
    const e = await c.run('import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)', { timeoutMs: 300 });
    expect(e).toMatchObject({ error: { name: 'TimeoutError' }, stateLost: true });
    expect(e.error!.value).toMatch(/did not stop within 2 s.*killed.*state \(variables, imports\) is lost/);
    expect((await c.run('doomed')).error).toMatchObject({ name: 'NameError' });
    expect(c.info()).toMatchObject({ restarts: 1, executionCount: 1 });
  });

  it('stops a cell when its signal aborts, and drops queued cells that are aborted', async () => {
    await using c = await context();
    const abort = new AbortController();
    const running = c.run('import time; time.sleep(30)', { signal: abort.signal });
    const queued = c.run('"never"', { signal: abort.signal });
    await eventually(() => c.info().busy, 5000, 'the cell to start');
    abort.abort();
    expect((await running).error).toMatchObject({ name: 'AbortError' });
    expect(await queued).toMatchObject({ error: { name: 'AbortError' }, executionCount: 0, results: [] });
  });
});

describe('crashes, restarts and deletion', () => {
  it.each([
    ['python', 'import os; os._exit(3)', 'lost_py = 1', 'lost_py'],
    ['javascript', "console.log('bye'); process.exit(3)", 'var lostJs = 1', 'lostJs'],
  ] as const)('says clearly when the %s interpreter dies, and the next cell starts a fresh one', async (language, crash, set, get) => {
    await using c = await context({ language });
    ok(await c.run(set));
    const e = await c.run(crash);
    expect(e).toMatchObject({ stateLost: true, error: { name: 'InterpreterExited' } });
    expect(e.error!.value).toMatch(/ended while running this cell \(exit code 3\).*state \(variables, imports\) is lost and the next cell starts a fresh interpreter/);
    if (language === 'javascript') expect(e.logs.stdout).toEqual(['bye\n']);
    expect(c.info()).toMatchObject({ started: false });
    const after = await c.run(get);
    expect(after.error?.name).toMatch(/NameError|ReferenceError/);
    expect(after.executionCount).toBe(1);
    expect(c.info()).toMatchObject({ started: true, restarts: 1 });
  });

  it('restarts on request: state is gone and a running cell says so', async () => {
    await using c = await context();
    ok(await c.run('before_restart = 1'));
    const running = c.run('import time; time.sleep(30)');
    await eventually(() => c.info().busy, 5000, 'the cell to start');
    await c.restart();
    expect(await running).toMatchObject({ error: { name: 'ContextRestarted' }, stateLost: true });
    expect((await c.run('before_restart')).error).toMatchObject({ name: 'NameError' });
    expect(c.info().restarts).toBe(1);
  });

  it('deletes a context: its processes end, a running cell says so, and the id is gone', async () => {
    const c = await context();
    ok(await c.run('import subprocess\nbg = subprocess.Popen(["sleep", "601"])'));
    await eventually(async () => (await hostPids(sbx, 'sleep\x00601')).length === 1, 5000, 'sleep 601 to start');
    const running = c.run('import time; time.sleep(30)');
    await eventually(() => c.info().busy, 5000, 'the cell to start');
    await sbx.code.delete(c.id);
    expect(await running).toMatchObject({ error: { name: 'ContextClosed' }, stateLost: true });
    await eventually(async () => (await hostPids(sbx, 'sleep\x00601')).length === 0, 5000, 'sleep 601 to end');
    expect(sbx.code.list().map((i) => i.id)).not.toContain(c.id);
    expect(() => sbx.code.get(c.id)).toThrow(expect.objectContaining({ code: 'E_CONTEXT_NOT_FOUND' }) as Error);
    await expect(c.run('1')).rejects.toMatchObject({ code: 'E_CONTEXT_CLOSED' });
    await expect(sbx.runCode('1', { context: c.id })).rejects.toMatchObject({ code: 'E_CONTEXT_NOT_FOUND' });
  });

  it('settles a cell whose interpreter is still starting when the context is deleted', async () => {
    const c = await context();
    const first = c.run('1');
    const queued = c.run('2');
    await c.close();
    expect(await first).toMatchObject({ error: { name: 'ContextClosed' }, executionCount: 0 });
    expect(await queued).toMatchObject({ error: { name: 'ContextClosed' }, executionCount: 0 });
    expect(await hostPids(sbx, 'python3')).toEqual([]);
  });

  it('ends every context with the sandbox, interpreters included', async () => {
    const box = await t.engine.create();
    const c = await box.code.create();
    ok(await c.run('1'));
    await box.kill();
    expect(await processesOwnedBy(new Set([box.info().hostUid]))).toEqual([]);
    await expect(c.run('1')).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_SANDBOX_CLOSED'));
    await expect(box.runCode('1')).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_SANDBOX_CLOSED'));
    await expect(box.code.create()).rejects.toSatisfy((err: unknown) => hasCode(err, 'E_SANDBOX_CLOSED'));
  });

  it('fails with E_EXEC_FAILED when the interpreter cannot start (a missing cwd)', async () => {
    await using c = await context({ cwd: '/no/such/dir' });
    await expect(c.run('1')).rejects.toMatchObject({ code: 'E_EXEC_FAILED', message: expect.stringContaining('python interpreter') as unknown });
  });
});
