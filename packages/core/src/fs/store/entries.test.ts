import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import type { ManifestEntry } from '../types.js';
import { comparePaths, normaliseEntries, pathProblem, totals } from './entries.js';
import { assertCodebaseName, assertVersion } from './names.js';

const SHA = 'a'.repeat(64);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(hasCode(err, 'E_CODEBASE_INVALID'), String(err)).toBe(true);
    return (err as { details: { problems: string[] } }).details.problems;
  }
  throw new Error('expected E_CODEBASE_INVALID');
}

describe('comparePaths', () => {
  it('puts each directory right before its subtree, unlike plain string order', () => {
    const paths = ['a-c', 'a/b', 'a', 'a/b/c', 'a.d', 'b', 'a/a'];
    expect([...paths].sort(comparePaths)).toEqual(['a', 'a/a', 'a/b', 'a/b/c', 'a-c', 'a.d', 'b']);
    expect([...paths].sort()).not.toEqual([...paths].sort(comparePaths));
  });

  it('is a total order consistent with equality', () => {
    expect(comparePaths('x/y', 'x/y')).toBe(0);
    expect(Math.sign(comparePaths('x', 'x/y'))).toBe(-1);
    expect(Math.sign(comparePaths('x/y', 'x'))).toBe(1);
  });
});

describe('pathProblem', () => {
  it.each([
    ['', 'non-empty'],
    ['/abs', 'relative'],
    ['a//b', 'empty component'],
    ['a/', 'empty component'],
    ['./a', '"." component'],
    ['a/../b', '".." component'],
    ['..', '".." component'],
    ['a\0b', 'NUL'],
    ['x'.repeat(256), 'longer than 255'],
    [`${'d/'.repeat(2100)}f`, 'longer than 4095'],
  ])('rejects %j (%s)', (path, why) => {
    expect(pathProblem(path)).toContain(why);
  });

  it.each(['a', 'a/b', 'dir with space/ünï 文件', '.hidden', 'a/...', 'a\nb', 'x'.repeat(255)])('accepts %j', (path) => {
    expect(pathProblem(path)).toBeUndefined();
  });
});

describe('normaliseEntries', () => {
  it('sorts, keeps only known fields and masks modes to permission bits', () => {
    const input = [
      { type: 'file', path: 'd/f', mode: 0o4755, size: 3, sha256: SHA, extra: 'dropped' },
      { type: 'symlink', path: 'l', target: '/etc/passwd' },
      { type: 'dir', path: 'd', mode: 0o1777 },
    ] as unknown as ManifestEntry[];
    expect(normaliseEntries(input)).toEqual([
      { type: 'dir', path: 'd', mode: 0o777 },
      { type: 'file', path: 'd/f', mode: 0o755, size: 3, sha256: SHA },
      { type: 'symlink', path: 'l', target: '/etc/passwd' },
    ]);
  });

  it.each([
    ['a bad path', [{ type: 'dir', path: '../x', mode: 0o755 }], '".." component'],
    ['a duplicate path', [{ type: 'dir', path: 'x', mode: 0o755 }, { type: 'dir', path: 'x', mode: 0o755 }], 'duplicate'],
    ['an unknown type', [{ type: 'fifo', path: 'x' }], 'type must be'],
    ['a fractional mode', [{ type: 'dir', path: 'x', mode: 0.5 }], 'mode must be'],
    ['a mode above 0o7777', [{ type: 'dir', path: 'x', mode: 0o10000 }], 'mode must be'],
    ['a negative size', [{ type: 'file', path: 'x', mode: 0o644, size: -1, sha256: SHA }], 'size must be'],
    ['an upper-case sha256', [{ type: 'file', path: 'x', mode: 0o644, size: 1, sha256: SHA.toUpperCase() }], 'sha256 must be'],
    ['a short sha256', [{ type: 'file', path: 'x', mode: 0o644, size: 1, sha256: 'abc' }], 'sha256 must be'],
    ['an empty symlink target', [{ type: 'symlink', path: 'x', target: '' }], 'target must be'],
    ['a missing parent', [{ type: 'file', path: 'd/x', mode: 0o644, size: 1, sha256: SHA }], 'not in the list'],
    ['a file as parent', [{ type: 'file', path: 'd', mode: 0o644, size: 1, sha256: SHA }, { type: 'dir', path: 'd/x', mode: 0o755 }], 'not a dir'],
    ['a symlink as parent', [{ type: 'symlink', path: 'd', target: '/etc' }, { type: 'file', path: 'd/passwd', mode: 0o644, size: 1, sha256: SHA }], 'not a dir'],
    ['null', [null], 'path must be'],
  ])('refuses %s with E_CODEBASE_INVALID naming the entry', (_what, input, why) => {
    const problems = problemsOf(() => normaliseEntries(input as unknown as ManifestEntry[]));
    expect(problems.join('\n')).toContain(why);
  });

  it('lists every problem, not just the first', () => {
    const problems = problemsOf(() => normaliseEntries([{ type: 'dir', path: '/a', mode: 1 }, { type: 'dir', path: 'b', mode: -1 }] as ManifestEntry[]));
    expect(problems).toHaveLength(2);
  });

  it('accepts an empty list (an empty codebase)', () => {
    expect(normaliseEntries([])).toEqual([]);
  });
});

describe('totals', () => {
  it('counts files and their bytes only', () => {
    expect(
      totals([
        { type: 'dir', path: 'd', mode: 0o755 },
        { type: 'file', path: 'd/a', mode: 0o644, size: 5, sha256: SHA },
        { type: 'file', path: 'd/b', mode: 0o644, size: 7, sha256: SHA },
        { type: 'symlink', path: 'l', target: 'd' },
      ]),
    ).toEqual({ files: 2, bytes: 12 });
  });
});

describe('codebase names', () => {
  it.each(['a', 'app', 'my-app', 'my_app.v2', '0', 'a'.repeat(64), '9lives'])('accepts %j', (name) => {
    expect(() => assertCodebaseName(name)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['upper case', 'App'],
    ['leading dot', '.app'],
    ['dot-dot', '..'],
    ['leading dash', '-app'],
    ['leading underscore', '_app'],
    ['slash', 'a/b'],
    ['backslash', 'a\\b'],
    ['space', 'my app'],
    ['65 characters', 'a'.repeat(65)],
    ['unicode', 'äpp'],
    ['newline', 'app\n'],
    ['NUL', 'app\0'],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
  ])('refuses %s with E_INVALID_ARGUMENT naming the rule and the value', (_what, name) => {
    let err: unknown;
    try {
      assertCodebaseName(name);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/1 to 64 characters of a-z, 0-9.*got /);
  });

  it.each([0, -1, 1.5, NaN, Infinity, '1', null])('refuses version %j with E_INVALID_ARGUMENT', (v) => {
    expect(() => assertVersion(v)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }) as Error);
  });
});
