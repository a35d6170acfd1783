import { expect, it } from 'vitest';
import { ancestorsAndSelf, isWithin, parentOf } from './paths.js';

it('parentOf, ancestorsAndSelf', () => {
  expect(parentOf('a/b/c')).toBe('a/b');
  expect(parentOf('a')).toBe('');
  expect(ancestorsAndSelf('a/b/c')).toEqual(['a', 'a/b', 'a/b/c']);
  expect(ancestorsAndSelf('a')).toEqual(['a']);
});

it('isWithin: the path or an ancestor, never a mere name prefix', () => {
  const set = new Set(['docs', 'src/gen']);
  expect(isWithin('docs', set)).toBe(true);
  expect(isWithin('docs/a/b.md', set)).toBe(true);
  expect(isWithin('src/gen/x.ts', set)).toBe(true);
  expect(isWithin('docs2/a', set)).toBe(false);
  expect(isWithin('src/generated', set)).toBe(false);
  expect(isWithin('src', set)).toBe(false);
});
