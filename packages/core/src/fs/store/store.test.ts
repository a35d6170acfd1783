import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWardenError, type WardenError } from '@warden/protocol';
import type { FileEntry, ManifestEntry } from '../types.js';
import { openCodebaseStore, type CodebaseStore } from './store.js';

const run = promisify(execFile);
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

let tmp: string;
let store: CodebaseStore;
let servers: Server[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'warden-store-'));
  store = await openCodebaseStore(join(tmp, 'data', 'codebases'), { durable: false });
});

afterEach(async () => {
  for (const s of servers) s.close();
  servers = [];
  await rm(tmp, { recursive: true, force: true });
});

/** The WardenError `p` rejects with (fails the test if it resolves or rejects with anything else). */
async function rejection(p: Promise<unknown>): Promise<WardenError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!isWardenError(err)) throw err instanceof Error ? err : new Error(String(err));
  return err;
}

/** Every blob in the store: sha256 → content. */
async function blobs(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const dir = join(store.rootDir, 'blobs');
  for (const prefix of await readdir(dir)) for (const name of await readdir(join(dir, prefix))) out.set(name, await readFile(join(dir, prefix, name)));
  return out;
}

async function write(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

/** A source tree with every kind of entry a codebase can hold. */
async function fixture(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await write(join(root, 'a.txt'), 'hello\n');
  await write(join(root, 'bin/run.sh'), '#!/bin/sh\necho hi\n', 0o755);
  await write(join(root, 'empty'), '', 0o600);
  await write(join(root, 'dir with space/ünïcødé 文件.txt'), 'unicode\n');
  await write(join(root, 'nested/deep/er/file'), 'deep\n', 0o640);
  await write(join(root, 'dup1'), 'same content\n');
  await write(join(root, 'dup2'), 'same content\n');
  await mkdir(join(root, 'emptydir'), { mode: 0o750 });
  await chmod(join(root, 'emptydir'), 0o750);
  await chmod(join(root, 'bin'), 0o755);
  await symlink('a.txt', join(root, 'link-rel'));
  await symlink('/etc/passwd', join(root, 'passwd'));
  await symlink('does/not/exist', join(root, 'dangling'));
  await symlink('/etc', join(root, 'etc-dir'));
}

describe('add from a directory', () => {
  it('stores files, dirs, modes, empty files, unicode names and symlinks as entries', async () => {
    const src = join(tmp, 'src');
    await fixture(src);
    const m = await store.add({ dir: src }, { name: 'app' });

    expect(m).toMatchObject({ codebase: 'app', version: 1, skipped: [] });
    expect(new Date(m.createdAt).toISOString()).toBe(m.createdAt);
    const file = (path: string, content: string, mode = 0o644): FileEntry => ({ type: 'file', path, mode, size: Buffer.byteLength(content), sha256: sha(content) });
    expect(m.entries).toEqual([
      file('a.txt', 'hello\n'),
      { type: 'dir', path: 'bin', mode: 0o755 },
      file('bin/run.sh', '#!/bin/sh\necho hi\n', 0o755),
      { type: 'symlink', path: 'dangling', target: 'does/not/exist' },
      { type: 'dir', path: 'dir with space', mode: 0o755 },
      file('dir with space/ünïcødé 文件.txt', 'unicode\n'),
      file('dup1', 'same content\n'),
      file('dup2', 'same content\n'),
      file('empty', '', 0o600),
      { type: 'dir', path: 'emptydir', mode: 0o750 },
      { type: 'symlink', path: 'etc-dir', target: '/etc' },
      { type: 'symlink', path: 'link-rel', target: 'a.txt' },
      { type: 'dir', path: 'nested', mode: 0o755 },
      { type: 'dir', path: 'nested/deep', mode: 0o755 },
      { type: 'dir', path: 'nested/deep/er', mode: 0o755 },
      file('nested/deep/er/file', 'deep\n', 0o640),
      { type: 'symlink', path: 'passwd', target: '/etc/passwd' },
    ]);
    // The manifest on disk is what add returned (minus the add-time report).
    const { skipped: _skipped, ...manifest } = m;
    expect(await store.show('app')).toEqual(manifest);
  });

  it('stores each distinct content once, as a read-only blob named by its sha256', async () => {
    const src = join(tmp, 'src');
    await fixture(src);
    const m = await store.add({ dir: src }, { name: 'app' });
    const stored = await blobs();
    const files = m.entries.filter((e): e is FileEntry => e.type === 'file');
    expect(stored.size).toBe(new Set(files.map((f) => f.sha256)).size);
    expect(stored.size).toBe(files.length - 1); // dup1 and dup2 share one blob
    for (const f of files) {
      expect(sha(stored.get(f.sha256)!)).toBe(f.sha256);
      const st = await stat(store.blobPath(f.sha256));
      expect(st.mode & 0o7777).toBe(0o444);
      expect(st.isFile()).toBe(true);
    }
  });

  it('never reads through a symlink: /etc/passwd and /etc content appear in no blob', async () => {
    const src = join(tmp, 'src');
    await fixture(src);
    await store.add({ dir: src }, { name: 'app' });
    const passwd = await readFile('/etc/passwd');
    const hostname = await readFile('/etc/hostname').catch(() => undefined);
    for (const content of (await blobs()).values()) {
      expect(content.equals(passwd)).toBe(false);
      if (hostname) expect(content.equals(hostname)).toBe(false);
    }
    expect((await blobs()).has(sha(passwd))).toBe(false);
  });

  it('drops setuid, setgid and sticky bits', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'suid'), 'x', 0o4755);
    await mkdir(join(src, 'sticky'));
    await chmod(join(src, 'sticky'), 0o1777);
    const m = await store.add({ dir: src }, { name: 'app' });
    expect(m.entries).toEqual([
      { type: 'dir', path: 'sticky', mode: 0o777 },
      { type: 'file', path: 'suid', mode: 0o755, size: 1, sha256: sha('x') },
    ]);
  });

  it('leaves out sockets and fifos and reports them in `skipped`', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'keep.txt'), 'k');
    await run('mkfifo', [join(src, 'pipe')]);
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(join(src, 'sock'), r));
    const m = await store.add({ dir: src }, { name: 'app' });
    expect(m.entries.map((e) => e.path)).toEqual(['keep.txt']);
    expect(m.skipped).toEqual([
      { path: 'pipe', kind: 'fifo' },
      { path: 'sock', kind: 'socket' },
    ]);
  });

  it('stores a large file (streamed, not buffered) intact', async () => {
    const src = join(tmp, 'src');
    const big = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await write(join(src, 'big.bin'), big);
    const m = await store.add({ dir: src }, { name: 'app' });
    const e = m.entries[0] as FileEntry;
    expect(e).toMatchObject({ path: 'big.bin', size: big.length, sha256: sha(big) });
    expect((await readFile(store.blobPath(e.sha256))).equals(big)).toBe(true);
  });

  it('adds an empty directory as a codebase without entries', async () => {
    await mkdir(join(tmp, 'empty'));
    expect((await store.add({ dir: join(tmp, 'empty') }, { name: 'empty' })).entries).toEqual([]);
  });

  it('walks a 1000-level-deep tree (no recursion limits)', async () => {
    const deep = join(tmp, 'src', ...Array.from({ length: 1000 }, () => 'd'));
    await write(join(deep, 'leaf'), 'bottom');
    const m = await store.add({ dir: join(tmp, 'src') }, { name: 'deep' });
    expect(m.entries).toHaveLength(1001);
    expect(m.entries.at(-1)).toMatchObject({ type: 'file', path: `${'d/'.repeat(1000)}leaf`, sha256: sha('bottom') });
  });

  it('refuses a source directory that contains the store itself', async () => {
    const err = await rejection(store.add({ dir: tmp }, { name: 'app' }));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain('contains the codebase store itself');
    expect((await rejection(store.add({ dir: '/' }, { name: 'app' }))).code).toBe('E_CODEBASE_INVALID');
  });

  it('follows a symlink given as the source root itself, but none inside it', async () => {
    const src = join(tmp, 'src');
    await fixture(src);
    await symlink(src, join(tmp, 'src-link'));
    const viaLink = await store.add({ dir: join(tmp, 'src-link') }, { name: 'app' });
    expect(viaLink.entries.find((e) => e.path === 'passwd')).toEqual({ type: 'symlink', path: 'passwd', target: '/etc/passwd' });
    expect(viaLink.entries).toHaveLength(17);
  });
});

