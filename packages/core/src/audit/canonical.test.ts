import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units, recursively, with no whitespace (RFC 8785 §3.2.3 order)', () => {
    const input = { '\u20ac': 'Euro', '\r': 'CR', '\ufb33': 'Hebrew', '1': 'One', '\ud83d\ude00': 'Smiley', '\u0080': 'Control', '\u00f6': 'Latin' };
    expect(canonicalJson(input)).toBe('{"\\r":"CR","1":"One","\u0080":"Control","\u00f6":"Latin","\u20ac":"Euro","\ud83d\ude00":"Smiley","\ufb33":"Hebrew"}');
    expect(canonicalJson({ b: { d: 1, c: [3, { z: 0, a: null }] }, a: true })).toBe('{"a":true,"b":{"c":[3,{"a":null,"z":0}],"d":1}}');
  });

  it.each([
    [1e21, '1e+21'],
    [0.000001, '0.000001'],
    [1e-7, '1e-7'],
    [-0, '0'],
    [333333333.3333333, '333333333.3333333'], // RFC 8785's 333333333.33333329, which is the same double
    [1e30, '1e+30'],
    [4.5, '4.5'],
    [2e-3, '0.002'],
    [0.000000000000000000000000001, '1e-27'],
    [9007199254740991, '9007199254740991'],
    [-1.5, '-1.5'],
  ])('writes the number %s as %s (ECMAScript, as JCS specifies)', (n, text) => {
    expect(canonicalJson(n)).toBe(text);
  });

  it('writes strings as JSON.stringify does: control characters escaped, other Unicode as is', () => {
    expect(canonicalJson('a"b\\c\n\u000f\u2028é😀')).toBe('"a\\"b\\\\c\\n\\u000f\u2028é😀"');
  });

  it('leaves out properties whose value is undefined, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('gives the same text however the object was built', () => {
    const a: Record<string, unknown> = {};
    a.z = 1;
    a.y = [true, false];
    const b = Object.assign(Object.create(null) as Record<string, unknown>, { y: [true, false], z: 1 });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  it.each([
    ['NaN', { a: Number.NaN }, '$.a'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['undefined at the top', undefined, '$'],
    ['undefined in an array', [1, undefined], '$[1]'],
    ['a hole in an array', [1, , 3], '$[1]'], // eslint-disable-line no-sparse-arrays
    ['a function', { f: () => 1 }, '$.f'],
    ['a bigint', { n: 1n }, '$.n'],
    ['a symbol', { s: Symbol('x') }, '$.s'],
    ['a Date', { when: new Date(0) }, '$.when'],
    ['a Map', { m: new Map() }, '$.m'],
    ['a Buffer', { b: Buffer.from('x') }, '$.b'],
    ['a lone surrogate', { s: 'a\ud800b' }, '$.s'],
    ['a lone surrogate in a key', { 'k\udc00': 1 }, '$'],
    ['a cycle', cycle, '$.self'],
    ['a key that needs quoting', { 'a b': { c: Number.NaN } }, '$["a b"].c'],
  ])('refuses %s, naming where', (_what, value, path) => {
    let err: unknown;
    try {
      canonicalJson(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CanonicalJsonError);
    expect((err as CanonicalJsonError).path.startsWith(path)).toBe(true);
  });

  it('round-trips: parsing canonical text and writing it again gives the same text', () => {
    const v = { z: [1, 2.5, 'x', null, { b: false, a: [] }], 'é': { '': 0 }, a: -1e-9 };
    const text = canonicalJson(v);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
});
