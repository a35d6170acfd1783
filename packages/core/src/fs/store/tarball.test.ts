import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { access, chmod, link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { openCodebaseStore, type CodebaseStore } from './store.js';
import { checkMembers, extractTarball, parseListingLine, unquoteC, type TarMember } from './tarball.js';

const run = promisify(execFile);
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

describe('GNU tar listing parser', () => {
  it.each([
    ['"plain"', 'plain'],
    ['"we\\"ird\\nname"', 'we"ird\nname'],
    ['"back\\\\slash\\ttab"', 'back\\slash\ttab'],
    ['"\\303\\251t\\303\\251"', 'été'],
    ['"\\346\\226\\207\\344\\273\\266"', '文件'],
    ['"q\\?"', 'q?'],
  ])('unquotes %s', (quoted, text) => {
    expect(unquoteC(quoted, 0)).toEqual({ text, end: quoted.length });
  });

  it.each([['"unterminated'], ['"bad \\x escape"'], ['"\\377"']])('refuses %s', (quoted) => {
    expect(() => unquoteC(quoted, 0)).toThrow();
  });

  it.each<[string, TarMember]>([
    ['-rw-r--r-- 0/0               4 1970-01-01 00:00 "../escape"', { type: '-', name: '../escape' }],
    ['drwxr-xr-x 0/0               0 2026-11-30 03:50 "./d/"', { type: 'd', name: './d/' }],
    ['lrwxrwxrwx 0/0               0 2026-11-30 03:50 "./ln" -> "/etc"', { type: 'l', name: './ln', link: '/etc' }],
    ['hrw-r--r-- 0/0               0 1970-01-01 00:00 "hl" link to "../../etc/passwd"', { type: 'h', name: 'hl', link: '../../etc/passwd' }],
    ['lrwxrwxrwx 0/0               0 2026-11-30 03:50 "a -> b" -> "c link to d"', { type: 'l', name: 'a -> b', link: 'c link to d' }],
    ['crw-r--r-- 0/0             1,3 1970-01-01 00:00 "dev"', { type: 'c', name: 'dev' }],
  ])('parses %s', (line, member) => {
    expect(parseListingLine(line)).toEqual(member);
  });
});

describe('checkMembers', () => {
  const f = (name: string): TarMember => ({ type: '-', name });
  it('accepts ordinary archives, including "./" prefixes, symlinks anywhere and hard links inside', () => {
    expect(
      checkMembers([
        { type: 'd', name: './' },
        { type: 'd', name: './src/' },
        f('./src/a.ts'),
        { type: 'l', name: './abs-link', link: '/etc/passwd' },
        { type: 'l', name: './up-link', link: '../../outside' },
        { type: 'h', name: './src/b.ts', link: './src/a.ts' },
      ]),
    ).toEqual([]);
  });

  it.each<[string, TarMember[], string]>([
    ['an absolute member', [f('/etc/cron.d/x')], 'is an absolute path'],
    ['a ".." member', [f('../escape')], 'has a ".." component'],
    ['a ".." in the middle', [f('ok/../../x')], 'has a ".." component'],
    ['a member beneath a symlink member', [{ type: 'l', name: 'link', link: '/tmp' }, f('link/pwned')], 'through symlink member "link"'],
    ['a member beneath a symlink declared later', [f('link/pwned'), { type: 'l', name: './link', link: '/tmp' }], 'through symlink member "link"'],
    ['a hard link leaving the tree', [{ type: 'h', name: 'hl', link: '../../etc/passwd' }], 'hard link whose target'],
    ['an absolute hard link', [{ type: 'h', name: 'hl', link: '/etc/shadow' }], 'is an absolute path'],
    ['a hard link through a symlink member', [{ type: 'l', name: 'l', link: '/etc' }, { type: 'h', name: 'hl', link: 'l/shadow' }], 'through symlink member "l"'],
    ['a hard link to a symlink member', [{ type: 'l', name: 'l', link: '/etc/shadow' }, { type: 'h', name: 'hl', link: 'l' }], 'through symlink member "l"'],
    ['a character device', [{ type: 'c', name: 'dev/null' }], 'is a character device'],
    ['a block device', [{ type: 'b', name: 'sda' }], 'is a block device'],
    ['a fifo', [{ type: 'p', name: 'pipe' }], 'is a fifo'],
    ['an unknown type', [{ type: '?', name: 'x' }], 'unsupported type'],
    ['a file as the root', [f('./')], 'names the archive root'],
  ])('refuses %s', (_what, members, why) => {
    const problems = checkMembers(members);
    expect(problems.join('\n')).toContain(why);
  });
});

describe('add from a tarball', () => {
  let tmp: string;
  let store: CodebaseStore;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'warden-tar-'));
    store = await openCodebaseStore(join(tmp, 'store'), { durable: false });
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function tree(): Promise<string> {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'bin'), { recursive: true });
    await mkdir(join(src, 'dir with space/ü'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'hello\n');
    await writeFile(join(src, 'bin/run.sh'), '#!/bin/sh\n');
    await chmod(join(src, 'bin/run.sh'), 0o755);
    await writeFile(join(src, 'dir with space/ü/文件'), 'unicode');
    await writeFile(join(src, 'empty'), '');
    await chmod(join(src, 'empty'), 0o600);
    await writeFile(join(src, 'big'), Buffer.alloc(3 << 20, 7));
    await link(join(src, 'a.txt'), join(src, 'hard'));
    await symlink('/etc/passwd', join(src, 'passwd'));
    await symlink('a.txt', join(src, 'rel'));
    return src;
  }

  async function expectNoVersionAndNoTemp(name: string): Promise<void> {
    const err = await store.show(name).catch((e: unknown) => e);
    expect(hasCode(err, 'E_CODEBASE_NOT_FOUND')).toBe(true);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  }

  it.each([
    ['plain', 'app.tar', ['-cf']],
    ['gzip', 'app.tar.gz', ['-czf']],
  ])('stores a %s tarball exactly as the same directory', async (_kind, file, flags) => {
    const src = await tree();
    const tarball = join(tmp, file);
    await run('tar', [...flags, tarball, '-C', src, '.']);
    const fromDir = await store.add({ dir: src }, { name: 'from-dir' });
    const fromTar = await store.add({ tarball }, { name: 'from-tar' });
    expect(fromTar.entries).toEqual(fromDir.entries);
    expect(fromTar.entries.find((e) => e.path === 'bin/run.sh')).toMatchObject({ mode: 0o755 });
    expect(fromTar.entries.find((e) => e.path === 'passwd')).toEqual({ type: 'symlink', path: 'passwd', target: '/etc/passwd' });
    expect((await readFile(store.blobPath(sha(Buffer.alloc(3 << 20, 7))))).equals(Buffer.alloc(3 << 20, 7))).toBe(true);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('takes blobs over from the private extraction (each stored once, 0444, content intact)', async () => {
    const src = await tree();
    const tarball = join(tmp, 'app.tar');
    await run('tar', ['-cf', tarball, '-C', src, '.']);
    const m = await store.add({ tarball }, { name: 'app' });
    for (const e of m.entries) {
      if (e.type !== 'file') continue;
      const content = await readFile(store.blobPath(e.sha256));
      expect(sha(content)).toBe(e.sha256);
      expect(content.length).toBe(e.size);
    }
  });

  it('refuses a tarball with "../" and absolute members, writing nothing anywhere', async () => {
    // Build the archive with -P so tar keeps the names as given.
    const work = join(tmp, 'work');
    await mkdir(join(work, 'sub'), { recursive: true });
    await writeFile(join(work, 'escape'), 'evil');
    const absTarget = join(tmp, 'abs-target');
    await writeFile(absTarget, 'evil');
    const tarball = join(tmp, 'evil.tar');
    await run('tar', ['-c', '-P', '-f', tarball, '-C', join(work, 'sub'), '../escape', absTarget]);
    await rm(join(work, 'escape'));
    await rm(absTarget);
    const listing = (await run('tar', ['-t', '-P', '-f', tarball])).stdout;
    expect(listing).toContain('../escape');
    expect(listing).toContain(absTarget);

    const err = await store.add({ tarball }, { name: 'evil' }).catch((e: unknown) => e);

    expect(hasCode(err, 'E_CODEBASE_INVALID')).toBe(true);
    const problems = (err as { details: { problems: string[] } }).details.problems;
    expect(problems).toEqual([`member "../escape" has a ".." component`, `member ${JSON.stringify(absTarget)} is an absolute path`]);
    expect(await exists(absTarget)).toBe(false);
    expect(await exists(join(work, 'escape'))).toBe(false);
    expect(await exists(join(store.rootDir, 'tmp', 'escape'))).toBe(false);
    await expectNoVersionAndNoTemp('evil');
    expect(await readdir(join(store.rootDir, 'blobs'))).toEqual([]);
  });

  it('refuses a tarball that writes through its own symlink, and the target stays untouched', async () => {
    const outside = join(tmp, 'outside');
    await mkdir(outside);
    const work = join(tmp, 'work');
    await mkdir(work);
    await symlink(outside, join(work, 'link'));
    const tarball = join(tmp, 'evil.tar');
    await run('tar', ['-cf', tarball, '-C', work, 'link']);
    // Second member: a real directory "link" with a file, appended under the same name.
    const work2 = join(tmp, 'work2');
    await mkdir(join(work2, 'link'), { recursive: true });
    await writeFile(join(work2, 'link/pwned'), 'evil');
    await run('tar', ['-rf', tarball, '-C', work2, 'link/pwned']);

    const err = await store.add({ tarball }, { name: 'evil' }).catch((e: unknown) => e);

    expect(hasCode(err, 'E_CODEBASE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('would be written through symlink member "link"');
    expect(await readdir(outside)).toEqual([]);
    await expectNoVersionAndNoTemp('evil');
  });

  it('GNU tar on its own (the second line of defence) also keeps ".." and absolute members inside the destination', async () => {
    const work = join(tmp, 'work');
    await mkdir(join(work, 'sub'), { recursive: true });
    await writeFile(join(work, 'escape'), 'evil');
    const tarball = join(tmp, 'evil.tar');
    await run('tar', ['-c', '-P', '-f', tarball, '-C', join(work, 'sub'), '../escape']);
    await rm(join(work, 'escape'));
    const dest = join(tmp, 'deep', 'dest');
    await mkdir(dest, { recursive: true });
    await extractTarball(tarball, dest, { label: 'tarball evil.tar' }).catch(() => undefined);
    expect(await exists(join(tmp, 'deep', 'escape'))).toBe(false);
    expect(await exists(join(work, 'escape'))).toBe(false);
  });

  it('refuses device nodes and fifos instead of creating them', async () => {
    const tarball = join(tmp, 'dev.tar');
    await run('tar', ['-cf', tarball, '-C', '/', 'dev/null']);
    const err = await store.add({ tarball }, { name: 'dev' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_CODEBASE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('member "dev/null" is a character device');

    const src = join(tmp, 'fifo-src');
    await mkdir(src);
    await run('mkfifo', [join(src, 'pipe')]);
    await run('tar', ['-cf', join(tmp, 'fifo.tar'), '-C', src, '.']);
    const err2 = await store.add({ tarball: join(tmp, 'fifo.tar') }, { name: 'fifo' }).catch((e: unknown) => e);
    expect((err2 as Error).message).toContain('member "./pipe" is a fifo');
    await expectNoVersionAndNoTemp('dev');
  });

  it.each([
    ['garbage', async (p: string) => writeFile(p, 'this is not a tar archive at all'), 'does not look like a tar archive'],
    ['a truncated archive', async (p: string) => writeFile(p, Buffer.alloc(700, 1)), 'Could not read tarball'],
    ['a missing file', (): Promise<void> => Promise.resolve(), 'does not exist'],
    ['a directory', async (p: string) => mkdir(p), 'is not a regular file'],
  ])('refuses %s with E_CODEBASE_INVALID that names the tarball, not the private copy', async (_what, make, why) => {
    const tarball = join(tmp, 'bad.tar');
    await make(tarball);
    const err = await store.add({ tarball }, { name: 'bad' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_CODEBASE_INVALID'), String(err)).toBe(true);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).not.toContain(store.rootDir);
    await expectNoVersionAndNoTemp('bad');
  });

  it('adds an empty archive as an empty codebase', async () => {
    const tarball = join(tmp, 'empty.tar');
    await run('tar', ['-cf', tarball, '-T', '/dev/null']);
    expect((await store.add({ tarball }, { name: 'empty' })).entries).toEqual([]);
  });

  it('does not treat a ":" in the path as a remote host', async () => {
    const src = await tree();
    const tarball = join(tmp, 'host:app.tar');
    await run('tar', ['--force-local', '-cf', tarball, '-C', src, '.']);
    expect((await store.add({ tarball }, { name: 'app' })).version).toBe(1);
  });
});