describe('failed adds leave no version and no temp files', () => {
  async function expectNothingLeft(name: string): Promise<void> {
    await expect(rejection(store.show(name))).resolves.toMatchObject({ code: 'E_CODEBASE_NOT_FOUND' });
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  }

  it('a missing source directory is E_CODEBASE_INVALID naming it', async () => {
    const missing = join(tmp, 'nope');
    const err = await rejection(store.add({ dir: missing }, { name: 'app' }));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain(`Source directory ${missing} does not exist`);
    await expectNothingLeft('app');
  });

  it('a file given as a directory is E_CODEBASE_INVALID suggesting { tarball }', async () => {
    await write(join(tmp, 'f.tar'), 'x');
    const err = await rejection(store.add({ dir: join(tmp, 'f.tar') }, { name: 'app' }));
    expect(err).toMatchObject({ code: 'E_CODEBASE_INVALID', message: expect.stringContaining('tarball') as string });
    await expectNothingLeft('app');
  });

  it('a name that is not UTF-8 is E_CODEBASE_INVALID; blobs already written are gc-able', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'ok.txt'), 'fine');
    await writeFile(Buffer.concat([Buffer.from(`${src}/bad-`), Buffer.from([0xff, 0xfe])]), 'x');
    const err = await rejection(store.add({ dir: src }, { name: 'app' }));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain('not valid UTF-8');
    await expectNothingLeft('app');
  });

  it('an aborted add creates no version', async () => {
    const src = join(tmp, 'src');
    await fixture(src);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(store.add({ dir: src }, { name: 'app', signal: ac.signal })).rejects.toThrow('stop');
    await expectNothingLeft('app');
  });

  it.each([
    ['null', null],
    ['a string', '/tmp'],
    ['both keys', { dir: '/a', tarball: '/b' }],
    ['an empty path', { dir: '' }],
    ['an unknown key', { directory: '/a' }],
  ])('a malformed source (%s) is E_INVALID_ARGUMENT', async (_what, source) => {
    const err = await rejection(store.add(source as never, { name: 'app' }));
    expect(err.code).toBe('E_INVALID_ARGUMENT');
    expect(err.message).toContain('source must be { dir');
  });

  it.each(['', 'App', '../x', 'a/b', '.hidden', 'x'.repeat(65), 'a b'])('a bad name %j is E_INVALID_ARGUMENT and touches nothing', async (name) => {
    await mkdir(join(tmp, 'src'));
    const err = await rejection(store.add({ dir: join(tmp, 'src') }, { name }));
    expect(err.code).toBe('E_INVALID_ARGUMENT');
    expect(err.message).toContain('options.name must be 1 to 64 characters');
    expect(await readdir(join(store.rootDir, 'codebases'))).toEqual([]);
  });
});

