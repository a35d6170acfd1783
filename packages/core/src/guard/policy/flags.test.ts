import { expect, it } from 'vitest';
import { BUILTIN_FLAG_ALIASES, mergeAliases, parseArgs } from './flags.js';

const parse = (argv: string[]) => {
  const p = parseArgs(argv, BUILTIN_FLAG_ALIASES[argv[0]!]);
  return { flags: [...p.flags].sort(), operands: p.operands };
};

it.each([
  [['rm', '-rf', '/'], ['f', 'r', 'rf'], ['/']],
  [['rm', '-f', '-r', '/'], ['f', 'r'], ['/']],
  [['rm', '-Rf', '/'], ['R', 'Rf', 'f', 'r'], ['/']],
  [['rm', '--recursive', '--force', '/'], ['f', 'force', 'r', 'recursive'], ['/']],
  [['rm', '-r', '--', '-f'], ['r'], ['-f']],
  [['find', '/', '-delete'], ['d', 'delete', 'e', 'l', 't'], ['/']],
  [['pip', 'install', '--index-url=https://x', 'p'], ['index-url'], ['install', 'https://x', 'p']],
  [['cat', '-'], [], ['-']],
])('%j → flags %j, operands %j', (argv, flags, operands) => {
  expect(parse(argv)).toEqual({ flags, operands });
});

it('lays a policy’s aliases over the built-in table', () => {
  const merged = mergeAliases({ tar: { extract: 'x' }, rm: { purge: 'r' } });
  expect(merged.tar).toEqual({ extract: 'x' });
  expect(merged.rm).toMatchObject({ recursive: 'r', purge: 'r' });
  expect(BUILTIN_FLAG_ALIASES.rm).not.toHaveProperty('purge');
});
