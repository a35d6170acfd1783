/**
 * Exports a sandbox's changes: a tarball of what was added or modified (plus
 * `.warden-deleted`, one deleted path per line), or a unified patch of the
 * text changes. Runs GNU tar and diff with argv arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import { forEachLimit } from '../store/concurrency.js';
import type { Manifest } from '../types.js';
import type { Diff } from './diff.js';

const run = promisify(execFile);
const MAX_PATCH_BYTES = 256 * 1024 * 1024;
const PATCH_PARALLEL = 4;

export const DELETED_LIST = '.warden-deleted';

/** Writes a tarball of the changes to `outFile`. */
export async function exportTar(merged: string, diff: Diff, outFile: string): Promise<void> {
  const work = await mkdtemp(`${tmpdir()}/warden-export-`);
  try {
    const list = [...diff.added, ...diff.modified].map((c) => c.path);
    await writeFile(`${work}/files`, list.map((p) => `${p}\0`).join(''));
    await writeFile(`${work}/${DELETED_LIST}`, diff.deleted.map((c) => `${c.path}\n`).join(''));
    // --no-recursion: exactly the changed entries; added directories are listed themselves.
    await run('tar', ['-c', '-f', outFile, '--no-recursion', '--numeric-owner', '-C', merged, '--null', '-T', `${work}/files`]);
    await run('tar', ['-r', '-f', outFile, '-C', work, DELETED_LIST]);
  } catch (err) {
    await rm(outFile, { force: true });
    throw new WardenError('E_INTERNAL', `Could not export the sandbox's changes: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function unified(oldPath: string, newPath: string, label: string, oldLabel: string, newLabel: string): Promise<string> {
  try {
    await run('diff', ['-u', '--label', oldLabel, '--label', newLabel, oldPath, newPath], { maxBuffer: MAX_PATCH_BYTES });
    return '';
  } catch (err) {
    const e = err as { code?: number; stdout?: string; message: string };
    if (e.code === 1 && typeof e.stdout === 'string') return e.stdout.startsWith('Binary files') ? `Binary file ${label} changed\n` : e.stdout;
    throw new WardenError('E_INTERNAL', `diff failed for ${label}: ${e.message}`, { cause: err });
  }
}

/** A unified patch (`a/` → `b/`) of every changed file; binary files get one line. */
export async function exportPatch(merged: string, diff: Diff, base: Manifest, blobPath: (sha: string) => string): Promise<string> {
  const byPath = new Map(base.entries.map((e) => [e.path, e]));
  // Each job yields one file's section; jobs run a few at a time, output keeps this order.
  const jobs: Array<() => Promise<string>> = [];
  for (const c of diff.modified) {
    const was = byPath.get(c.path);
    if (c.type !== 'file' || was?.type !== 'file') continue;
    jobs.push(() => unified(blobPath(was.sha256), `${merged}/${c.path}`, c.path, `a/${c.path}`, `b/${c.path}`));
  }
  for (const c of diff.added) {
    if (c.type === 'file') jobs.push(() => unified('/dev/null', `${merged}/${c.path}`, c.path, '/dev/null', `b/${c.path}`));
  }
  for (const c of diff.deleted) {
    const was = byPath.get(c.path);
    const files = was?.type === 'file' ? [was] : base.entries.filter((e) => e.type === 'file' && e.path.startsWith(`${c.path}/`));
    for (const f of files) {
      if (f.type === 'file') jobs.push(() => unified(blobPath(f.sha256), '/dev/null', f.path, `a/${f.path}`, '/dev/null'));
    }
  }
  const parts: string[] = new Array<string>(jobs.length).fill('');
  await forEachLimit(
    jobs.map((job, i) => ({ job, i })),
    PATCH_PARALLEL,
    async ({ job, i }) => {
      parts[i] = await job();
    },
  );
  return parts.join('');
}
