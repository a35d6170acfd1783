/**
 * Pure: turns a codebase version and a policy into the view tree to build.
 * The kernel enforces the levels through plain ownership and modes, because
 * everything in the view is owned by root and the sandbox runs as another uid:
 *
 * | level | file                                   | directory                                   |
 * |-------|----------------------------------------|---------------------------------------------|
 * | none  | absent                                 | absent (unless a visible entry is below it) |
 * | view  | same-size sparse placeholder, mode 000 | 0555: names listable, nothing writable      |
 * | read  | the content, 0444 (0555 if executable) | 0555                                        |
 * | write | the content, 0666 (0777 if executable) | 0777; 1777 when it holds anything not write |
 *
 * The sticky bit keeps read and view entries in a writable directory from
 * being deleted or renamed by the sandbox (it owns none of them). A hidden
 * directory with a visible entry below it is shown as 0555 with only that
 * entry in it.
 */
import type { Level, Manifest, ManifestEntry, Policy } from '../types.js';
import { parentOf } from '../paths.js';

export type ViewNode =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly sha256: string; readonly size: number }
  | { readonly kind: 'placeholder'; readonly path: string; readonly size: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

export interface ViewPlan {
  /** Mode of the view's root directory (and so of /workspace). */
  readonly rootMode: number;
  /** Nodes in manifest order: every directory before its children. */
  readonly nodes: readonly ViewNode[];
  /** Level of every manifest path, for diff and commit. */
  readonly levels: ReadonlyMap<string, Level>;
}

const isExec = (mode: number): boolean => (mode & 0o111) !== 0;

export function planView(manifest: Manifest, policy: Policy): ViewPlan {
  const levels = new Map<string, Level>();
  levels.set('', policy.levelOf('', true));
  for (const e of manifest.entries) levels.set(e.path, policy.levelOf(e.path, e.type === 'dir'));

  // Which directories must exist: visible ones, and every ancestor of a visible entry.
  const shown = new Set<string>(['']);
  for (const e of manifest.entries) {
    if (levels.get(e.path) === 'none') continue;
    shown.add(e.path);
    for (let p = parentOf(e.path); !shown.has(p); p = parentOf(p)) shown.add(p);
  }
  // Directories holding something the sandbox may not remove get the sticky bit.
  const protects = new Set<string>();
  for (const e of manifest.entries) {
    if (!shown.has(e.path)) continue;
    const level = levels.get(e.path);
    const forcedDir = e.type === 'dir' && level === 'none';
    if (level !== 'write' || forcedDir) protects.add(parentOf(e.path));
  }
  const dirMode = (path: string): number => {
    if (levels.get(path) !== 'write') return 0o555;
    return protects.has(path) ? 0o1777 : 0o777;
  };

  const nodes: ViewNode[] = [];
  for (const e of manifest.entries) {
    if (!shown.has(e.path)) continue;
    nodes.push(nodeFor(e, levels.get(e.path) ?? 'none', dirMode));
  }
  return { rootMode: dirMode(''), nodes, levels };
}

function nodeFor(e: ManifestEntry, level: Level, dirMode: (p: string) => number): ViewNode {
  switch (e.type) {
    case 'dir':
      return { kind: 'dir', path: e.path, mode: dirMode(e.path) };
    case 'symlink':
      return { kind: 'symlink', path: e.path, target: e.target };
    case 'file':
      if (level === 'view') return { kind: 'placeholder', path: e.path, size: e.size };
      if (level === 'write') return { kind: 'file', path: e.path, mode: isExec(e.mode) ? 0o777 : 0o666, sha256: e.sha256, size: e.size };
      return { kind: 'file', path: e.path, mode: isExec(e.mode) ? 0o555 : 0o444, sha256: e.sha256, size: e.size };
  }
}
