/**
 * Top-level await rewriting: checked by running the rewritten cells one after
 * another in one vm realm, the way the JavaScript server runs them.
 */
import { runInContext, createContext, type Context } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsAsync, type JsAsync } from './js-async.js';

let js: JsAsync;
beforeAll(async () => {
  js = await createJsAsync();
});
afterAll(() => js.close());

/** Runs cells like the server: scripts in one realm; rewritten ones awaited and unboxed. */
async function runCells(cells: readonly string[]): Promise<unknown[]> {
  const ctx: Context = createContext({ Promise, setTimeout });
  const values: unknown[] = [];
  for (const cell of cells) {
    const p = js.prepare(cell);
    let value: unknown = runInContext(p.code, ctx, { filename: '<cell>' });
    if (p.async) value = ((await value) as { value: unknown } | undefined)?.value;
    values.push(value);
  }
  return values;
}

describe('cells without top-level await', () => {
  it.each([
    ['no await at all', 'let x = 1; x + 1'],
    ['await only inside an async function', 'async function f() { return await g(); }'],
    ['await only inside an arrow function', 'const f = async () => await g();'],
    ['await only inside a method', 'const o = { async m() { await 1; } };'],
    ['await as a word in a string', "const s = 'await me';"],
    ['a syntax error', 'await (;'],
  ])('are sent as they are: %s', (_what, code) => {
    expect(js.prepare(code)).toEqual({ code, async: false });
  });
});

describe('cells with top-level await', () => {
  it('are rewritten into an async function and keep line numbers', () => {
    const p = js.prepare('const a = await 1;\nthrow new Error("line 2")');
    expect(p.async).toBe(true);
    expect(p.code.split('\n')).toHaveLength(3);
    expect(p.code.split('\n')[1]).toBe('throw new Error("line 2")');
  });

  it('return the value of the last expression', async () => {
    expect(await runCells(['await Promise.resolve(20) + 22'])).toEqual([42]);
    expect(await runCells(['await 1; // trailing comment\n'])).toEqual([1]);
    expect(await runCells(['await 1; let unused = 2;'])).toEqual([undefined]);
  });

  it('keep let, const, var, destructured, function and class declarations for later cells', async () => {
    const values = await runCells([
      'const { a, b: [c], ...rest } = await Promise.resolve({ a: 1, b: [2], d: 3 }); let x = 4, y; var v = await 5; function f() { return "f"; } class K { k() { return "k"; } }',
      '[a, c, rest.d, x, y, v, f(), new K().k()]',
    ]);
    expect(values[1]).toEqual([1, 2, 3, 4, undefined, 5, 'f', 'k']);
  });

  it('hoist functions within the cell, as a script would', async () => {
    expect(await runCells(['const r = hoisted(await 2); function hoisted(n) { return n * 3; } r'])).toEqual([6]);
  });

  it('keep values set by a cell without await visible to one with await, and back', async () => {
    expect(await runCells(['let base = 10;', 'const more = base + (await 1);', 'base + more'])).toEqual([undefined, undefined, 21]);
  });

  it('run for await loops', async () => {
    const values = await runCells(['async function* g() { yield 1; yield 2; }', 'let sum = 0; for await (const n of g()) sum += n; sum']);
    expect(values[1]).toBe(3);
  });

  it('reject with the error thrown after an await', async () => {
    await expect(runCells(['await 1; throw new TypeError("boom")'])).rejects.toThrow('boom');
  });
});
