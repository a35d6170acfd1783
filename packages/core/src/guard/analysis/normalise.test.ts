import { describe, expect, it } from 'vitest';
import { argvToShell, normalise } from './index.js';
import { truncateUtf8 } from './normalise.js';

describe('normalise', () => {
  it.each([
    ['r\u200bm -rf /', 'rm -rf /', { removedInvisible: 1, removedBidi: 0, nfkcChanged: false }],
    ['\ufeffr\u00adm\u2060 -rf /', 'rm -rf /', { removedInvisible: 3, removedBidi: 0, nfkcChanged: false }],
    ['rm\u{E0072}\u{E006D} x', 'rm x', { removedInvisible: 2, removedBidi: 0, nfkcChanged: false }],
    ['rm\ufe0f -rf /', 'rm -rf /', { removedInvisible: 1, removedBidi: 0, nfkcChanged: false }],
    ['echo "\u202eabc\u202c" \u2066x\u2069 \u200e', 'echo "abc" x ', { removedInvisible: 0, removedBidi: 5, nfkcChanged: false }],
    ['ｒｍ －ｒｆ ／', 'rm -rf /', { removedInvisible: 0, removedBidi: 0, nfkcChanged: true }],
    ['plain ascii', 'plain ascii', { removedInvisible: 0, removedBidi: 0, nfkcChanged: false }],
  ])('%j', (code, text, counts) => {
    const n = normalise(code, 1024);
    expect(n.text).toBe(text);
    expect(n.normalisation).toEqual({ ...counts, truncated: false });
  });

  it('caps the length and says so, never splitting a surrogate pair', () => {
    expect(normalise('abcdef', 4)).toEqual({ text: 'abcd', normalisation: { removedInvisible: 0, removedBidi: 0, nfkcChanged: false, truncated: true } });
    expect(normalise('ab😀', 3).text).toBe('ab');
    expect(normalise('x'.repeat(10_000), 10).text).toHaveLength(10);
  });

  it('cuts UTF-8 on a code point boundary', () => {
    expect(truncateUtf8('aé😀', 3)).toBe('aé');
    expect(truncateUtf8('aé😀', 7)).toBe('aé😀');
    expect(truncateUtf8('aé😀', 6)).toBe('aé');
  });
});

describe('argvToShell', () => {
  it.each([
    [['rm', '-rf', '/'], 'rm -rf /'],
    [['echo', 'a b', "it's", ''], "echo 'a b' 'it'\\''s' ''"],
    [['sh', '-c', 'rm -rf / && echo $HOME'], "sh -c 'rm -rf / && echo $HOME'"],
    [['A=1', 'x=y'], "'A=1' x=y"],
    [['time', 'if'], "'time' if"],
    [['printf', '%s\n', '*'], "printf '%s\n' '*'"],
  ])('%j → %s', (argv, line) => {
    expect(argvToShell(argv)).toBe(line);
  });
});
