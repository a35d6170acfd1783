/**
 * sandbox.files in real sandboxes: every operation and its errors, binary
 * content, odd names, streaming 200 MB, watch, and codebase levels enforced
 * by the kernel. The host is the oracle wherever it can see the files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, WatchEvent } from '@warden/core';
import { hasCode, isWardenError, type ErrorCode, type PolicyInput } from '@warden/protocol';
import { eventually, tempDir, testEngine, testRuntime, type TempDir, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let host: TempDir;
let sbx: Sandbox;

beforeAll(async () => {
  t = await testEngine();
  host = await tempDir('warden-files-');
  // A lent workspace: what the sandbox writes shows up in host.path.
  sbx = await t.engine.create({ workspace: { hostPath: host.path }, limits: { timeoutMs: 30_000 } });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
  await host?.[Symbol.asyncDispose]();
});

/** Runs `fn`, expects a WardenError with `code`, returns it. */
async function failure(fn: () => Promise<unknown>, code: ErrorCode): Promise<Error & { code: string; details: Record<string, unknown> }> {
  const err = await Promise.resolve()
    .then(fn)
    .then(
    (v) => ({ resolved: v }),
    (e: unknown) => e,
  );
  expect(isWardenError(err), `expected ${code}, got ${JSON.stringify(err)}`).toBe(true);
  expect((err as { code: string }).code, (err as Error).message).toBe(code);
  return err as Error & { code: string; details: Record<string, unknown> };
}

const sh = async (s: Sandbox, script: string): Promise<string> => {
  const r = await s.exec(['sh', '-c', script]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
};

/** File helpers of `op` still running in the sandbox. */
async function helpersRunning(s: Sandbox, op: string): Promise<number> {
  const r = await s.exec(['sh', '-c', `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null; echo; done | grep -c '^/.warden/agent fs ${op} ' || true`]);
  return Number(r.stdout.trim());
}

async function* chunks(...parts: Array<string | Uint8Array>): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) {
    await new Promise((r) => setImmediate(r));
    yield p;
  }
}

