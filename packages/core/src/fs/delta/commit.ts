/** Turns a sandbox's changes into a new codebase version, without touching the old one. */
import { lstat, readlink } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';
import { ancestorsAndSelf, isWithin, parentOf } from '../paths.js';
import type { Level, Manifest, ManifestEntry } from '../types.js';
import { sha256File, type Diff } from './diff.js';

export interface CommitInput {
  readonly merged: string;
  readonly base: Manifest;
  readonly levels: ReadonlyMap<string, Level>;
  readonly diff: Diff;
}

export interface CommitPlan {
  readonly entries: ManifestEntry[];
  /** Content to import: sha256 → host file (in the merged workspace). */
  readonly blobsFrom: Map<string, string>;
}


export async function planCommit(c: CommitInput): Promise<CommitPlan> {
  const byPath = new Map(c.base.entries.map((e) => [e.path, e]));
  // A change may not land on or over something the sandbox could not see.
  const hidden = new Set(c.base.entries.filter((e) => c.levels.get(e.path) === 'none').map((e) => e.path));
  const holdsHidden = new Set([...hidden].flatMap((h) => ancestorsAndSelf(parentOf(h)).filter(Boolean)));
  const clashes = [...c.diff.added, ...c.diff.modified].filter((ch) => isWithin(ch.path, hidden) || holdsHidden.has(ch.path));
  if (clashes.length > 0) {
    throw new WardenError(
      'E_COMMIT_CONFLICT',
      `The sandbox created ${clashes.map((x) => x.path).slice(0, 5).join(', ')}, where the codebase has entries hidden from it; committing would overwrite them. Export the changes instead and merge them by hand.`,
      { details: { paths: clashes.map((x) => x.path) } },
    );
  }
  const gone = new Set(c.diff.deleted.map((d) => d.path));
  // Deleting a directory that looked empty to the sandbox must not delete what it could not see in it.
  const lost = [...hidden].filter((h) => isWithin(h, gone));
  if (lost.length > 0) {
    throw new WardenError(
      'E_COMMIT_CONFLICT',
      `The sandbox deleted ${[...gone].filter((g) => holdsHidden.has(g)).slice(0, 5).join(', ')}, which holds entries hidden from it; committing would delete them too. Export the changes instead and merge them by hand.`,
      { details: { paths: lost } },
    );
  }
  const changed = new Set([...c.diff.added, ...c.diff.modified].map((x) => x.path));
  const entries = new Map<string, ManifestEntry>();
  for (const e of c.base.entries) {
    if (!isWithin(e.path, gone) && !changed.has(e.path)) entries.set(e.path, e);
  }
  const blobsFrom = new Map<string, string>();
  for (const path of changed) {
    const host = `${c.merged}/${path}`;
    const st = await lstat(host);
    const old = byPath.get(path);
    if (st.isDirectory()) entries.set(path, { type: 'dir', path, mode: st.mode & 0o777 });
    else if (st.isSymbolicLink()) entries.set(path, { type: 'symlink', path, target: await readlink(host) });
    else if (st.isFile()) {
      const sha256 = await sha256File(host);
      blobsFrom.set(sha256, host);
      // Pre-existing files keep their recorded mode: the sandbox could not chmod them.
      const mode = old?.type === 'file' ? old.mode : st.mode & 0o777;
      entries.set(path, { type: 'file', path, mode, size: st.size, sha256 });
    }
  }
  // addVersion puts entries in manifest order itself.
  return { entries: [...entries.values()], blobsFrom };
}
