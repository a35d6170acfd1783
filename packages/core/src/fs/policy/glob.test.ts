import { isWardenError } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import { compileGlob, parseGlob, MAX_PATTERN_LENGTH } from './glob.js';

const F = false; // isDir: a file
const D = true; // isDir: a directory

describe('glob semantics', () => {
  // [pattern, path, isDir, matches the path itself, covers it (itself or an ancestor)]
  const table: [string, string, boolean, boolean, boolean][] = [
    // `**` matches zero or more segments, at the top level too.
    ['**/*.pem', 'a.pem', F, true, true],
    ['**/*.pem', 'x/y/a.pem', F, true, true],
    ['**/*.pem', 'x/a.pem.bak', F, false, false],
    ['**', 'a', F, true, true],
    ['**', 'a/b/c', F, true, true],
    ['secrets/**', 'secrets', F, true, true],
    ['secrets/**', 'secrets', D, true, true],
    ['secrets/**', 'secrets/x', F, true, true],
    ['secrets/**', 'secrets/x/y/z', F, true, true],
    ['secrets/**', 'secretsx', F, false, false],
    ['secrets/**', 'a/secrets/x', F, false, false], // contains an inner "/": anchored
    ['a/**/b', 'a/b', F, true, true],
    ['a/**/b', 'a/x/y/b', F, true, true],
    ['a/**/b', 'a/xb', F, false, false],
    ['a/**/b', 'x/a/b', F, false, false],
    ['a/**/b', 'a/b/c', F, false, true],
    ['a/**/**/b', 'a/b', F, true, true],
    ['**/a/**/b/**', 'a/b', F, true, true],
    ['**/a/**/b/**', 'x/a/y/b/z', F, true, true],
    ['**/a/**/b/**', 'x/b/y/a', F, false, false],
    ['**/a*/b*c', 'a/x/ab/bc', F, true, true], // placing `a` at the first name that fits would miss this
    // A trailing "/": this directory and everything below; gitignore semantics,
    // so without another "/" it matches at any depth.
    ['secrets/', 'secrets', D, true, true],
    ['secrets/', 'secrets', F, false, false],
    ['secrets/', 'secrets/x', F, false, true],
    ['secrets/', 'secrets/x/y', D, false, true],
    ['secrets/', 'a/secrets/x', F, false, true],
    ['secrets/', 'a/b/secrets', D, true, true],
    ['secrets/', 'a/b/secrets', F, false, false],
    ['secrets/', 'not-secrets/x', F, false, false],
    ['/secrets/', 'secrets/x', F, false, true],
    ['/secrets/', 'a/secrets/x', F, false, false],
    ['docs/api/', 'docs/api/x.md', F, false, true],
    ['docs/api/', 'x/docs/api/x.md', F, false, false],
    // No "/": by name at any depth.
    ['.env*', '.env', F, true, true],
    ['.env*', 'a/b/.env.local', F, true, true],
    ['.env*', 'a/b/x.env', F, false, false],
    ['id_*', 'home/.ssh/id_rsa', F, true, true],
    ['*.key', 'keys/server.key', F, true, true],
    ['*.pem', 'cert.pem/inner', F, false, true], // a directory named like the rule covers its contents
    ['secrets', 'x/secrets', F, true, true],
    ['secrets', 'x/secrets/y', F, false, true],
    // A leading "/" anchors at the root.
    ['/x', 'x', F, true, true],
    ['/x', 'a/x', F, false, false],
    ['/x', 'x/y', F, false, true],
    // An inner "/" anchors too.
    ['src/*.ts', 'src/a.ts', F, true, true],
    ['src/*.ts', 'lib/src/a.ts', F, false, false],
    ['src/*.ts', 'src/a/b.ts', F, false, false],
    ['.git/config', '.git/config', F, true, true],
    ['.git/config', 'sub/.git/config', F, false, false],
    // `*` and `?` stay inside one segment, and match leading dots.
    ['*', '.env', F, true, true],
    ['*', 'a/b', F, true, true],
    ['/*', 'a/b', F, false, true],
    ['/*', 'a', F, true, true],
    ['a*b', 'a/b', F, false, false],
    ['a*b', 'ab', F, true, true],
    ['a*b', 'axxb', F, true, true],
    ['a?c', 'abc', F, true, true],
    ['a?c', 'ac', F, false, false],
    ['a?c', 'a/c', F, false, false],
    ['a**b', 'axxb', F, true, true], // `**` inside a segment is a plain `*`
    ['a**b', 'ax/xb', F, false, false],
    // Character classes.
    ['file[0-9].txt', 'file7.txt', F, true, true],
    ['file[0-9].txt', 'filex.txt', F, false, false],
    ['[abc]', 'b', F, true, true],
    ['[abc]', 'd', F, false, false],
    ['[!x]y', 'ay', F, true, true],
    ['[!x]y', 'xy', F, false, false],
    ['[^x]y', 'xy', F, false, false],
    ['/a[!x]b', 'a/b', F, false, false], // a negated class never matches "/"
    ['/a[!-0]b', 'a/b', F, false, false], // nor does a range spanning "/"
    ['/a[.-0]b', 'a/b', F, false, false],
    ['/a[.-0]b', 'a.b', F, true, true],
    ['[]]', ']', F, true, true],
    ['[!]]', ']', F, false, false],
    ['[a-]', '-', F, true, true],
    ['[\\]x]', ']', F, true, true],
    // Escapes.
    ['\\*', '*', F, true, true],
    ['\\*', 'a', F, false, false],
    ['\\?', '?', F, true, true],
    ['\\[a]', '[a]', F, true, true],
    ['a\\\\b', 'a\\b', F, true, true],
    // Names with spaces, regex metacharacters and Unicode.
    ['a+b(c).txt', 'x/a+b(c).txt', F, true, true],
    ['a+b(c).txt', 'aab(c).txt', F, false, false],
    ['^$.|{1}', '^$.|{1}', F, true, true],
    ['my file.txt', 'docs/my file.txt', F, true, true],
    ['*.txt', 'a/b c/d e.txt', F, true, true],
    ['日本/*.md', '日本/読む.md', F, true, true],
    ['?.txt', '😀.txt', F, true, true], // one code point, not one UTF-16 unit
    ['[é]', 'é', F, true, true],
    ['café', 'cafe\u0301', F, false, false], // no Unicode normalisation: NFC and NFD differ
    // Case-sensitive.
    ['*.PEM', 'a.pem', F, false, false],
    // Newlines are just characters in a name.
    ['a*b', 'a\nb', F, true, true],
  ];

  it.each(table)('%j on %j (isDir %s): matches %s, covers %s', (pattern, path, isDir, matches, covers) => {
    const glob = compileGlob(pattern);
    expect(glob.matches(path, isDir)).toBe(matches);
    expect(glob.covers(path, isDir)).toBe(covers);
  });
});