describe('write and read', () => {
  it('round-trips text, with relative paths under /workspace, as the sandbox user', async () => {
    const entry = await sbx.files.write('rt/hello.txt', 'hello, world\n');
    expect(entry).toMatchObject({ name: 'hello.txt', path: '/workspace/rt/hello.txt', type: 'file', size: 13, mode: 0o644 });
    expect(Math.abs(entry.mtime.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await sbx.files.readText('/workspace/rt/hello.txt')).toBe('hello, world\n');
    // the host decides: the file is there, owned by the sandbox's uid, not root
    const st = await stat(join(host.path, 'rt/hello.txt'));
    expect(await readFile(join(host.path, 'rt/hello.txt'), 'utf8')).toBe('hello, world\n');
    expect(st.uid).toBe(sbx.info().hostUid);
    const inner = testRuntime() === 'docker' ? sbx.info().hostUid : 1000; // docker has no user namespace: the sandbox user is its host uid
    expect(await sh(sbx, 'stat -c %u:%a rt/hello.txt rt')).toBe(`${inner}:644\n${inner}:755\n`);
  });

  it('is binary-safe: every byte value survives, in and out', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3 * 1024 * 1024 + 17)]);
    await sbx.files.write('bin/all.bin', data);
    expect(Buffer.compare(await sbx.files.readBytes('bin/all.bin'), data)).toBe(0);
    expect(Buffer.compare(await readFile(join(host.path, 'bin/all.bin')), data)).toBe(0);
    const sum = await sh(sbx, 'sha256sum bin/all.bin');
    expect(sum.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('takes strings, bytes, and sync or async iterables of them; an empty write makes an empty file', async () => {
    await sbx.files.write('kinds/a', new Uint8Array([1, 2, 3]));
    await sbx.files.write('kinds/b', chunks('ab', Buffer.from('cd'), '', 'é'));
    await sbx.files.write('kinds/c', ['x', Buffer.from('y')]);
    await sbx.files.write('kinds/empty', '');
    expect([...(await sbx.files.readBytes('kinds/a'))]).toEqual([1, 2, 3]);
    expect(await sbx.files.readText('kinds/b')).toBe('abcdé');
    expect(await sbx.files.readText('kinds/c')).toBe('xy');
    expect((await sbx.files.stat('kinds/empty')).size).toBe(0);
    expect(await sbx.files.readBytes('kinds/empty')).toHaveLength(0);
  });

  it('replaces atomically: a reader sees the old file or the new one, never part of one, and no temp file stays', async () => {
    await sbx.files.write('atomic/f', 'old');
    await sh(sbx, 'chmod 751 atomic/f');
    const size = 24 * 1024 * 1024;
    // A watcher in the sandbox records every size it sees until the write is done.
    const watcher = sbx.spawn(['sh', '-c', 'while [ ! -e atomic/done ]; do stat -c %s atomic/f; done | sort -u'], { timeoutMs: 60_000 });
    const entry = await sbx.files.write('atomic/f', chunks(...Array.from({ length: 24 }, () => randomBytes(1024 * 1024))));
    await sbx.files.write('atomic/done', '');
    const seen = (await watcher.wait()).stdout.trim().split('\n');
    expect(entry).toMatchObject({ size, mode: 0o751 }); // a replaced file keeps its mode
    expect(seen.every((s) => s === '3' || s === String(size)), seen.join(',')).toBe(true);
    expect(await readdir(join(host.path, 'atomic'))).toEqual(['done', 'f']);
  });

  it('creates missing parents and replaces a symlink rather than writing through it', async () => {
    await sh(sbx, 'mkdir -p sl && echo target > sl/target && ln -s target sl/link');
    await sbx.files.write('sl/deep/er/file', 'x');
    expect(await sh(sbx, 'stat -c %F sl/deep sl/deep/er')).toBe('directory\ndirectory\n');
    await sbx.files.write('sl/link', 'replaced');
    expect((await sbx.files.stat('sl/link')).type).toBe('file');
    expect(await sbx.files.readText('sl/target')).toBe('target\n');
  });

  it('reads through a symlink inside the sandbox', async () => {
    await sh(sbx, 'mkdir -p rl && echo via-link > rl/real && ln -s real rl/link');
    expect(await sbx.files.readText('rl/link')).toBe('via-link\n');
  });

  it('names what went wrong: missing, directory, not a directory, read-only, not a regular file', async () => {
    await sh(sbx, 'mkdir -p errs/dir && echo x > errs/file && mkfifo errs/fifo');
    const missing = await failure(() => sbx.files.readText('errs/nope'), 'E_FILE_NOT_FOUND');
    expect(missing.message).toContain('"/workspace/errs/nope"');
    expect(missing.message).not.toContain(host.path);
    expect(missing.details).toMatchObject({ path: '/workspace/errs/nope', errno: 'ENOENT', sandboxId: sbx.id });
    await failure(() => sbx.files.readText('errs/dir'), 'E_IS_A_DIRECTORY');
    await failure(() => sbx.files.write('errs/dir', 'x'), 'E_IS_A_DIRECTORY');
    await failure(() => sbx.files.write('errs/file/x', 'x'), 'E_NOT_A_DIRECTORY');
    await failure(() => sbx.files.readText('errs/file/x'), 'E_NOT_A_DIRECTORY');
    await failure(() => sbx.files.write('/usr/bin/pwned', 'x'), 'E_PERMISSION_DENIED');
    await failure(() => sbx.files.write('/etc/passwd', 'x'), 'E_PERMISSION_DENIED');
    // The agent's environ is unreadable (it is not dumpable); gVisor's /proc ignores that, but not for its memory.
    await failure(() => sbx.files.readText(testRuntime() === 'gvisor' ? '/proc/1/mem' : '/proc/1/environ'), 'E_PERMISSION_DENIED');
    await failure(() => sbx.files.readText('errs/fifo'), 'E_INVALID_ARGUMENT');
    expect(await readFile(join(host.path, 'errs/file'), 'utf8')).toBe('x\n');
  });

  it('stops a write past limits.fileSizeMb with E_FILE_TOO_LARGE and a full /tmp with E_NO_SPACE, leaving no partial file', async () => {
    await using small = await t.engine.create({ limits: { fileSizeMb: 1, tmpMb: 1 } });
    const tooLarge = await failure(() => small.files.write('big', randomBytes(1024 * 1024 + 1)), 'E_FILE_TOO_LARGE');
    expect(tooLarge.message).toContain('fileSizeMb');
    await small.files.write('/tmp/a', randomBytes(600 * 1024));
    await failure(() => small.files.write('/tmp/b', randomBytes(600 * 1024)), 'E_NO_SPACE');
    expect(await small.files.exists('big')).toBe(false);
    expect(await small.files.exists('/tmp/b')).toBe(false);
    expect((await small.files.list('/tmp')).map((e) => e.name)).toEqual(['a']);
  });
});

