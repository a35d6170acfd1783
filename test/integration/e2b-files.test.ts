/**
 * Files through the official `e2b` SDK, unchanged, against a real Warden
 * server: read (text, bytes, blob, stream), write (one, many, streamed,
 * gzip), list, makeDir, rename, remove, exists, getInfo, watchDir, and what
 * Warden refuses. The sandbox itself, read through Warden's core, is the oracle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Current from 'e2b';
import * as PreviousModule from 'e2b-prev';

/** The previous minor has the same API; one type lets a test run against either. */
const Previous = PreviousModule as unknown as typeof Current;
import type { Sandbox as CoreSandbox } from '@warden/core';
import { testServer, type TestServer } from '../helpers/server.js';
import { rejection, useE2b } from '../helpers/e2b.js';

let t: TestServer;
let restore: () => void;
let sbx: Current.Sandbox;
/** The same sandbox through Warden's core: what is really there. */
let host: CoreSandbox;

beforeAll(async () => {
  t = await testServer();
  restore = useE2b(t, t.key('e2b-files'));
  sbx = await Current.Sandbox.create();
  host = t.server.engine.get(sbx.sandboxId);
});

afterAll(async () => {
  await sbx?.kill().catch(() => undefined);
  restore?.();
  await t?.[Symbol.asyncDispose]();
});

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('read and write', () => {
  it('writes and reads text, bytes and blobs; relative paths start at the home', async () => {
    const info = await sbx.files.write('notes/a.txt', 'héllo\n');
    expect(info).toEqual({ name: 'a.txt', type: 'file', path: '/workspace/notes/a.txt', metadata: undefined });
    expect(await host.files.readText('/workspace/notes/a.txt')).toBe('héllo\n');
    expect(await sbx.files.read('/workspace/notes/a.txt')).toBe('héllo\n');
    expect(await sbx.files.read('~/notes/a.txt')).toBe('héllo\n');
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await sbx.files.write('bin/all.bytes', bytes.buffer);
    expect(Buffer.from(await sbx.files.read('bin/all.bytes', { format: 'bytes' }))).toEqual(Buffer.from(bytes));
    expect(Buffer.from(await (await sbx.files.read('bin/all.bytes', { format: 'blob' })).arrayBuffer())).toEqual(Buffer.from(bytes));
    await sbx.files.write('empty', '');
    expect(await sbx.files.read('empty')).toBe('');
  });

  it('streams a large file both ways without loss (octet-stream upload, streamed download)', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 17);
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < data.length; at += 256 * 1024) c.enqueue(data.subarray(at, at + 256 * 1024));
        c.close();
      },
    });
    await sbx.files.write('big/stream.bin', source);
    expect(sha(await host.files.readBytes('big/stream.bin'))).toBe(sha(data));
    const stream = await sbx.files.read('big/stream.bin', { format: 'stream' });
    const chunks: Uint8Array[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
  });

  it('writes many files in one multipart upload, and gzip- or octet-stream-encoded ones', async () => {
    const infos = await sbx.files.write([
      { path: 'many/one.txt', data: '1' },
      { path: '/tmp/many/two.txt', data: new Blob(['22']) },
      { path: 'many/deep/three.txt', data: new TextEncoder().encode('333').buffer },
    ]);
    expect(infos.map((i) => i.path)).toEqual(['/workspace/many/one.txt', '/tmp/many/two.txt', '/workspace/many/deep/three.txt']);
    expect(await Promise.all(['many/one.txt', '/tmp/many/two.txt', 'many/deep/three.txt'].map((p) => host.files.readText(p)))).toEqual(['1', '22', '333']);
    await sbx.files.write('enc/gz.txt', 'compressed on the wire', { gzip: true });
    await sbx.files.write('enc/raw.txt', 'octets', { useOctetStream: true });
    expect([await host.files.readText('enc/gz.txt'), await host.files.readText('enc/raw.txt')]).toEqual(['compressed on the wire', 'octets']);
    expect(await sbx.files.read('enc/gz.txt', { gzip: true })).toBe('compressed on the wire');
  });

  it('reports a missing file as FileNotFoundError and a directory as InvalidArgumentError', async () => {
    await expect(sbx.files.read('does/not/exist')).rejects.toBeInstanceOf(Current.FileNotFoundError);
    await expect(sbx.files.read('/workspace')).rejects.toBeInstanceOf(Current.InvalidArgumentError);
  });
});

