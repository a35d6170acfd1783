/** File entries and watch events between Warden and envd's JSON. Pure. */
import { posix } from 'node:path';
import type { FileEntry, WatchEventType } from '@warden/core';

/** envd's EntryInfo as JSON. `owner` and `group` are empty: Warden's file helper does not report them. */
export interface EntryInfoJson {
  readonly name: string;
  readonly type: 'FILE_TYPE_FILE' | 'FILE_TYPE_DIRECTORY' | 'FILE_TYPE_SYMLINK' | 'FILE_TYPE_UNSPECIFIED';
  readonly path: string;
  /** int64 travels as a decimal string in proto3 JSON. */
  readonly size: string;
  readonly mode: number;
  readonly permissions: string;
  readonly owner: string;
  readonly group: string;
  readonly modifiedTime: string;
  readonly symlinkTarget?: string;
}

const TYPES = { file: 'FILE_TYPE_FILE', dir: 'FILE_TYPE_DIRECTORY', symlink: 'FILE_TYPE_SYMLINK', other: 'FILE_TYPE_UNSPECIFIED' } as const;

/** Permission bits as `ls -l` (and Go's FileMode.String) show them: `-rw-r--r--`, `drwxr-xr-x`, `Lrwxrwxrwx`. */
export function permissions(type: FileEntry['type'], mode: number): string {
  const kind = type === 'dir' ? 'd' : type === 'symlink' ? 'L' : type === 'other' ? '?' : '';
  const special = `${mode & 0o4000 ? 'u' : ''}${mode & 0o2000 ? 'g' : ''}${mode & 0o1000 ? 't' : ''}`;
  const rwx = [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1].map((bit, i) => (mode & bit ? 'rwx'[i % 3] : '-')).join('');
  const prefix = kind + special;
  return `${prefix === '' ? '-' : prefix}${rwx}`;
}

export function entryInfo(e: FileEntry): EntryInfoJson {
  return {
    name: e.name,
    type: TYPES[e.type],
    path: e.path,
    size: String(e.size),
    mode: e.mode,
    permissions: permissions(e.type, e.mode),
    owner: '',
    group: '',
    modifiedTime: e.mtime.toISOString(),
    ...(e.target !== undefined ? { symlinkTarget: e.target } : {}),
  };
}

/** envd's watch event types; Warden's `overflow` has none (the watch ends instead). */
export const EVENT_TYPES: Readonly<Record<Exclude<WatchEventType, 'overflow'>, string>> = {
  create: 'EVENT_TYPE_CREATE',
  write: 'EVENT_TYPE_WRITE',
  remove: 'EVENT_TYPE_REMOVE',
  rename: 'EVENT_TYPE_RENAME',
  chmod: 'EVENT_TYPE_CHMOD',
};

/** An event's path relative to the watched directory, as envd names it. */
export function eventName(watched: string, path: string): string {
  const rel = posix.relative(watched, path);
  return rel === '' ? posix.basename(path) : rel;
}