describe('list, stat, exists, mkdir, move, remove', () => {
  it('lists entries with type, size, mode, mtime and symlink targets, to the depth asked', async () => {
    await sh(sbx, 'mkdir -p ls/a/b/c && printf 12345 > ls/f && chmod 600 ls/f && ln -s f ls/l && ln -s /nowhere ls/dangling && touch ls/a/b/c/deep && mkfifo ls/p');
    const one = await sbx.files.list('ls');
    expect(one.map((e) => [e.name, e.type])).toEqual([
      ['a', 'dir'],
      ['dangling', 'symlink'],
      ['f', 'file'],
      ['l', 'symlink'],
      ['p', 'other'],
    ]);
    expect(one.find((e) => e.name === 'f')).toMatchObject({ path: '/workspace/ls/f', size: 5, mode: 0o600 });
    expect(one.find((e) => e.name === 'l')).toMatchObject({ target: 'f' });
    expect(one.find((e) => e.name === 'dangling')).toMatchObject({ target: '/nowhere' });
    expect(one.every((e) => e.mtime instanceof Date && Math.abs(e.mtime.getTime() - Date.now()) < 60_000)).toBe(true);
    expect((await sbx.files.list('ls', { depth: 2 })).map((e) => e.path)).toContain('/workspace/ls/a/b');
    expect((await sbx.files.list('ls', { depth: 2 })).map((e) => e.path)).not.toContain('/workspace/ls/a/b/c');
    expect((await sbx.files.list('ls', { depth: 4 })).map((e) => e.path)).toContain('/workspace/ls/a/b/c/deep');
  });

  it('does not enter symlinked directories when listing', async () => {
    await sh(sbx, 'mkdir -p ls2/real && touch ls2/real/inside && ln -s real ls2/link');
    const paths = (await sbx.files.list('ls2', { depth: 3 })).map((e) => e.path);
    expect(paths).toEqual(['/workspace/ls2/link', '/workspace/ls2/real', '/workspace/ls2/real/inside']);
  });

  it('refuses to list a file or a missing directory', async () => {
    await sbx.files.write('ls3/file', 'x');
    await failure(() => sbx.files.list('ls3/file'), 'E_NOT_A_DIRECTORY');
    await failure(() => sbx.files.list('ls3/none'), 'E_FILE_NOT_FOUND');
  });

  it('stats files, directories and symlinks (not followed); exists counts a dangling link', async () => {
    await sh(sbx, 'mkdir -p st && printf abc > st/f && ln -s missing st/dangling');
    expect(await sbx.files.stat('st/f')).toMatchObject({ name: 'f', type: 'file', size: 3 });
    expect(await sbx.files.stat('st')).toMatchObject({ name: 'st', path: '/workspace/st', type: 'dir' });
    expect(await sbx.files.stat('st/dangling')).toMatchObject({ type: 'symlink', target: 'missing' });
    expect(await sbx.files.stat('/')).toMatchObject({ name: '/', path: '/', type: 'dir' });
    await failure(() => sbx.files.stat('st/none'), 'E_FILE_NOT_FOUND');
    expect(await sbx.files.exists('st/f')).toBe(true);
    expect(await sbx.files.exists('st/dangling')).toBe(true);
    expect(await sbx.files.exists('st/none')).toBe(false);
    expect(await sbx.files.exists('st/f/below')).toBe(false);
  });

  it('mkdir creates parents, is fine with an existing directory, refuses a file in the way', async () => {
    expect(await sbx.files.mkdir('mk/a/b/c')).toBe(true);
    expect(await sbx.files.mkdir('mk/a/b/c')).toBe(false);
    expect(await sbx.files.mkdir('mk/a')).toBe(false);
    expect((await stat(join(host.path, 'mk/a/b/c'))).isDirectory()).toBe(true);
    await sbx.files.write('mk/file', 'x');
    await failure(() => sbx.files.mkdir('mk/file'), 'E_FILE_EXISTS');
    await failure(() => sbx.files.mkdir('mk/file/sub'), 'E_NOT_A_DIRECTORY');
    await failure(() => sbx.files.mkdir('/usr/newdir'), 'E_PERMISSION_DENIED');
  });

  it('move renames, refuses to overwrite unless asked, and names the side that failed', async () => {
    await sbx.files.write('mv/a', 'A');
    await sbx.files.write('mv/b', 'B');
    const exists = await failure(() => sbx.files.move('mv/a', 'mv/b'), 'E_FILE_EXISTS');
    expect(exists.message).toContain('overwrite');
    expect(await readFile(join(host.path, 'mv/a'), 'utf8')).toBe('A');
    expect(await readFile(join(host.path, 'mv/b'), 'utf8')).toBe('B');
    expect(await sbx.files.move('mv/a', 'mv/b', { overwrite: true })).toMatchObject({ path: '/workspace/mv/b', size: 1 });
    expect(await readFile(join(host.path, 'mv/b'), 'utf8')).toBe('A');
    expect(await sbx.files.exists('mv/a')).toBe(false);
    await sbx.files.move('mv/b', 'mv/c');
    expect(await sbx.files.readText('mv/c')).toBe('A');
    await failure(() => sbx.files.move('mv/none', 'mv/d'), 'E_FILE_NOT_FOUND');
    const noParent = await failure(() => sbx.files.move('mv/c', 'mv/no/such/dir'), 'E_FILE_NOT_FOUND');
    expect(noParent.details).toMatchObject({ entry: '/workspace/mv/no/such/dir' });
    await sh(sbx, 'mkdir -p mv/full mv/empty && touch mv/full/x mv/dir && rm mv/dir && mkdir mv/dir');
    await failure(() => sbx.files.move('mv/dir', 'mv/full', { overwrite: true }), 'E_FILE_EXISTS');
    await sbx.files.move('mv/dir', 'mv/empty', { overwrite: true });
    await failure(() => sbx.files.move('mv/c', '/tmp/c'), 'E_FILE_OPERATION_FAILED'); // across filesystems
    await sh(sbx, 'mkdir mv/ro && chmod 555 mv/ro');
    await failure(() => sbx.files.move('mv/c', 'mv/ro/c'), 'E_PERMISSION_DENIED');
    expect(await sbx.files.readText('mv/c')).toBe('A');
  });

  it('remove deletes files and whole trees but never follows a symlink out of them', async () => {
    await sh(sbx, 'mkdir -p rm/keep rm/tree/a/b && echo precious > rm/keep/file && touch rm/tree/a/b/f rm/tree/x && ln -s ../keep rm/tree/a/tolink && ln -s /workspace/rm/keep/file rm/tree/filelink && ln -s ../keep rm/dirlink');
    await sbx.files.remove('rm/tree');
    await sbx.files.remove('rm/dirlink');
    expect(await readdir(join(host.path, 'rm'))).toEqual(['keep']);
    expect(await readFile(join(host.path, 'rm/keep/file'), 'utf8')).toBe('precious\n');
    await sbx.files.remove('rm/keep/file');
    expect(await readdir(join(host.path, 'rm/keep'))).toEqual([]);
    await failure(() => sbx.files.remove('rm/none'), 'E_FILE_NOT_FOUND');
    await failure(() => sbx.files.remove('/usr/bin/env'), 'E_PERMISSION_DENIED');
    await failure(() => sbx.files.remove('/'), 'E_INVALID_ARGUMENT');
    await failure(() => sbx.files.remove('/workspace/..'), 'E_INVALID_ARGUMENT');
  });
});