describe('glob canonical form and specificity', () => {
  const table: [string, string, string | undefined, number, number][] = [
    // [pattern, canonical, literal, literalSegments, literalChars]
    ['.env*', '**/.env*', undefined, 0, 4],
    ['**/.env*', '**/.env*', undefined, 0, 4],
    ['/output/', 'output/', 'output', 1, 6],
    ['secrets/', '**/secrets/', 'secrets', 1, 7],
    ['**/secrets/', '**/secrets/', 'secrets', 1, 7],
    ['.git/config', '.git/config', '.git/config', 2, 10],
    ['/.git/config', '.git/config', '.git/config', 2, 10],
    ['src/*.ts', 'src/*.ts', undefined, 1, 6],
    ['a/**/**/b', 'a/**/b', undefined, 2, 2],
    ['**', '**', undefined, 0, 0],
    ['a***b', '**/a*b', undefined, 0, 2],
    ['\\*', '**/\\*', '*', 1, 1],
    ['[a-]', '**/[a\\-]', undefined, 0, 0],
    ['[!x]', '**/[!x]', undefined, 0, 0],
    ['[\\!x]', '**/[\\!x]', undefined, 0, 0],
    ['a+b(c).txt', '**/a+b(c).txt', 'a+b(c).txt', 1, 10],
  ];

  it.each(table)('%j → %j', (pattern, canonical, literal, segments, chars) => {
    const glob = compileGlob(pattern);
    expect(glob.canonical).toBe(canonical);
    expect(glob.literal).toBe(literal);
    expect(glob.literalSegments).toBe(segments);
    expect(glob.literalChars).toBe(chars);
  });

  it('canonical form reparses (anchored) to itself, so it identifies the meaning', () => {
    for (const [pattern] of table) {
      const canonical = compileGlob(pattern).canonical;
      expect(compileGlob(`/${canonical}`).canonical).toBe(canonical);
    }
  });

  it('negation and a literal "!" are different canonical forms', () => {
    expect(compileGlob('[!x]').canonical).not.toBe(compileGlob('[\\!x]').canonical);
    expect(compileGlob('[\\!x]').matches('!', false)).toBe(true);
    expect(compileGlob('[!x]').matches('!', false)).toBe(true);
    expect(compileGlob('[\\!x]').matches('y', false)).toBe(false);
  });
});

describe('glob syntax errors', () => {
  const table: [string, string][] = [
    ['', 'is empty'],
    ['src/[a', 'has an unclosed "[" at character 5'],
    ['[!', 'has an unclosed "["'],
    ['[]', 'has an unclosed "["'],
    ['a\\', 'ends with a lone "\\"'],
    ['a\\/b', 'escapes a "/"'],
    ['../x', 'has a ".." segment'],
    ['a/../b', 'has a ".." segment'],
    ['a/..', 'has a ".." segment'],
    ['./a', 'has a "." segment'],
    ['a//b', 'has an empty segment'],
    ['/', 'names only the codebase root'],
    ['//', 'names only the codebase root'],
    ['a\0b', 'contains a NUL character'],
    ['[z-a]', 'has a reversed range "z-a"'],
    ['[[:alpha:]]', 'uses a POSIX class'],
    ['a[/]b', 'has a "/" inside the "["'],
    ['a[\\/]b', 'has a "/" inside the "["'],
    ['x'.repeat(MAX_PATTERN_LENGTH + 1), `the limit is ${MAX_PATTERN_LENGTH}`],
  ];

  it.each(table)('%j %s', (pattern, problem) => {
    const result = parseGlob(pattern);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problem).toContain(problem);
    expect(result.error.fix.length).toBeGreaterThan(0);
  });

  it('compileGlob throws E_INVALID_SPEC naming the pattern', () => {
    let caught: unknown;
    try {
      compileGlob('src/[a');
    } catch (err) {
      caught = err;
    }
    expect(isWardenError(caught) && caught.code).toBe('E_INVALID_SPEC');
    expect((caught as Error).message).toBe('pattern "src/[a" has an unclosed "[" at character 5; close the character class with "]", or escape the bracket as "\\[".');
  });
});

