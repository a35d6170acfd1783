import { expect, it } from 'vitest';
import { asciiLower, compileSafeRegex, MAX_REGEX_INPUT_CHARS, UnsafeRegexError } from './regex-safety.js';

it.each([
  ['(a+)+', /unbounded repetition/],
  ['(a|a)*', /unbounded repetition/],
  ['(.*)*', /unbounded repetition/],
  ['\\w*\\w*', /unbounded repetition/],
  ['x(a{1,9}){1,9}', /fixed width/],
  ['x(ab|ac){1,20}', /different bytes/],
  ['x\\w{0,50}\\w{0,50}', /adjacent variable-length/],
  ['[^\\n]{0,200}foo', /opens with a gap/],
  ['(?=x)', /lookaround/],
  ['^rm', /anchors/],
  ['a[', /missing \]/],
])('%s is refused', (source, reason) => {
  expect(() => compileSafeRegex(source)).toThrow(UnsafeRegexError);
  expect(() => compileSafeRegex(source)).toThrow(reason);
});

it('finds spans, case-insensitively with (?i), and skips over-long text', () => {
  const re = compileSafeRegex('(?i)curl\\s{1,4}-s');
  expect(re.search('x; CURL  -s y; curl -s')).toEqual([
    { start: 3, end: 11 },
    { start: 15, end: 22 },
  ]);
  expect(re.search(`${'x'.repeat(MAX_REGEX_INPUT_CHARS)}curl -s`)).toEqual([]);
});

it('matches non-ASCII text through negated classes', () => {
  expect(compileSafeRegex('rm[^a]{1,3}x').search('rm\u00e9\u00e9x')).toEqual([{ start: 0, end: 5 }]);
});

it.each([
  ['169\\.254\\.169\\.254|metadata\\.google\\.internal', ['169.254.169.254', 'metadata.google.internal']],
  ['(?i)stratum\\+(?:tcp|ssl)://', ['stratum+tcp://', 'stratum+ssl://']],
  ['\\bHIST(?:FILE=/dev/null|SIZE=0)', ['histfile=/dev/null', 'histsize=0']],
  ['\\d{3}', null],
])('names the literals one of which every match of /%s/ contains (lowercased), or none', (source, atoms) => {
  const re = compileSafeRegex(source);
  expect(re.atoms === null ? null : [...re.atoms].sort()).toEqual(atoms === null ? null : [...atoms].sort());
  for (const text of ['curl http://169.254.169.254/x', 'STRATUM+TCP://pool', 'export HISTSIZE=0', 'port 443']) {
    if (re.search(text).length > 0 && re.atoms) expect(re.atoms.some((a) => asciiLower(text).includes(a))).toBe(true);
  }
});

it('lowercases ASCII letters only', () => {
  expect(asciiLower('ÀB\u212Ac')).toBe('Àb\u212Ac');
});