describe('odd names', () => {
  const names = ['with space.txt', 'new\nline', 'quote"and\\back', 'tab\tand\u0001ctl', 'ünïcödé 😀.txt', '-dash', '.hidden', "it's"];

  it('round-trips names with spaces, newlines, quotes, control characters and Unicode', async () => {
    for (const n of names) await sbx.files.write(`odd/${n}`, n);
    expect((await readdir(join(host.path, 'odd'))).sort()).toEqual([...names].sort());
    const listed = await sbx.files.list('odd');
    expect(listed.map((e) => e.name).sort()).toEqual([...names].sort());
    for (const e of listed) expect(await sbx.files.readText(e.path)).toBe(e.name);
    await sbx.files.move('odd/new\nline', 'odd/new\nline 2');
    await sbx.files.remove('odd/new\nline 2');
    expect(await sbx.files.exists('odd/new\nline')).toBe(false);
  });

  it('names that are not UTF-8 come back as lone surrogates U+DC80–U+DCFF and name the same bytes', async () => {
    try {
      await nonUtf8Names();
    } finally {
      // The lent workspace's hand-back walks names as strings (see the report): leave none behind.
      await sbx.exec(['rm', '-rf', 'raw']);
    }
  });

  async function nonUtf8Names(): Promise<void> {
    await sh(sbx, `mkdir -p raw && printf one > "raw/$(printf 'bad\\377\\376name')" && printf two > "raw/$(printf '\\303\\251')" && printf three > "raw/$(printf 'lat\\351')"`);
    // ill-formed UTF-8 the helper must escape byte by byte: a cut sequence, an overlong, an encoded surrogate, past U+10FFFF
    await sh(sbx, `printf four > "raw/$(printf 'x\\303(\\300\\257\\355\\240\\200\\364\\220\\200\\200')"`);
    expect(await sbx.files.readText('raw/x\udcc3(\udcc0\udcaf\udced\udca0\udc80\udcf4\udc90\udc80\udc80')).toBe('four');
    await sbx.files.remove('raw/x\udcc3(\udcc0\udcaf\udced\udca0\udc80\udcf4\udc90\udc80\udc80');
    const listed = await sbx.files.list('raw');
    expect(listed.map((e) => e.name).sort()).toEqual(['bad\udcff\udcfename', 'lat\udce9', 'é'].sort());
    const bad = listed.find((e) => e.name.startsWith('bad'));
    expect(bad?.path).toBe('/workspace/raw/bad\udcff\udcfename');
    expect(await sbx.files.readText(bad?.path ?? '')).toBe('one');
    expect(await sbx.files.readText('raw/é')).toBe('two'); // valid U+00E9 and the byte 0xE9 are different names
    expect(await sbx.files.readText('raw/lat\udce9')).toBe('three');
    // writing such a name creates exactly those bytes on disk
    await sbx.files.write('raw/new\udc80\udcff', 'four');
    const onHost = await readdir(join(host.path, 'raw'), { encoding: 'buffer' });
    expect(onHost.map((b) => b.toString('hex'))).toContain(Buffer.from([...Buffer.from('new'), 0x80, 0xff]).toString('hex'));
    await sbx.files.remove(bad?.path ?? '');
    await sbx.files.remove('raw/new\udc80\udcff');
    expect((await readdir(join(host.path, 'raw'), { encoding: 'buffer' })).length).toBe(2);
    // a surrogate that escapes no byte names nothing
    await failure(() => sbx.files.readText('raw/\ud800x'), 'E_INVALID_ARGUMENT');
  }
});