describe('versions, show and list', () => {
  it('numbers versions 1, 2, 3 and shows the latest or a given one', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'f'), 'v1');
    await store.add({ dir: src }, { name: 'app' });
    await write(join(src, 'f'), 'v2');
    await store.add({ dir: src }, { name: 'app' });
    await write(join(src, 'f'), 'v3');
    expect((await store.add({ dir: src }, { name: 'app' })).version).toBe(3);

    expect(await store.versions('app')).toEqual([1, 2, 3]);
    expect((await store.show('app')).version).toBe(3);
    expect(((await store.show('app')).entries[0] as FileEntry).sha256).toBe(sha('v3'));
    expect(((await store.show('app', 1)).entries[0] as FileEntry).sha256).toBe(sha('v1'));
    // Old versions keep their content.
    expect(await readFile(store.blobPath(sha('v1')), 'utf8')).toBe('v1');
  });

  it('gives concurrent adds to one codebase distinct versions', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'f'), 'x');
    const results = await Promise.all(Array.from({ length: 6 }, () => store.add({ dir: src }, { name: 'app' })));
    expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a missing codebase is E_CODEBASE_NOT_FOUND listing the ones that exist', async () => {
    await mkdir(join(tmp, 'src'));
    await store.add({ dir: join(tmp, 'src') }, { name: 'alpha' });
    await store.add({ dir: join(tmp, 'src') }, { name: 'beta' });
    const err = await rejection(store.show('gamma'));
    expect(err).toMatchObject({ code: 'E_CODEBASE_NOT_FOUND', details: { codebase: 'gamma', existing: ['alpha', 'beta'] } });
    expect(err.message).toBe('No codebase named gamma. Existing codebases: alpha, beta.');
  });

  it('an empty store says so', async () => {
    const err = await rejection(store.show('x'));
    expect(err.message).toContain('There are no codebases yet');
  });

  it('a missing version is E_CODEBASE_NOT_FOUND listing the versions', async () => {
    await mkdir(join(tmp, 'src'));
    await store.add({ dir: join(tmp, 'src') }, { name: 'app' });
    await store.add({ dir: join(tmp, 'src') }, { name: 'app' });
    const err = await rejection(store.show('app', 7));
    expect(err).toMatchObject({ code: 'E_CODEBASE_NOT_FOUND', details: { codebase: 'app', version: 7, versions: [1, 2] } });
    expect(err.message).toContain('has no version 7; it has versions 1 to 2');
  });

  it.each([0, -1, 1.5])('show with version %j is E_INVALID_ARGUMENT', async (v) => {
    expect((await rejection(store.show('app', v))).code).toBe('E_INVALID_ARGUMENT');
  });

  it('lists codebases by name with version counts, dates and the latest totals', async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    store = await openCodebaseStore(store.rootDir, { durable: false, now: () => new Date((t += 1000)) });
    const src = join(tmp, 'src');
    await write(join(src, 'a'), '12345');
    await store.add({ dir: src }, { name: 'zeta' });
    await write(join(src, 'b'), '123');
    await store.add({ dir: src }, { name: 'zeta' });
    await store.add({ dir: src }, { name: 'alpha' });
    expect(await store.list()).toEqual([
      { name: 'alpha', versions: 1, latest: 1, createdAt: '2030-01-01T00:00:03.000Z', updatedAt: '2030-01-01T00:00:03.000Z', files: 2, bytes: 8 },
      { name: 'zeta', versions: 2, latest: 2, createdAt: '2030-01-01T00:00:01.000Z', updatedAt: '2030-01-01T00:00:02.000Z', files: 2, bytes: 8 },
    ]);
    // A fresh instance (nothing cached) reads the same from disk.
    const again = await openCodebaseStore(store.rootDir);
    expect(await again.list()).toEqual(await store.list());
  });
});

