/**
 * Manifest entries: their canonical order, validation of entry lists that
 * come from outside the store (`addVersion`), and per-version totals.
 */
import { WardenError } from '@warden/protocol';
import type { FileEntry, ManifestEntry } from '../types.js';
import { parentOf } from '../paths.js';

/**
 * Mode bits a manifest keeps: permissions only. setuid, setgid and sticky
 * bits are dropped on purpose: a codebase never hands a sandbox a setuid file.
 */
export const MODE_MASK = 0o777;

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_PATH_BYTES = 4095;
const MAX_NAME_BYTES = 255;

/**
 * Canonical order of manifest paths: component by component, so a parent
 * comes right before its subtree ("a", "a/b", "a-c"; plain string order
 * would give "a", "a-c", "a/b"). Within a component, UTF-16 code-unit order.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === 0x2f) return -1; // '/' ends a component: shorter component first
    if (y === 0x2f) return 1;
    return x - y;
  }
  return a.length - b.length;
}

export function sortEntries<T extends { readonly path: string }>(entries: T[]): T[] {
  return entries.sort((x, y) => comparePaths(x.path, y.path));
}

/** Why `path` is not a valid manifest path, or undefined if it is. */
export function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return 'path must be a non-empty string';
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.startsWith('/')) return 'path must be relative (no leading "/")';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path is longer than ${MAX_PATH_BYTES} bytes`;
  for (const part of path.split('/')) {
    if (part === '') return 'path has an empty component ("//" or a trailing "/")';
    if (part === '.' || part === '..') return `path has a "${part}" component`;
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) return `path has a component longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

function isMode(mode: unknown): mode is number {
  return typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777;
}

/**
 * Validates an entry list from outside the store and returns it canonical:
 * known fields only, modes masked to permission bits, sorted. Every entry's
 * parent must be a `dir` entry of the list (or the root). Throws
 * E_CODEBASE_INVALID listing every problem.
 */
export function normaliseEntries(input: readonly ManifestEntry[]): ManifestEntry[] {
  const problems: string[] = [];
  const out: ManifestEntry[] = [];
  const types = new Map<string, ManifestEntry['type']>();
  if (!Array.isArray(input)) {
    throw new WardenError('E_CODEBASE_INVALID', `entries must be an array of manifest entries, got ${typeof input}.`, { details: { problems: ['entries is not an array'] } });
  }
  input.forEach((raw: unknown, i) => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = typeof e.path === 'string' ? `entries[${i}] (${JSON.stringify(e.path)})` : `entries[${i}]`;
    const bad = (msg: string): void => void problems.push(`${where}: ${msg}`);
    const pp = pathProblem(e.path);
    if (pp !== undefined) return bad(pp);
    const path = e.path as string;
    if (types.has(path)) return bad('duplicate path');
    switch (e.type) {
      case 'dir':
      case 'file':
        if (!isMode(e.mode)) return bad(`mode must be an integer from 0 to 0o7777, got ${String(e.mode)}`);
        if (e.type === 'dir') {
          out.push({ type: 'dir', path, mode: e.mode & MODE_MASK });
          break;
        }
        if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) return bad(`size must be a non-negative integer, got ${String(e.size)}`);
        if (typeof e.sha256 !== 'string' || !SHA256.test(e.sha256)) return bad('sha256 must be 64 lower-case hex digits');
        out.push({ type: 'file', path, mode: e.mode & MODE_MASK, size: e.size, sha256: e.sha256 });
        break;
      case 'symlink':
        if (typeof e.target !== 'string' || e.target === '' || e.target.includes('\0') || Buffer.byteLength(e.target) > MAX_PATH_BYTES) {
          return bad(`target must be a non-empty string without NUL bytes, at most ${MAX_PATH_BYTES} bytes`);
        }
        out.push({ type: 'symlink', path, target: e.target });
        break;
      default:
        return bad(`type must be "file", "dir" or "symlink", got ${JSON.stringify(e.type) ?? 'undefined'}`);
    }
    types.set(path, e.type);
  });
  for (const e of out) {
    const parent = parentOf(e.path);
    if (parent !== '' && types.get(parent) !== 'dir') {
      problems.push(`${JSON.stringify(e.path)}: its parent ${JSON.stringify(parent)} is ${types.has(parent) ? `a ${types.get(parent)}, not a dir` : 'not in the list'}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    throw new WardenError('E_CODEBASE_INVALID', `The entry list cannot become a codebase version: ${shown}${more}. Fix these entries and try again.`, {
      details: { problems: problems.slice(0, 1000), count: problems.length },
    });
  }
  return sortEntries(out);
}

export interface ManifestTotals {
  /** Number of file entries. */
  readonly files: number;
  /** Sum of file sizes (logical bytes, before dedup). */
  readonly bytes: number;
}

export function totals(entries: readonly ManifestEntry[]): ManifestTotals {
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.type !== 'file') continue;
    files++;
    bytes += e.size;
  }
  return { files, bytes };
}

export function isFile(e: ManifestEntry): e is FileEntry {
  return e.type === 'file';
}
