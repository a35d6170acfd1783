/**
 * Turns a host directory into manifest entries, storing file contents as
 * blobs. Never follows a symlink: links are recorded with their target,
 * directories are entered only when readdir says they are directories, and
 * files are opened with O_NOFOLLOW. Iterative, so depth is bounded by nothing
 * but PATH_MAX. Small files are read synchronously in ~10 ms slices (see
 * blobs.ts for why); big ones stream, `concurrency` at a time.
 */
import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { WardenError } from '@warden/protocol';
import type { ManifestEntry } from '../types.js';
import type { BlobStore, Ingested } from './blobs.js';
import { forEachLimit, TimeSlicer } from './concurrency.js';
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
  /** How many big files are streamed at once. */
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
  /** sha256 of the blobs this walk wrote (content not stored before). */
  readonly written: string[];
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

type Kind = 'dir' | 'symlink' | 'file' | SkippedKind;

/** The entry's type from readdir (d_type), or from lstat where the filesystem does not report it. */
function kindOf(d: Dirent<Buffer> | Stats): Kind {
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFile()) return 'file';
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
  const large: string[] = [];
  const slicer = new TimeSlicer();
  const where = (dir: string): string => (dir === '' ? opts.label('.') : opts.label(dir));
  opts.signal?.throwIfAborted();

  // Breadth-first with an explicit queue: no recursion, whatever the depth.
  const dirs = [''];
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i]!;
    if (slicer.due()) await slicer.yield(opts.signal);
    let children: Dirent<Buffer>[];
    try {
      children = readdirSync(join(root, dir), { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      throw sourceError(where(dir), err);
    }
    for (const d of children) {
      const name = decodeName(d.name, `An entry of ${where(dir)}`);
      const rel = dir === '' ? name : `${dir}/${name}`;
      const abs = join(root, rel);
      try {
        let kind = kindOf(d);
        if (kind === 'unknown') kind = kindOf(lstatSync(abs));
        switch (kind) {
          case 'dir': {
            // lstat, not stat: if it became a symlink since readdir, don't enter it.
            const st = lstatSync(abs);
            if (!st.isDirectory()) throw Object.assign(new Error('replaced'), { code: 'ELOOP' });
            entries.push({ type: 'dir', path: rel, mode: st.mode & MODE_MASK });
            dirs.push(rel);
            break;
          }
          case 'symlink': {
            const target = readlinkSync(abs, { encoding: 'buffer' });
            entries.push({ type: 'symlink', path: rel, target: decodeName(target, `The target of symlink ${opts.label(rel)}`) });
            break;
          }
          case 'file':
            files.push(rel);
            break;
          case 'socket':
          case 'fifo':
          case 'char-device':
          case 'block-device':
          case 'unknown':
            skipped.push({ path: rel, kind });
        }
      } catch (err) {
        if (err instanceof WardenError) throw err;
        throw sourceError(opts.label(rel), err);
      }
    }
  }

  const written: string[] = [];
  const add = (rel: string, got: Ingested): void => {
    if (got.written) written.push(got.sha256);
    entries.push({ type: 'file', path: rel, mode: got.mode & MODE_MASK, size: got.size, sha256: got.sha256 });
  };
  for (const rel of files) {
    if (slicer.due()) await slicer.yield(opts.signal);
    const got = opts.blobs.ingestSmallSync(join(root, rel), { tmpDir: opts.tmpDir, label: opts.label(rel), consume: opts.consume ?? false });
    if (got === undefined) large.push(rel);
    else add(rel, got);
  }
  await forEachLimit(
    large,
    opts.concurrency,
    async (rel) => add(rel, await opts.blobs.ingest(join(root, rel), { tmpDir: opts.tmpDir, label: opts.label(rel), consume: opts.consume ?? false })),
    opts.signal,
  );
  return { entries: sortEntries(entries), skipped: sortEntries(skipped), written };
}