describe('delete and gc', () => {
  async function addFiles(name: string, files: Record<string, string>): Promise<void> {
    const src = await mkdtemp(join(tmp, 'src-'));
    for (const [p, c] of Object.entries(files)) await write(join(src, p), c);
    await store.add({ dir: src }, { name });
  }

  it('removes the codebase and the blobs only it used, keeping shared ones', async () => {
    await addFiles('a', { x: 'only in a', y: 'shared' });
    await addFiles('b', { y: 'shared', z: 'only in b' });
    expect((await blobs()).size).toBe(3);

    await store.delete('a');

    expect([...(await blobs()).keys()].sort()).toEqual([sha('shared'), sha('only in b')].sort());
    expect((await rejection(store.show('a'))).code).toBe('E_CODEBASE_NOT_FOUND');
    expect((await store.list()).map((c) => c.name)).toEqual(['b']);
    expect(await readdir(join(store.rootDir, 'codebases'))).toEqual(['b']);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('keeps blobs used by any version, and a deleted name starts again at version 1', async () => {
    await addFiles('a', { f: 'old' });
    await addFiles('a', { f: 'new' });
    expect(await store.gc()).toEqual({ removedBlobs: 0, removedBytes: 0, keptBlobs: 2 });
    await store.delete('a');
    expect((await blobs()).size).toBe(0);
    await addFiles('a', { f: 'again' });
    expect(await store.list()).toMatchObject([{ name: 'a', versions: 1, latest: 1 }]);
  });

  it('gc removes blobs left by a failed add', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'good'), 'written before the failure');
    await writeFile(Buffer.concat([Buffer.from(`${src}/z-`), Buffer.from([0xff])]), 'x');
    await store.add({ dir: src }, { name: 'app' }).catch(() => undefined);
    const before = (await blobs()).size;
    const r = await store.gc();
    expect(r.removedBlobs).toBe(before);
    expect((await blobs()).size).toBe(0);
  });

  it('refuses while the codebase is in use, with the count, and deletes nothing', async () => {
    await addFiles('app', { f: 'x' });
    const err = await rejection(store.delete('app', { inUse: (n) => (n === 'app' ? 2 : 0) }));
    expect(err).toMatchObject({ code: 'E_CODEBASE_IN_USE', details: { codebase: 'app', sandboxes: 2 } });
    expect(err.message).toBe('Codebase app is used by 2 sandboxes; kill them first, then delete it again.');
    expect((await store.show('app')).version).toBe(1);
    expect((await blobs()).size).toBe(1);

    const again = await rejection(store.delete('app', { inUse: () => true }));
    expect(again.code).toBe('E_CODEBASE_IN_USE');
    await store.delete('app', { inUse: () => 0 });
    expect(await store.list()).toEqual([]);
  });

  it('deleting a missing codebase is E_CODEBASE_NOT_FOUND', async () => {
    expect((await rejection(store.delete('ghost'))).code).toBe('E_CODEBASE_NOT_FOUND');
  });

  it('a view tree that hard-links a blob keeps its content after gc', async () => {
    await addFiles('app', { f: 'linked' });
    const view = join(tmp, 'data', 'view-f');
    await run('ln', [store.blobPath(sha('linked')), view]);
    await store.delete('app');
    expect(await readFile(view, 'utf8')).toBe('linked');
  });
});