describe('validation at the edge', () => {
  it.each([
    ['an empty path', () => sbx.files.stat('')],
    ['a NUL byte', () => sbx.files.stat('a\0b')],
    ['a number as path', () => sbx.files.stat(42 as unknown as string)],
    ['a NUL in a read path', () => sbx.files.readBytes('x\0')],
    ['a NUL in a write path', () => sbx.files.write('x\0', 'a')],
    ['an empty move source', () => sbx.files.move('', 'b')],
    ['depth 0', () => sbx.files.list('.', { depth: 0 })],
    ['depth 1.5', () => sbx.files.list('.', { depth: 1.5 })],
    ['depth 5000', () => sbx.files.list('.', { depth: 5000 })],
    ['timeoutMs 0', () => sbx.files.stat('.', { timeoutMs: 0 })],
    ['overwrite "yes"', () => sbx.files.move('a', 'b', { overwrite: 'yes' as unknown as boolean })],
    ['a signal that is not one', () => sbx.files.stat('.', { signal: 'x' as unknown as AbortSignal })],
    ['data of the wrong type', () => sbx.files.write('v/x', 42 as unknown as string)],
    ['a chunk of the wrong type', () => sbx.files.write('v/y', [{}] as unknown as string[])],
    ['watch without onEvent', () => sbx.files.watch('.', {} as never)],
    ['a path over PATH_MAX', () => sbx.files.stat('a/'.repeat(3000))],
  ])('refuses %s with E_INVALID_ARGUMENT', async (_what, call) => {
    await failure(call, 'E_INVALID_ARGUMENT');
    expect(await sbx.files.exists('v/y')).toBe(false);
  });
});

/**
 * A directory's entries. gVisor (runsc 0.0~20221219) has no O_TMPFILE on host
 * mounts, so a write stages in a named temp file, which an interrupted write
 * leaves behind: those are left out there (known gap, see the gVisor driver).
 */
async function listing(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  return testRuntime() === 'gvisor' ? names.filter((n) => !/^\.warden-write-[0-9a-f]{16}$/.test(n)) : names;
}

