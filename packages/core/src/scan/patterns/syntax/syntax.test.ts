import { describe, expect, it } from 'vitest';
import { maxLength, requiredAtoms, slowPatternReasons } from './analyze.js';
import { countedSearch } from './backtrack.js';
import { toJsSource, toYaraRegex } from './emit.js';
import { parsePattern, PatternSyntaxError } from './parse.js';

describe('parsePattern', () => {
  it.each([
    ['a*', /unbounded repetition \*/],
    ['a+', /unbounded repetition \+/],
    ['a{3,}', /unbounded repetition \{m,\}/],
    ['a{5,2}', /repetition bounds/],
    ['a{2000}', /repetition bounds/],
    ['^abc', /anchors/],
    ['abc$', /anchors/],
    ['(?=abc)', /lookaround/],
    ['(a)\\1', /unknown escape \\1/],
    ['a??', /lazy or stacked/],
    ['[abc', /missing \]/],
    ['(abc', /missing \)/],
    ['abc)', /unbalanced \)/],
    ['é', /write byte 0xe9 as \\xe9/],
    ['\\b{2}', /needs something to repeat/],
    ['[z-a]', /bad range/],
  ])('refuses /%s/', (source, reason) => {
    expect(() => parsePattern(source)).toThrow(PatternSyntaxError);
    expect(() => parsePattern(source)).toThrow(reason);
  });

  it.each([
    // source, JS RegExp source, YARA regex
    ['abc', 'abc', '/abc/'],
    ['a.c', 'a[^\\n]c', '/a[^\\n]c/'],
    ['\\s{1,4}x', '[\\t-\\r ]{1,4}x', '/\\s{1,4}x/'],
    ['\\S\\d\\w\\W', '[^\\t-\\r ]\\d\\w\\W', '/\\S\\d\\w\\W/'],
    ['(?i)ab[c-e]', 'ab[c-e]', '/[Aa][Bb][C-Ec-e]/'],
    ['(?i)[^a]', '[^a]', '/[^Aa]/'],
    ['/dev/(tcp|udp)/', '\\/dev\\/(?:tcp|udp)\\/', '/\\/dev\\/(tcp|udp)\\//'],
    ['\\x00\\xff[\\x00-\\xff]', '\\x00\\xff[\\x00-\\xff]', '/\\x00\\xff[\\x00-\\xff]/'],
    ['(ab){2}c?', '(?:ab){2}c?', '/(ab){2}c?/'],
  ])('writes /%s/ for JS as /%s/ and for YARA as %s', (source, js, yara) => {
    const p = parsePattern(source);
    expect(toJsSource(p)).toBe(js);
    expect(toYaraRegex(p)).toBe(yara);
  });

  it('matches bytes, not Unicode: JS \\s would match U+00A0, ours does not', () => {
    const re = new RegExp(toJsSource(parsePattern('a\\sb')));
    expect(re.test('a\x0bb')).toBe(true);
    expect(re.test('a\xa0b')).toBe(false);
  });
});

describe('analysis', () => {
  it.each([
    ['nested variable repetition', '(a{1,5}){1,5}x', /fixed width/],
    ['ambiguous alternatives in a repetition', 'x(a|ab){1,9}', /start with different bytes/],
    ['adjacent overlapping gaps', 'x\\s{0,20}\\s{0,20}y', /adjacent variable-length parts/],
    ['a wide leading gap', '[^\\n]{0,100}foo', /opens with a gap/],
  ])('flags %s as slow', (_what, source, reason) => {
    expect(slowPatternReasons(parsePattern(source).root).join('\n')).toMatch(reason);
  });

  it.each(['foo\\s{1,4}bar', 'x[^\\n]{0,200}y', '\\s{0,4}(a|b)\\s{0,4}', 'foo[a-z]{0,8}[0-9]{0,8}'])('accepts /%s/', (source) => {
    expect(slowPatternReasons(parsePattern(source).root)).toEqual([]);
  });

  it('computes the longest possible match', () => {
    expect(maxLength(parsePattern('ab{2,5}(cd|e)?\\b').root)).toBe(1 + 5 + 2);
  });

  it.each([
    ['abc', [['abc', 0]]],
    ['(?i)EvAl\\(', [['eval(', 0]]],
    ['\\bnc\\s', [['nc\t', 0], ['nc\n', 0], ['nc\x0b', 0], ['nc\x0c', 0], ['nc\r', 0], ['nc ', 0]]],
    ['x{0,9}hello', [['hello', null]]],
    ['ab[0-9]{1,3}longer', [['longer', null]]],
    ['(foo|barbaz)', [['foo', 0], ['barbaz', 0]]],
    ['pre(/usr)?/bin/', [['pre/bin/', 0], ['pre/usr/bin/', 0]]],
  ])('finds the literals every match of /%s/ contains', (source, atoms) => {
    expect(requiredAtoms(parsePattern(source).root)?.map((a) => [a.text, a.offset])).toEqual(atoms);
  });
});

describe('countedSearch (the work-counting matcher)', () => {
  it('finds what V8 finds', () => {
    for (const [source, input] of [
      ['a{1,3}b', 'xaab aaaab ab b'],
      ['\\bnc\\s', 'nc anc nc\tx'],
      ['(ab|a)c', 'abc ac aac'],
    ] as const) {
      const p = parsePattern(source);
      const re = new RegExp(toJsSource(p), 'g');
      const v8 = [...input.matchAll(re)].map((m) => ({ offset: m.index, length: m[0].length }));
      expect(countedSearch(p.root, Buffer.from(input, 'latin1')).matches).toEqual(v8);
    }
  });

  it('shows the blow-up the static checks prevent', () => {
    // Not accepted by the rule compiler, which is the point: (a|a){1,20} is exponential.
    const bad = parsePattern('(a|a){1,20}b').root;
    const r = countedSearch(bad, Buffer.alloc(24, 'a'), 1e6);
    expect(r.steps).toBeGreaterThan(1e6);
  });
});