describe('addVersion', () => {
  it('creates the next version from entries, importing only missing blobs, verified', async () => {
    const src = join(tmp, 'src');
    await write(join(src, 'keep'), 'kept');
    await store.add({ dir: src }, { name: 'app' });
    const host = join(tmp, 'new-content');
    await writeFile(host, 'brand new');
    const entries: ManifestEntry[] = [
      { type: 'file', path: 'd/new', mode: 0o600, size: 9, sha256: sha('brand new') },
      { type: 'dir', path: 'd', mode: 0o755 },
      { type: 'file', path: 'keep', mode: 0o644, size: 4, sha256: sha('kept') },
    ];
    const m = await store.addVersion('app', entries, new Map([[sha('brand new'), host]]));
    expect(m).toMatchObject({ codebase: 'app', version: 2 });
    expect(m.entries.map((e) => e.path)).toEqual(['d', 'd/new', 'keep']);
    expect(await readFile(store.blobPath(sha('brand new')), 'utf8')).toBe('brand new');
    expect(await store.show('app')).toEqual(m);
  });

  it('creates version 1 of a new codebase', async () => {
    expect(await store.addVersion('fresh', [{ type: 'symlink', path: 'l', target: '/x' }], new Map())).toMatchObject({ version: 1 });
  });

  it('refuses content that does not hash to its entry', async () => {
    const host = join(tmp, 'liar');
    await writeFile(host, 'something else');
    const err = await rejection(store.addVersion('app', [{ type: 'file', path: 'f', mode: 0o644, size: 9, sha256: sha('claimed!!') }], new Map([[sha('claimed!!'), host]])));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain('does not match its entry');
    expect(err.message).not.toContain(host); // host paths of blobsFrom stay out of messages
    expect((await blobs()).size).toBe(0);
    expect((await rejection(store.show('app'))).code).toBe('E_CODEBASE_NOT_FOUND');
  });

  it('refuses content that is neither stored nor given', async () => {
    const err = await rejection(store.addVersion('app', [{ type: 'file', path: 'f', mode: 0o644, size: 1, sha256: sha('?') }], new Map()));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain('neither in the store nor in blobsFrom');
  });

  it('refuses a blobsFrom path that is a symlink (never followed)', async () => {
    const link = join(tmp, 'to-passwd');
    await symlink('/etc/passwd', link);
    const passwd = await readFile('/etc/passwd');
    const err = await rejection(store.addVersion('app', [{ type: 'file', path: 'f', mode: 0o644, size: passwd.length, sha256: sha(passwd) }], new Map([[sha(passwd), link]])));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect((await blobs()).size).toBe(0);
  });

  it('refuses a blobsFrom path that is a fifo, without blocking on it', async () => {
    const fifo = join(tmp, 'fifo');
    await run('mkfifo', [fifo]);
    const err = await rejection(store.addVersion('app', [{ type: 'file', path: 'f', mode: 0o644, size: 1, sha256: sha('x') }], new Map([[sha('x'), fifo]])));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(err.message).toContain('no longer a regular file');
  });

  it('refuses malformed entries before touching the store', async () => {
    const err = await rejection(store.addVersion('app', [{ type: 'file', path: '../x', mode: 0o644, size: 1, sha256: sha('x') }], new Map()));
    expect(err.code).toBe('E_CODEBASE_INVALID');
    expect(await readdir(join(store.rootDir, 'codebases'))).toEqual([]);
  });
});