describe('directories and entries', () => {
  it('lists, stats, makes directories, renames and removes', async () => {
    await sbx.files.write('tree/a.txt', 'aaa');
    await sbx.commands.run('mkdir -p tree/sub && echo x > tree/sub/b.txt && ln -s a.txt tree/link && chmod 600 tree/a.txt');
    const flat = await sbx.files.list('tree');
    expect(flat.map((e) => [e.name, e.type, e.path])).toEqual([
      ['a.txt', 'file', '/workspace/tree/a.txt'],
      ['link', 'symlink', '/workspace/tree/link'],
      ['sub', 'dir', '/workspace/tree/sub'],
    ]);
    expect((await sbx.files.list('tree', { depth: 2 })).map((e) => e.name)).toEqual(['a.txt', 'link', 'sub', 'b.txt']);
    const a = await sbx.files.getInfo('tree/a.txt');
    expect(a).toMatchObject({ name: 'a.txt', type: 'file', size: 3, mode: 0o600, permissions: '-rw-------' });
    expect(Math.abs(a.modifiedTime!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await sbx.files.getInfo('tree/link')).toMatchObject({ type: 'symlink', symlinkTarget: 'a.txt' });
    expect(await sbx.files.exists('tree/sub/b.txt')).toBe(true);
    expect(await sbx.files.exists('tree/nope')).toBe(false);
    await expect(sbx.files.getInfo('tree/nope')).rejects.toBeInstanceOf(Current.FileNotFoundError);
    await expect(sbx.files.list('tree/a.txt')).rejects.toBeInstanceOf(Current.InvalidArgumentError);

    expect(await sbx.files.makeDir('made/x/y')).toBe(true);
    expect(await sbx.files.makeDir('made/x/y')).toBe(false);
    expect((await host.files.stat('made/x/y')).type).toBe('dir');

    // rename replaces its destination and makes its parent, as envd does
    await sbx.files.write('mv/dst.txt', 'old');
    expect(await sbx.files.rename('tree/a.txt', 'mv/dst.txt')).toMatchObject({ path: '/workspace/mv/dst.txt', type: 'file' });
    expect(await sbx.files.rename('mv/dst.txt', 'mv/new/parent/f.txt')).toMatchObject({ name: 'f.txt' });
    expect(await host.files.readText('mv/new/parent/f.txt')).toBe('aaa');
    expect(await host.files.exists('tree/a.txt')).toBe(false);

    await sbx.files.remove('tree');
    expect(await host.files.exists('tree')).toBe(false);
    await sbx.files.remove('tree'); // a missing path is not an error, as in envd
  });
});

describe('watchDir', () => {
  it('reports creates, writes, renames, chmods and removes with names relative to the directory', async () => {
    await sbx.files.makeDir('watched');
    const events: Current.FilesystemEvent[] = [];
    const w = await sbx.files.watchDir('watched', (e) => void events.push(e));
    await sbx.files.write('watched/by-sdk.txt', 'x');
    await sbx.commands.run('cd watched && echo a > f && chmod 600 f && mv f g && rm g');
    await until(() => events.some((e) => e.type === Current.FilesystemEventType.REMOVE), 'the remove');
    await w.stop();
    const seen = events.map((e) => `${e.type} ${e.name}`).filter((s, i, all) => s !== all[i - 1]);
    expect(seen).toEqual(['create by-sdk.txt', 'write by-sdk.txt', 'create f', 'write f', 'chmod f', 'rename f', 'create g', 'remove g']);
    const count = events.length;
    await sbx.files.write('watched/late.txt', 'after stop');
    await new Promise((r) => setTimeout(r, 300));
    expect(events.length).toBe(count);
  });

  it('watches subdirectories only when recursive, and ends at its timeoutMs with onExit', async () => {
    await sbx.files.makeDir('rec/sub');
    const flat: string[] = [];
    const deep: string[] = [];
    const flatW = await sbx.files.watchDir('rec', (e) => void flat.push(`${e.type} ${e.name}`));
    const deepW = await sbx.files.watchDir('rec', (e) => void deep.push(`${e.type} ${e.name}`), { recursive: true });
    await sbx.files.write('rec/sub/inner.txt', 'x');
    await sbx.files.write('rec/top.txt', 'y');
    await until(() => deep.includes('create sub/inner.txt') && flat.includes('create top.txt'), 'both watches');
    expect(flat).not.toContain('create sub/inner.txt');
    await Promise.all([flatW.stop(), deepW.stop()]);

    let exit: Error | undefined | 'pending' = 'pending';
    await sbx.files.watchDir('rec', () => undefined, { timeoutMs: 800, onExit: (err) => void (exit = err) });
    await until(() => exit !== 'pending', 'the watch to end');
    expect(exit).toBeInstanceOf(Current.TimeoutError);
  });

  it('refuses to watch a file or a missing path', async () => {
    await sbx.files.write('plain.txt', 'x');
    await expect(sbx.files.watchDir('plain.txt', () => undefined)).rejects.toBeInstanceOf(Current.InvalidArgumentError);
    await expect(sbx.files.watchDir('missing-dir', () => undefined)).rejects.toBeInstanceOf(Current.FileNotFoundError);
  });
});

describe('polled watchers (CreateWatcher, GetWatcherEvents, RemoveWatcher)', () => {
  it('queue events between polls until removed', async () => {
    const call = async (method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${t.url}/filesystem.Filesystem/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    await sbx.files.makeDir('polled');
    const created = await call('CreateWatcher', { path: 'polled', recursive: true });
    expect(created.status).toBe(200);
    const watcherId = created.json.watcherId as string;
    await sbx.commands.run('mkdir -p polled/d && echo x > polled/d/f');
    let events: Array<{ name: string; type: string }> = [];
    for (let i = 0; i < 50 && !events.some((e) => e.name === 'd/f'); i++) {
      events = [...events, ...((await call('GetWatcherEvents', { watcherId })).json.events as typeof events)];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(events).toContainEqual({ name: 'd', type: 'EVENT_TYPE_CREATE' });
    expect(events).toContainEqual({ name: 'd/f', type: 'EVENT_TYPE_WRITE' });
    expect((await call('RemoveWatcher', { watcher_id: watcherId })).status).toBe(200);
    expect(await call('GetWatcherEvents', { watcherId })).toMatchObject({ status: 404, json: { code: 'not_found' } });
  });
});

describe('the previous SDK minor', () => {
  it('reads, writes, lists and watches the same way', async () => {
    const prev = await Previous.Sandbox.connect(sbx.sandboxId);
    await prev.files.write([{ path: 'prev/a', data: 'A' }, { path: 'prev/b', data: 'B' }]);
    expect(await prev.files.read('prev/b')).toBe('B');
    expect((await prev.files.list('prev')).map((e) => e.name)).toEqual(['a', 'b']);
    const events: string[] = [];
    const w = await prev.files.watchDir('prev', (e) => void events.push(`${e.type} ${e.name}`));
    await prev.files.remove('prev/a');
    await until(() => events.includes('remove a'), 'the remove');
    await w.stop();
  });
});

describe('what Warden does not support fails clearly', () => {
  it('file metadata and watch entries: the SDK refuses them for this envd version', async () => {
    await expect(sbx.files.write('m.txt', 'x', { metadata: { k: 'v' } })).rejects.toThrow(/File metadata requires envd 0\.6\.2/);
    await expect(sbx.files.watchDir('.', () => undefined, { includeEntry: true })).rejects.toBeInstanceOf(Current.TemplateError);
    expect(await host.files.exists('m.txt')).toBe(false);
  });

  it('acting as root', async () => {
    const err = await rejection(sbx.files.write('/workspace/root.txt', 'x', { user: 'root' }));
    expect(err).toBeInstanceOf(Current.SandboxError);
    expect(err.message).toMatch(/^501: .*user "root" is not available/);
    const list = await rejection(sbx.files.list('.', { user: 'root' }));
    expect(list.message).toMatch(/user "root" is not available/);
    expect(await host.files.exists('root.txt')).toBe(false);
  });
});
