/**
 * What a sandbox changed in its codebase workspace: the merged view compared
 * with the version it started from, looking only where its writable layers
 * (the live delta and any snapshot layers) have something.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isWithin, parentOf } from '../paths.js';
import { comparePaths } from '../store/entries.js';
import type { Level, Manifest, ManifestEntry } from '../types.js';

export interface DeltaSource {
  /** Host path of the sandbox's merged workspace (read as root through /proc). */
  readonly merged: string;
  /** Host paths of the writable layers (live upper dirs, then snapshot layers) and the workspace path each covers. */
  readonly uppers: ReadonlyArray<{ readonly prefix: string; readonly path: string }>;
  /** The codebase version the sandbox started from, and each path's level. */
  readonly base: Manifest;
  readonly levels: ReadonlyMap<string, Level>;
}

export type ChangeType = 'file' | 'dir' | 'symlink';

export interface Change {
  readonly path: string;
  readonly type: ChangeType;
  /** Bytes now (added, modified) or before (deleted). */
  readonly size: number;
}

export interface Diff {
  readonly added: readonly Change[];
  readonly modified: readonly (Change & { readonly oldSize: number })[];
  readonly deleted: readonly Change[];
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function typeOf(st: Stats): ChangeType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

/** Every path in a layer, as workspace paths (`prefix/...`); only real directories are entered. */
async function walk(root: string, rel: string, prefix: string, out: Set<string>): Promise<void> {
  const entries = await readdir(rel ? `${root}/${rel}` : root, { withFileTypes: true }).catch(() => []);
  for (const d of entries) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    out.add(prefix ? `${prefix}/${p}` : p);
    // d_type from getdents: a symlink is never a directory here, so it is never entered.
    if (d.isDirectory()) await walk(root, p, prefix, out);
  }
}

function baseSize(e: ManifestEntry): number {
  return e.type === 'file' ? e.size : 0;
}

/** The manifest's own order (component by component), not the locale's. */
const byPathOrder = (a: Change, b: Change): number => comparePaths(a.path, b.path);

export async function computeDiff(src: DeltaSource): Promise<Diff> {
  const visible = new Map<string, ManifestEntry>();
  const children = new Map<string, string[]>();
  for (const e of src.base.entries) {
    if (src.levels.get(e.path) === 'none') continue;
    visible.set(e.path, e);
    const parent = parentOf(e.path);
    const list = children.get(parent) ?? [];
    list.push(e.path);
    children.set(parent, list);
  }
  const touched = new Set<string>();
  for (const upper of src.uppers) {
    await walk(upper.path, '', upper.prefix, touched);
    if (upper.prefix) touched.add(upper.prefix);
  }

  const added: Change[] = [];
  const modified: (Change & { oldSize: number })[] = [];
  const deleted = new Map<string, Change>();
  const noteDeleted = (path: string): void => {
    const e = visible.get(path);
    if (e) deleted.set(path, { path, type: e.type, size: baseSize(e) });
  };

  // The host reads these paths as root: never through a symlink the sandbox
  // planted. A path is only looked at when every directory above it, in the
  // merged view, is a real directory (the sandbox is frozen meanwhile).
  const realDir = new Map<string, boolean>([['', true]]);
  const reachable = async (path: string): Promise<boolean> => {
    const parent = parentOf(path);
    let ok = realDir.get(parent);
    if (ok === undefined) {
      ok = (await reachable(parent)) && ((await lstat(`${src.merged}/${parent}`).catch(() => undefined))?.isDirectory() ?? false);
      realDir.set(parent, ok);
    }
    return ok;
  };

  // The root itself may have lost base entries too.
  const dirsToCheck = new Set<string>(['']);
  for (const path of [...touched].sort()) {
    // Below something that is no longer a directory: that ancestor's change covers it.
    if (!(await reachable(path))) continue;
    const st = await lstat(`${src.merged}/${path}`).catch(() => undefined);
    const was = visible.get(path);
    const type = st ? typeOf(st) : undefined;
    realDir.set(path, type === 'dir'); // sorted: its children, checked next, hit this
    if (!st || !type) {
      if (was) noteDeleted(path);
      continue;
    }
    if (!was) {
      added.push({ path, type, size: type === 'file' ? st.size : 0 });
      continue;
    }
    if (was.type !== type) {
      // Replaced by something of another kind: the old entry (and all under it) went, a new one came.
      noteDeleted(path);
      added.push({ path, type, size: type === 'file' ? st.size : 0 });
      continue;
    }
    if (type === 'dir') {
      dirsToCheck.add(path);
      continue;
    }
    if (type === 'file' && was.type === 'file') {
      if (st.size !== was.size || (await sha256File(`${src.merged}/${path}`)) !== was.sha256) {
        modified.push({ path, type, size: st.size, oldSize: was.size });
      }
    } else if (type === 'symlink' && was.type === 'symlink' && (await readlink(`${src.merged}/${path}`)) !== was.target) {
      modified.push({ path, type, size: 0, oldSize: 0 });
    }
  }
  // Base entries gone from a directory the sandbox touched (whiteouts, opaque dirs).
  for (const dir of dirsToCheck) {
    const present = new Set(await readdir(dir ? `${src.merged}/${dir}` : src.merged).catch(() => [] as string[]));
    for (const child of children.get(dir) ?? []) {
      if (!present.has(child.slice(child.lastIndexOf('/') + 1))) noteDeleted(child);
    }
  }
  // Report a deleted directory once, not every file under it.
  const deletedDirs = new Set(deleted.keys());
  const deletedList = [...deleted.values()].filter((c) => !isWithin(parentOf(c.path), deletedDirs));
  return {
    added: added.sort(byPathOrder),
    modified: modified.sort(byPathOrder),
    deleted: deletedList.sort(byPathOrder),
  };
}