describe('openCodebaseStore', () => {
  it('creates the root 0700 with its layout', async () => {
    const st = await lstat(store.rootDir);
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(process.getuid!());
    expect((await readdir(store.rootDir)).sort()).toEqual(['blobs', 'codebases', 'tmp']);
  });

  it('tightens an existing root to 0700', async () => {
    const root = join(tmp, 'loose');
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    await openCodebaseStore(root);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
  });

  it('refuses a root that is a symlink', async () => {
    await symlink(tmp, join(tmp, 'root-link'));
    expect((await rejection(openCodebaseStore(join(tmp, 'root-link')))).code).toBe('E_INVALID_SPEC');
  });

  it('removes temp dirs of dead processes and keeps those of live ones', async () => {
    const dead = join(store.rootDir, 'tmp', 'op-999999999-abc');
    const live = join(store.rootDir, 'tmp', `op-${process.ppid}-abc`);
    await mkdir(join(dead, 'tree'), { recursive: true });
    await mkdir(live);
    await openCodebaseStore(store.rootDir);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([`op-${process.ppid}-abc`]);
  });

  it.each([0, 257, 1.5])('refuses concurrency %j', async (c) => {
    expect((await rejection(openCodebaseStore(join(tmp, 'x'), { concurrency: c }))).code).toBe('E_INVALID_ARGUMENT');
  });

  it('blobPath refuses a malformed sha256', () => {
    expect(() => store.blobPath('../../etc/passwd')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }) as Error);
  });

  it('durable mode (syncfs + fsync) produces the same result', async () => {
    const durable = await openCodebaseStore(store.rootDir, { durable: true });
    const src = join(tmp, 'src');
    await fixture(src);
    const m = await durable.add({ dir: src }, { name: 'app' });
    expect(m.entries).toHaveLength(17);
  });
});
