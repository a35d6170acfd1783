/**
 * Turns a host directory into manifest entries, storing file contents as
 * blobs. Never follows a symlink: links are recorded with their target,
 * directories are entered only when readdir says they are directories, and
 * files are opened with O_NOFOLLOW. Iterative (level by level), so depth is
 * bounded by nothing but PATH_MAX, and at most `concurrency` files are open.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '@warden/protocol';
import type { ManifestEntry } from '../types.js';
import type { BlobStore } from './blobs.js';
import { forEachLimit } from './concurrency.js';
import { MODE_MASK, sortEntries } from './entries.js';
import { sourceError } from './errors.js';

export type SkippedKind = 'socket' | 'fifo' | 'char-device' | 'block-device' | 'unknown';

/** A directory entry that a codebase cannot hold and that was left out. */
export interface SkippedEntry {
  readonly path: string;
  readonly kind: SkippedKind;
}

export interface WalkOptions {
  readonly blobs: BlobStore;
  readonly tmpDir: string;
  /** How many files are hashed at once. */
  readonly concurrency: number;
  /** Names a path in messages, e.g. `"src/a.ts" in directory /home/me/app`. */
  readonly label: (path: string) => string;
  /** The tree is a private extraction the store may take files from (see BlobStore.ingest). */
  readonly consume?: boolean;
  readonly signal?: AbortSignal;
}

export interface WalkResult {
  readonly entries: ManifestEntry[];
  readonly skipped: SkippedEntry[];
  /** Blobs this walk wrote (content not stored before). */
  readonly newBlobs: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(raw: Buffer, what: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new WardenError('E_CODEBASE_INVALID', `${what} has a name that is not valid UTF-8 (bytes ${raw.toString('hex')}). Rename it; codebase paths must be UTF-8.`, {
      details: { problems: [`${what}: name is not UTF-8 (hex ${raw.toString('hex')})`] },
    });
  }
}

function skippedKind(d: Dirent<Buffer>): SkippedKind {
  if (d.isSocket()) return 'socket';
  if (d.isFIFO()) return 'fifo';
  if (d.isCharacterDevice()) return 'char-device';
  if (d.isBlockDevice()) return 'block-device';
  return 'unknown';
}

export async function walkTree(root: string, opts: WalkOptions): Promise<WalkResult> {
  const entries: ManifestEntry[] = [];
  const skipped: SkippedEntry[] = [];
  const files: string[] = [];
  const where = (dir: string): string => (dir === '' ? opts.label('.') : opts.label(dir));

  let level = [''];
  while (level.length > 0) {
    const next: string[] = [];
    await forEachLimit(
      level,
      opts.concurrency,
      async (dir) => {
        let children: Dirent<Buffer>[];
        try {
          children = await readdir(join(root, dir), { withFileTypes: true, encoding: 'buffer' });
        } catch (err) {
          throw sourceError(where(dir), err);
        }
        for (const d of children) {
          const name = decodeName(d.name, `An entry of ${where(dir)}`);
          const rel = dir === '' ? name : `${dir}/${name}`;
          const abs = join(root, rel);
          if (d.isDirectory()) {
            const st = await lstat(abs).catch((err: unknown) => Promise.reject(sourceError(opts.label(rel), err)));
            // lstat, not stat: if it became a symlink since readdir, don't enter it.
            if (!st.isDirectory()) throw sourceError(opts.label(rel), Object.assign(new Error('changed'), { code: 'ELOOP' }));
            entries.push({ type: 'dir', path: rel, mode: st.mode & MODE_MASK });
            next.push(rel);
          } else if (d.isSymbolicLink()) {
            const raw = await readlink(abs, { encoding: 'buffer' }).catch((err: unknown) => Promise.reject(sourceError(opts.label(rel), err)));
            entries.push({ type: 'symlink', path: rel, target: decodeName(raw, `The target of symlink ${opts.label(rel)}`) });
          } else if (d.isFile()) {
            files.push(rel);
          } else {
            skipped.push({ path: rel, kind: skippedKind(d) });
          }
        }
      },
      opts.signal,
    );
    level = next;
  }

  let newBlobs = 0;
  await forEachLimit(
    files,
    opts.concurrency,
    async (rel) => {
      const got = await opts.blobs.ingest(join(root, rel), { tmpDir: opts.tmpDir, label: opts.label(rel), consume: opts.consume ?? false });
      if (got.written) newBlobs++;
      entries.push({ type: 'file', path: rel, mode: got.mode & MODE_MASK, size: got.size, sha256: got.sha256 });
    },
    opts.signal,
  );
  return { entries: sortEntries(entries), skipped: sortEntries(skipped), newBlobs };
}