describe('limits, cancellation and teardown', () => {
  it('a write from a stalled source times out with E_FILE_TIMEOUT and leaves the old file and no temp file', async () => {
    await sbx.files.write('lim/f', 'old');
    const stalled = (async function* () {
      yield 'new data';
      await new Promise(() => undefined);
    })();
    const err = await failure(() => sbx.files.write('lim/f', stalled, { timeoutMs: 500 }), 'E_FILE_TIMEOUT');
    expect(err.message).toContain('timeoutMs');
    expect(await readFile(join(host.path, 'lim/f'), 'utf8')).toBe('old');
    expect(await listing(join(host.path, 'lim'))).toEqual(['f']);
    expect(await helpersRunning(sbx, 'write')).toBe(0);
  });

  it('aborting a write rejects with the abort reason and leaves the old file', async () => {
    await sbx.files.write('lim/g', 'old');
    const ac = new AbortController();
    const source = (async function* () {
      for (let i = 0; ; i++) {
        if (i === 5) ac.abort(new Error('changed my mind'));
        yield randomBytes(64 * 1024);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await expect(sbx.files.write('lim/g', source, { signal: ac.signal })).rejects.toThrow('changed my mind');
    expect(await readFile(join(host.path, 'lim/g'), 'utf8')).toBe('old');
    expect(await listing(join(host.path, 'lim'))).toEqual(['f', 'g']);
  });

  it('stopping a read early stops its helper; aborting a read rejects with the reason', async () => {
    await sbx.files.write('lim/big', randomBytes(16 * 1024 * 1024));
    let first = 0;
    for await (const c of sbx.files.read('lim/big')) {
      first = c.length;
      break;
    }
    expect(first).toBeGreaterThan(0);
    await eventually(async () => (await helpersRunning(sbx, 'read')) === 0, 5000, 'the read helper to go');
    const ac = new AbortController();
    let got = 0;
    await expect(
      (async () => {
        for await (const c of sbx.files.read('lim/big', { signal: ac.signal })) {
          got += c.length;
          if (got > 1024 * 1024) ac.abort(new Error('enough'));
          await new Promise((r) => setTimeout(r, 1));
        }
      })(),
    ).rejects.toThrow('enough');
    await eventually(async () => (await helpersRunning(sbx, 'read')) === 0, 5000, 'the read helper to go');
  });

  it('an already aborted signal starts nothing', async () => {
    const reason = new Error('aborted before');
    await expect(sbx.files.stat('.', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(sbx.files.watch('.', { onEvent: () => undefined, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('a closed sandbox answers E_SANDBOX_CLOSED', async () => {
    const s = await t.engine.create();
    await s.files.write('x', 'x');
    await s.kill();
    await failure(() => s.files.stat('x'), 'E_SANDBOX_CLOSED');
    await failure(() => s.files.readBytes('x'), 'E_SANDBOX_CLOSED');
    await failure(() => s.files.write('x', 'y'), 'E_SANDBOX_CLOSED');
  });

  it('streams 200 MB in and out with the sha256 intact while host memory stays flat', async () => {
    await using big = await t.engine.create({ limits: { timeoutMs: 120_000, memoryMb: 1024 } });
    const CHUNK = 1024 * 1024;
    const COUNT = 200;
    const block = randomBytes(CHUNK);
    const sent = createHash('sha256');
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const source = (function* () {
        for (let i = 0; i < COUNT; i++) {
          block.writeUInt32LE(i, 0); // every chunk differs; the buffer is reused once written
          sent.update(block);
          yield block;
        }
      })();
      const started = Date.now();
      const entry = await big.files.write('big.bin', source, { timeoutMs: 120_000 });
      const wroteMs = Date.now() - started;
      expect(entry.size).toBe(COUNT * CHUNK);
      const expected = sent.digest('hex');
      const inside = await big.exec(['sha256sum', 'big.bin'], { timeoutMs: 60_000 });
      expect(inside.stdout.split(' ')[0]).toBe(expected);

      const got = createHash('sha256');
      let bytes = 0;
      for await (const c of big.files.read('big.bin', { timeoutMs: 120_000 })) {
        got.update(c);
        bytes += c.length;
      }
      expect(bytes).toBe(COUNT * CHUNK);
      expect(got.digest('hex')).toBe(expected);
      peak = Math.max(peak, process.memoryUsage().rss);
      const growthMb = (peak - before) / (1024 * 1024);
      expect(growthMb, `host RSS grew by ${growthMb.toFixed(1)} MiB (write took ${wroteMs} ms)`).toBeLessThan(64);
    } finally {
      clearInterval(sampler);
    }
  }, 180_000);
});

describe('watch', () => {
  const dedupe = (events: readonly WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.path}`).filter((s, i, a) => s !== a[i - 1]);

  it('reports create, write, chmod, rename and remove in order, and nothing after close', async () => {
    await sbx.files.mkdir('w1');
    const events: WatchEvent[] = [];
    const w = await sbx.files.watch('w1', { onEvent: (e) => events.push(e) });
    expect(await helpersRunning(sbx, 'watch')).toBe(1);
    await sh(sbx, 'echo a > w1/f && echo b >> w1/f && chmod 600 w1/f && mv w1/f w1/g && rm w1/g');
    await eventually(() => events.some((e) => e.type === 'remove'), 5000, 'the remove event');
    expect(dedupe(events)).toEqual([
      'create /workspace/w1/f',
      'write /workspace/w1/f',
      'chmod /workspace/w1/f',
      'rename /workspace/w1/f',
      'create /workspace/w1/g',
      'remove /workspace/w1/g',
    ]);
    await w.close();
    await w.close(); // idempotent
    expect(await helpersRunning(sbx, 'watch')).toBe(0);
    const seen = events.length;
    await sh(sbx, 'touch w1/late');
    expect(events.length).toBe(seen);
  });

  it('sees only direct entries unless recursive; recursive follows directories created later', async () => {
    await sh(sbx, 'mkdir -p w2/old/sub');
    const flat: WatchEvent[] = [];
    const deep: WatchEvent[] = [];
    await using _flat = await sbx.files.watch('w2', { onEvent: (e) => flat.push(e) });
    await using _deep = await sbx.files.watch('w2', { recursive: true, onEvent: (e) => deep.push(e) });
    await sh(sbx, 'echo 1 > w2/old/sub/existing && mkdir -p w2/new/a/b && echo 2 > w2/new/a/b/f && sleep 0.2 && echo 3 > w2/new/a/b/g && rm w2/old/sub/existing');
    const has = (list: WatchEvent[], type: string, path: string): boolean => list.some((e) => e.type === type && e.path === `/workspace/${path}`);
    await eventually(() => has(deep, 'remove', 'w2/old/sub/existing'), 5000, 'the recursive remove');
    expect(has(deep, 'create', 'w2/old/sub/existing')).toBe(true);
    expect(has(deep, 'create', 'w2/new/a/b/f')).toBe(true);
    expect(has(deep, 'create', 'w2/new/a/b/g')).toBe(true);
    expect(has(deep, 'write', 'w2/new/a/b/g')).toBe(true);
    await eventually(() => flat.length > 0, 5000, 'the flat watch event');
    expect(flat.map((e) => `${e.type} ${e.path}`)).toEqual(['create /workspace/w2/new']);
  });

  it('ends with onError when the watched path is removed; a missing path is E_FILE_NOT_FOUND', async () => {
    await sbx.files.mkdir('w3');
    const events: WatchEvent[] = [];
    const errors: unknown[] = [];
    await sbx.files.watch('w3', { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
    await sbx.files.remove('w3');
    await eventually(() => errors.length > 0, 5000, 'onError');
    expect(hasCode(errors[0], 'E_FILE_NOT_FOUND')).toBe(true);
    expect(events.map((e) => e.type)).toContain('remove');
    expect(await helpersRunning(sbx, 'watch')).toBe(0);
    await failure(() => sbx.files.watch('w3', { onEvent: () => undefined }), 'E_FILE_NOT_FOUND');
  });

  it('stops on abort, and when onEvent throws (reported to onError)', async () => {
    await sbx.files.mkdir('w4');
    const ac = new AbortController();
    const errors: unknown[] = [];
    await sbx.files.watch('w4', { onEvent: () => undefined, onError: (e) => errors.push(e), signal: ac.signal });
    ac.abort();
    await eventually(async () => (await helpersRunning(sbx, 'watch')) === 0, 5000, 'the aborted watch to go');
    const boom = new Error('boom');
    await sbx.files.watch('w4', {
      onEvent: () => {
        throw boom;
      },
      onError: (e) => errors.push(e),
    });
    await sh(sbx, 'touch w4/x');
    await eventually(() => errors.length > 0, 5000, 'onError');
    expect(errors).toEqual([boom]);
    await eventually(async () => (await helpersRunning(sbx, 'watch')) === 0, 5000, 'the failed watch to go');
    expect(sbx.state).toBe('running');
  });
});

describe('a codebase sandbox: levels enforced by the kernel', () => {
  let src: TempDir;
  let cb: Sandbox;
  const POLICY: PolicyInput = {
    default: 'read',
    rules: [
      { pattern: 'docs/', level: 'write' },
      { pattern: 'docs/locked.md', level: 'read' },
      { pattern: 'metadata/', level: 'view' },
      { pattern: 'secrets/', level: 'none' },
    ],
  };
  const FILES: Record<string, string> = {
    'src/main.ts': 'export const answer = 42;\n',
    'docs/guide.md': '# Guide\n',
    'docs/locked.md': 'do not edit\n',
    'metadata/info.json': '{"owner":"ops"}\n',
    'secrets/db.txt': 'postgres://root:hunter2@db/prod\n',
  };

  beforeAll(async () => {
    src = await tempDir('warden-files-cb-');
    for (const [p, text] of Object.entries(FILES)) {
      await mkdir(join(src.path, p, '..'), { recursive: true });
      await writeFile(join(src.path, p), text);
    }
    await t.engine.codebases.add({ dir: src.path }, { name: 'files-app' });
    cb = await t.engine.create({ codebase: { name: 'files-app' }, policy: POLICY });
  });

  afterAll(async () => {
    await cb?.kill();
    await src?.[Symbol.asyncDispose]();
  });

  it('read level: readable; write, move and remove are E_PERMISSION_DENIED and nothing changes', async () => {
    expect(await cb.files.readText('src/main.ts')).toBe(FILES['src/main.ts']);
    await failure(() => cb.files.write('src/main.ts', 'pwned'), 'E_PERMISSION_DENIED');
    await failure(() => cb.files.write('src/new.ts', 'x'), 'E_PERMISSION_DENIED');
    await failure(() => cb.files.move('src/main.ts', 'src/moved.ts'), 'E_PERMISSION_DENIED');
    await failure(() => cb.files.remove('src/main.ts'), 'E_PERMISSION_DENIED');
    await failure(() => cb.files.write('docs/locked.md', 'pwned'), 'E_PERMISSION_DENIED');
    await failure(() => cb.files.remove('docs/locked.md'), 'E_PERMISSION_DENIED');
    expect(await cb.files.readText('src/main.ts')).toBe(FILES['src/main.ts']);
    expect(await cb.files.readText('docs/locked.md')).toBe(FILES['docs/locked.md']);
    expect(await sh(cb, 'ls -a src')).toBe('.\n..\nmain.ts\n'); // no temp file left behind
    expect(await readFile(join(src.path, 'src/main.ts'), 'utf8')).toBe(FILES['src/main.ts']);
    const diff = await cb.diff();
    expect([...diff.added, ...diff.modified, ...diff.deleted]).toEqual([]);
  });

  it('none level: does not exist (E_FILE_NOT_FOUND), not even in a listing', async () => {
    await failure(() => cb.files.readText('secrets/db.txt'), 'E_FILE_NOT_FOUND');
    await failure(() => cb.files.stat('secrets'), 'E_FILE_NOT_FOUND');
    await failure(() => cb.files.list('secrets'), 'E_FILE_NOT_FOUND');
    expect(await cb.files.exists('secrets/db.txt')).toBe(false);
    expect((await cb.files.list('.', { depth: 5 })).map((e) => e.path).filter((p) => p.includes('secrets'))).toEqual([]);
  });

  it('view level: listed with its real size, but reading is E_PERMISSION_DENIED', async () => {
    expect(await cb.files.stat('metadata/info.json')).toMatchObject({ size: FILES['metadata/info.json']?.length });
    await failure(() => cb.files.readText('metadata/info.json'), 'E_PERMISSION_DENIED');
  });

  it('write level: new and replaced files, also next to a read-only file; the host codebase never changes', async () => {
    await cb.files.write('docs/new.md', 'new\n');
    // docs/ also holds a read-level file, so it is sticky: the write is made in place.
    await cb.files.write('docs/guide.md', '# Guide v2\n');
    expect(await cb.files.readText('docs/guide.md')).toBe('# Guide v2\n');
    expect(await cb.files.readText('docs/new.md')).toBe('new\n');
    await cb.files.move('docs/new.md', 'docs/renamed.md');
    await cb.files.mkdir('docs/sub/dir');
    await cb.files.remove('docs/sub');
    const diff = await cb.diff();
    expect(diff.modified.map((c) => c.path)).toEqual(['docs/guide.md']);
    expect(diff.added.map((c) => c.path)).toEqual(['docs/renamed.md']);
    expect(diff.deleted).toEqual([]);
    expect(await readFile(join(src.path, 'docs/guide.md'), 'utf8')).toBe(FILES['docs/guide.md']);
    expect(await sh(cb, 'ls -a docs')).toBe('.\n..\nguide.md\nlocked.md\nrenamed.md\n');
  });
});