describe('glob matching cost is linear-ish (no catastrophic backtracking)', () => {
  // A naive translation ([^/]*a[^/]*a…b) takes n^8 steps here and never finishes.
  it('*a*a*a*a*a*a*a*a*b against 10k "a"s', () => {
    const glob = compileGlob('*a*a*a*a*a*a*a*a*b');
    const as = 'a'.repeat(10_000);
    expect(glob.matches(as, false)).toBe(false);
    expect(glob.covers(`${as}/x`, false)).toBe(false);
    expect(glob.matches(`${as}b`, false)).toBe(true);
    expect(glob.matches(`x/${as}b`, false)).toBe(true);
  });

  it('many `**` against a deep path', () => {
    const deep = 'a/'.repeat(5_000);
    expect(compileGlob('a/**/a/**/a/**/a/**/b').covers(`${deep}c`, false)).toBe(false);
    expect(compileGlob('**/a/a/a/a/b/**/c').matches(`${deep}b`, false)).toBe(false);
    expect(compileGlob('**/*a*a*a*b/**/c').covers(`${'aaaa/'.repeat(2_000)}c`, false)).toBe(false);
    expect(compileGlob('a/**/a/**/a/**/a/**/b').matches(`${deep}b`, false)).toBe(true);
  });

  it('a long pattern of classes against a long name', () => {
    const glob = compileGlob(`*${'[ab]*'.repeat(200)}c`);
    expect(glob.matches('ab'.repeat(5_000), false)).toBe(false);
    expect(glob.matches(`${'ab'.repeat(5_000)}c`, false)).toBe(true);
  });
});

describe('glob agrees with a brute-force reference on random patterns', () => {
  /** Deterministic PRNG (mulberry32) so failures reproduce. */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const PATTERN_SEGMENTS = ['a', 'b', 'ab', '*', 'a*', '*a', '*a*', 'a*b', '?', '?b', '[ab]', '[!a]b', '**', '*a*b*', 'b*a*a'];
  const NAMES = ['a', 'b', 'ab', 'ba', 'aab', 'bab', 'abab', 'bb'];

  /** Exponential but obviously right, for tiny inputs. */
  function referenceSegment(pattern: string, name: string): boolean {
    const re = pattern.replaceAll('[!', '[^').replaceAll('*', '[^/]*').replaceAll('?', '[^/]');
    return new RegExp(`^${re}$`).test(name);
  }
  function referenceSegments(pattern: readonly string[], names: readonly string[]): boolean {
    if (pattern.length === 0) return names.length === 0;
    const [head, ...rest] = pattern;
    if (head === '**') return names.some((_, k) => referenceSegments(rest, names.slice(k))) || referenceSegments(rest, []);
    return names.length > 0 && referenceSegment(head!, names[0]!) && referenceSegments(rest, names.slice(1));
  }
  function reference(pattern: string, path: string, isDir: boolean): { matches: boolean; covers: boolean } {
    const anchored = pattern.startsWith('/');
    const dirOnly = pattern.endsWith('/');
    let segments = pattern.replace(/^\//, '').replace(/\/$/, '').split('/');
    if (!anchored && segments.length === 1) segments = ['**', ...segments];
    const names = path.split('/');
    const self = (n: number, dir: boolean): boolean => (dir || !dirOnly) && referenceSegments(segments, names.slice(0, n));
    const matches = self(names.length, isDir);
    let covers = matches;
    for (let n = 1; n < names.length; n++) covers ||= self(n, true);
    return { matches, covers };
  }

  it('on 1000 random patterns × 5 random paths', () => {
    const random = rng(20240611);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const disagreements: unknown[] = [];
    let checked = 0;
    for (let i = 0; i < 1000; i++) {
      const body = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(PATTERN_SEGMENTS)).join('/');
      const pattern = `${random() < 0.3 ? '/' : ''}${body}${random() < 0.3 ? '/' : ''}`;
      const glob = compileGlob(pattern);
      for (let j = 0; j < 5; j++) {
        const path = Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(NAMES)).join('/');
        const isDir = random() < 0.5;
        const got = { matches: glob.matches(path, isDir), covers: glob.covers(path, isDir) };
        const want = reference(pattern, path, isDir);
        if (got.matches !== want.matches || got.covers !== want.covers) disagreements.push({ pattern, path, isDir, got, want });
        checked++;
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(5000);
  });
});
