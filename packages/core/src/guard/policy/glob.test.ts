import { describe, expect, it } from 'vitest';
import { compileGlobs, compileNameGlobs, compilePathGlobs, GlobError, MAX_GLOB_INPUT } from './glob.js';

describe('path globs', () => {
  const cases: [string, string, boolean][] = [
    ['/etc/**', '/etc', true],
    ['/etc/**', '/etc/passwd', true],
    ['/etc/**', '/etc/ssh/sshd_config', true],
    ['/etc/**', '/etcetera', false],
    ['/etc/*', '/etc/ssh/sshd_config', false],
    ['/etc/*', '/etc/passwd', true],
    ['**/.ssh/id_*', '~/.ssh/id_rsa', true],
    ['**/.ssh/id_*', '.ssh/id_rsa', true],
    ['**/.ssh/id_*', '/home/a/.ssh/id_ed25519', true],
    ['**/.ssh/id_*', '/home/a/.ssh/known_hosts', false],
    ['/a/**/b', '/a/b', true],
    ['/a/**/b', '/a/x/y/b', true],
    ['/\\*', '/*', true],
    ['/\\*', '/tmp', false],
    ['/{bin,usr}', '/usr', true],
    ['/{bin,usr}', '/var', false],
    ['/dev/{sd,nvme}[a-z0-9]*', '/dev/sda1', true],
    ['/dev/{sd,nvme}[a-z0-9]*', '/dev/null', false],
    ['/dev/[!n]*', '/dev/null', false],
    ['/dev/[!n]*', '/dev/sda', true],
    ['?', '/', false],
  ];
  it.each(cases)('%s ~ %s → %s', (glob, input, want) => {
    expect(compileGlobs([glob], { sep: '/' })(input)).toBe(want);
  });
});

describe('name globs', () => {
  it('lets * cross dots and slashes', () => {
    const m = compileGlobs(['subprocess.*', 'mkfs*']);
    expect(['subprocess.run', 'subprocess.Popen.communicate', 'mkfs', 'mkfs.ext4'].map(m)).toEqual([true, true, true, true]);
    expect(['subprocess', 'os.system', 'xmkfs'].map(m)).toEqual([false, false, false]);
  });
  it('is exact without wildcards', () => {
    expect(compileGlobs(['rm'])('rm')).toBe(true);
    expect(compileGlobs(['rm'])('rmdir')).toBe(false);
  });
});

describe('remembering matchers', () => {
  it('answer as compileGlobs does, however often they are asked and however many inputs there are', () => {
    const names = ['python*', 'nc.*', 'sh', 'pip[0-9]*', '*miner'];
    const paths = ['/etc/**', '**/.ssh/id_*', '~/.bashrc'];
    const [plainN, memoN, plainP, memoP] = [compileGlobs(names), compileNameGlobs(names), compileGlobs(paths, { sep: '/' }), compilePathGlobs(paths)];
    const inputs = Array.from({ length: 600 }, (_, i) => [`python${i}`, `nc.${i}`, 'sh', `x${i}miner`, `pip${i % 10}`, `/etc/x${i}`, `/home/u/.ssh/id_${i}`, '~/.bashrc', `a${i}`][i % 9] as string);
    for (const input of [...inputs, ...inputs]) {
      expect(memoN(input)).toBe(plainN(input));
      expect(memoP(input)).toBe(plainP(input));
    }
  });

  it('say when they accept exactly a set of names, so candidates can be looked up', () => {
    expect(compileNameGlobs(['rm', 'r{m,mdir}']).only).toEqual(new Set(['rm', 'rmdir']));
    expect(compileNameGlobs(['rm', 'mkfs*']).only).toBeUndefined();
  });
});

describe('bad globs', () => {
  it.each([
    ['[abc', /without a closing \]/],
    ['a{b,c', /\{ without a \}/],
    ['a}b', /\} without a \{/],
    ['x\\', /lone \\/],
    ['[z-a]', /backwards range/],
    ['{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}', /more than 64/],
  ])('%s is refused', (glob, message) => {
    expect(() => compileGlobs([glob], { sep: '/' })).toThrow(GlobError);
    expect(() => compileGlobs([glob], { sep: '/' })).toThrow(message);
  });
});

it('takes linear time on adversarial input (no backtracking)', () => {
  const m = compileGlobs(['*a*a*a*a*a*a*a*a*b']);
  const input = 'a'.repeat(MAX_GLOB_INPUT);
  const t = performance.now();
  expect(m(input)).toBe(false);
  expect(performance.now() - t).toBeLessThan(500);
  expect(m('a'.repeat(MAX_GLOB_INPUT + 1))).toBe(false);
});
