/**
 * Exports a sandbox's changes: a tarball of what was added or modified (plus
 * `.warden-deleted`, one deleted path per line), or a unified patch of the
 * text changes. Runs GNU tar and diff with argv arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import { isWithin, parentOf } from '../paths.js';
import type { Level, Manifest } from '../types.js';
import type { Diff } from './diff.js';

const run = promisify(execFile);
const MAX_PATCH_BYTES = 256 * 1024 * 1024;

export const DELETED_LIST = '.warden-deleted';

/** Writes a tarball of the changes to `outFile`. */
export async function exportTar(merged: string, diff: Diff, outFile: string): Promise<void> {
  const work = await mkdtemp(`${tmpdir()}/warden-export-`);
  try {
    const list = [...diff.added, ...diff.modified].map((c) => c.path);
    await writeFile(`${work}/files`, list.map((p) => `${p}\0`).join(''));
    await writeFile(`${work}/${DELETED_LIST}`, diff.deleted.map((c) => `${c.path}\n`).join(''));
    // --no-recursion: exactly the changed entries; added directories are listed themselves.
    // One tar: -C applies in order, so the list comes from the workspace and the deletions file from `work`.
    await run('tar', ['-c', '-f', outFile, '--no-recursion', '--numeric-owner', '-C', merged, '--null', '-T', `${work}/files`, '-C', work, '--no-null', DELETED_LIST]);
  } catch (err) {
    await rm(outFile, { force: true });
    throw new WardenError('E_INTERNAL', `Could not export the sandbox's changes: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A unified patch (`a/` → `b/`) of every changed file; binary files get one
 * line. One `diff -ruN` over two trees of symlinks — old side to the stored
 * content, new side to the (checked, frozen) workspace file — instead of one
 * process per file.
 */
export async function exportPatch(
  merged: string,
  diff: Diff,
  base: Manifest,
  levels: ReadonlyMap<string, Level>,
  blobPath: (sha: string) => string,
): Promise<string> {
  const byPath = new Map(base.entries.map((e) => [e.path, e]));
  const oldSide = new Map<string, string>();
  const newSide = new Map<string, string>();
  for (const c of [...diff.modified, ...diff.added]) {
    if (c.type === 'file') newSide.set(c.path, `${merged}/${c.path}`);
  }
  for (const c of [...diff.modified, ...diff.deleted]) {
    const was = byPath.get(c.path);
    if (was?.type === 'file') oldSide.set(c.path, blobPath(was.sha256));
  }
  // Files under a deleted directory, in one pass; never those hidden from the sandbox (it did not delete them).
  const deletedDirs = new Set(diff.deleted.filter((c) => c.type === 'dir').map((c) => c.path));
  if (deletedDirs.size > 0) {
    for (const e of base.entries) {
      if (e.type === 'file' && levels.get(e.path) !== 'none' && isWithin(parentOf(e.path), deletedDirs)) oldSide.set(e.path, blobPath(e.sha256));
    }
  }
  if (oldSide.size === 0 && newSide.size === 0) return '';
  const work = await mkdtemp(`${tmpdir()}/warden-patch-`);
  try {
    // Thousands of tiny metadata calls in a private temp dir: synchronous calls are ~30× faster than
    // thread-pool round trips; yield now and then so a huge diff does not starve the event loop.
    let n = 0;
    for (const [side, files] of [['a', oldSide], ['b', newSide]] as const) {
      mkdirSync(`${work}/${side}`);
      for (const [path, target] of files) {
        const link = `${work}/${side}/${path}`;
        mkdirSync(link.slice(0, link.lastIndexOf('/')), { recursive: true });
        symlinkSync(target, link);
        if (++n % 500 === 0) await new Promise((r) => setImmediate(r));
      }
    }
    let out = '';
    try {
      await run('diff', ['-ruN', 'a', 'b'], { cwd: work, maxBuffer: MAX_PATCH_BYTES });
    } catch (err) {
      const e = err as { code?: number; stdout?: string; message: string };
      if (e.code !== 1 || typeof e.stdout !== 'string') throw new WardenError('E_INTERNAL', `diff failed: ${e.message}`, { cause: err });
      out = e.stdout;
    }
    return relabel(out, oldSide, newSide);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** diff's headers carry timestamps and name both sides; patches name /dev/null for a missing side. */
function relabel(out: string, oldSide: ReadonlyMap<string, string>, newSide: ReadonlyMap<string, string>): string {
  const lines = out.split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    if (line.startsWith('diff -ruN ')) continue;
    const binary = /^Binary files a\/(.*) and b\/(.*) differ$/.exec(line);
    if (binary) {
      kept.push(`Binary file ${binary[1] ?? ''} changed`);
      continue;
    }
    const header = /^(---|\+\+\+) ([ab])\/(.*?)\t.*$/.exec(line);
    if (header) {
      const [, mark, side, path = ''] = header;
      const exists = side === 'a' ? oldSide.has(path) : newSide.has(path);
      kept.push(`${mark} ${exists ? `${side}/${path}` : '/dev/null'}`);
      continue;
    }
    kept.push(line);
  }
  return kept.join('\n');
}
