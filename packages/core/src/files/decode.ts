/** Pure, strict decoders for the file helper's JSON output (untrusted input). */
import type { FileEntry, FileType, WatchEvent, WatchEventType } from './types.js';
import { helperProtocolError } from './lines.js';

const FILE_TYPES: ReadonlySet<string> = new Set<FileType>(['file', 'dir', 'symlink', 'other']);
const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>(['create', 'write', 'remove', 'rename', 'chmod', 'overflow']);

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw helperProtocolError(`${what} that is not an object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw helperProtocolError(`${what} without a string "${key}"`);
  return v;
}

function int(o: Record<string, unknown>, key: string, what: string, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw helperProtocolError(`${what} with a bad "${key}"`);
  return v;
}

export function decodeEntry(v: unknown): FileEntry {
  const what = 'a file entry';
  const o = object(v, what);
  const type = str(o, 'type', what);
  if (!FILE_TYPES.has(type)) throw helperProtocolError(`${what} of unknown type`);
  const mode = int(o, 'mode', what, 0);
  if (mode > 0o7777) throw helperProtocolError(`${what} with a bad "mode"`);
  const target = o.target;
  if (target !== undefined && typeof target !== 'string') throw helperProtocolError(`${what} with a bad "target"`);
  return {
    name: str(o, 'name', what),
    path: str(o, 'path', what),
    type: type as FileType,
    size: int(o, 'size', what, 0),
    mode,
    mtime: new Date(int(o, 'mtime', what, -8.64e15)),
    ...(typeof target === 'string' ? { target } : {}),
  };
}

export function decodeWatchEvent(v: unknown): WatchEvent {
  const what = 'a watch event';
  const o = object(v, what);
  const type = str(o, 'type', what);
  if (!EVENT_TYPES.has(type)) throw helperProtocolError(`${what} of unknown type`);
  return { type: type as WatchEventType, path: str(o, 'path', what) };
}

/** `{"<key>": <boolean>}`, the answer of exists, mkdir, remove and watch's ready line. */
export function decodeFlag(v: unknown, key: string): boolean {
  const o = object(v, `a "${key}" answer`);
  const flag = o[key];
  if (typeof flag !== 'boolean') throw helperProtocolError(`a "${key}" answer without a boolean`);
  return flag;
}

/** `{"written": N}`: bytes of a write that have reached the file. */
export function decodeAck(v: unknown): number | undefined {
  const o = object(v, 'a write answer');
  return 'written' in o ? int(o, 'written', 'a write acknowledgement', 0) : undefined;
}
