import { expect, it } from 'vitest';
import { mountsUnder } from './mounts.js';

const line = (id: number, point: string): string => `${id} 1 0:${id} / ${point} rw,relatime shared:1 - tmpfs tmpfs rw`;

it('lists mounts at or below a directory, last mounted first, with escapes decoded', () => {
  const info = [
    line(20, '/'),
    line(21, '/data/run/eng_a'),
    line(22, '/data/run/eng_a/stage/tmp'),
    line(23, '/data/run/eng_a/with\\040space'),
    line(24, '/data/run/eng_ab'), // a sibling sharing the prefix
    line(25, '/data/run/eng_a/stage/tmp'), // stacked
    '',
  ].join('\n');
  expect(mountsUnder(info, '/data/run/eng_a')).toEqual([
    '/data/run/eng_a/stage/tmp',
    '/data/run/eng_a/with space',
    '/data/run/eng_a/stage/tmp',
    '/data/run/eng_a',
  ]);
  expect(mountsUnder(info, '/data/run/eng_b')).toEqual([]);
});

it('decodes every escape the kernel writes in mount paths (tab, newline, backslash), not only spaces', () => {
  const info = [line(30, '/d/run/eng_a/t\\011ab'), line(31, '/d/run/eng_a/n\\012l'), line(32, '/d/run/eng_a/b\\134s')].join('\n');
  expect(mountsUnder(info, '/d/run/eng_a')).toEqual(['/d/run/eng_a/b\\s', '/d/run/eng_a/n\nl', '/d/run/eng_a/t\tab']);
});
