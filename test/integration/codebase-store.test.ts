/**
 * The codebase store at scale: 100k files in 1000 directories, added,
 * re-added (all content already stored), then deleted with gc. Bounds are
 * relative to how long the host took to create the same files, so a slow or
 * busy disk does not make the test flaky while a pathological store does.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCodebaseStore, type CodebaseStore } from '../../packages/core/src/fs/store/index.js';
import { tempDir, type TempDir } from '../helpers/host.js';

const DIRS = 1000;
const PER_DIR = 100;
const FILES = DIRS * PER_DIR;

let tmp: TempDir;
let src: string;
let store: CodebaseStore;
let createMs: number;

function blobCount(): number {
  const dir = join(store.rootDir, 'blobs');
  return readdirSync(dir).reduce((n, prefix) => n + readdirSync(join(dir, prefix)).length, 0);
}

beforeAll(async () => {
  tmp = await tempDir('warden-store-100k-');
  src = join(tmp.path, 'src');
  const t0 = performance.now();
  for (let d = 0; d < DIRS; d++) {
    const dir = join(src, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `f${f}.txt`), `${d}/${f}\n`);
  }
  createMs = performance.now() - t0;
  store = await openCodebaseStore(join(tmp.path, 'store'));
}, 300_000);

afterAll(async () => {
  await tmp[Symbol.asyncDispose]();
}, 300_000);

describe('codebase store with 100k files', () => {
  it('adds them with one blob each, in time comparable to creating them', async () => {
    const t0 = performance.now();
    const m = await store.add({ dir: src }, { name: 'big' });
    const addMs = performance.now() - t0;
    console.log(`100k files: host created them in ${Math.round(createMs)} ms, add took ${Math.round(addMs)} ms`);

    expect(m.entries).toHaveLength(DIRS + FILES);
    expect(m.entries.filter((e) => e.type === 'file')).toHaveLength(FILES);
    expect(m.entries[0]).toEqual({ type: 'dir', path: 'd0', mode: 0o755 });
    expect(m.entries[1]).toMatchObject({ type: 'file', path: 'd0/f0.txt', size: 4 });
    expect(blobCount()).toBe(FILES);
    expect(addMs).toBeLessThan(3 * createMs + 15_000);
  }, 300_000);

  it('re-adds them as version 2 without writing a single blob, faster than the first add', async () => {
    const t0 = performance.now();
    const m = await store.add({ dir: src }, { name: 'big' });
    const addMs = performance.now() - t0;
    console.log(`100k files, all content stored: add took ${Math.round(addMs)} ms`);
    expect(m.version).toBe(2);
    expect(blobCount()).toBe(FILES);
    expect(addMs).toBeLessThan(createMs + 10_000);
    expect(await store.list()).toEqual([expect.objectContaining({ name: 'big', versions: 2, files: FILES, bytes: expect.any(Number) as number })]);
  }, 300_000);

  it('deletes the codebase and gc removes all 100k blobs', async () => {
    const t0 = performance.now();
    await store.delete('big');
    console.log(`delete + gc of 100k blobs took ${Math.round(performance.now() - t0)} ms`);
    expect(blobCount()).toBe(0);
    expect(await store.list()).toEqual([]);
  }, 300_000);
});
