/**
 * Shared vocabulary of the codebase subsystem: manifests (what a codebase
 * version contains), permission levels, and the policy interface the view
 * builder consumes.
 */

/** What a sandbox may do with a path: nothing (invisible), see its name and size, read it, or change it. */
export type Level = 'none' | 'view' | 'read' | 'write';

export const LEVELS: readonly Level[] = ['none', 'view', 'read', 'write'];

export interface FileEntry {
  readonly type: 'file';
  /** Relative POSIX path without leading slash, e.g. "src/main.ts". */
  readonly path: string;
  /** Permission bits (0o644, 0o755, ...). */
  readonly mode: number;
  readonly size: number;
  /** sha256 of the content, hex. */
  readonly sha256: string;
}

export interface DirEntry {
  readonly type: 'dir';
  readonly path: string;
  readonly mode: number;
}

export interface SymlinkEntry {
  readonly type: 'symlink';
  readonly path: string;
  /** Link target exactly as stored (never followed by Warden). */
  readonly target: string;
}

export type ManifestEntry = FileEntry | DirEntry | SymlinkEntry;

/** An immutable codebase version: entries sorted by path (parents before children). */
export interface Manifest {
  readonly codebase: string;
  readonly version: number;
  readonly createdAt: string;
  readonly entries: readonly ManifestEntry[];
}

/** A compiled permission policy. Pure and deterministic. */
export interface Policy {
  /** Stable content hash of the normalised policy (views are cached by it). */
  readonly id: string;
  /** Level of one path (relative, no leading slash); `isDir` lets `dir/` patterns apply. */
  levelOf(path: string, isDir: boolean): Level;
}
