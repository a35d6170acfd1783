/**
 * What `sandbox.files` returns and takes. File names are bytes on Linux; a
 * name that is not valid UTF-8 comes back with each offending byte as a lone
 * surrogate U+DC80–U+DCFF (Python's "surrogateescape"), and such a string,
 * passed back to any `files` method, names exactly the same bytes.
 */

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

export interface FileEntry {
  /** Last path component. */
  readonly name: string;
  /** Absolute path inside the sandbox. */
  readonly path: string;
  /** `symlink` for a link itself: links are reported, never followed. */
  readonly type: FileType;
  /** Bytes (for a symlink: the length of its target). */
  readonly size: number;
  /** Permission bits including setuid, setgid and sticky, e.g. `0o644`. */
  readonly mode: number;
  /** Last modification. */
  readonly mtime: Date;
  /** Where a symlink points, as written in the link (not resolved). */
  readonly target?: string;
}

/** Options every file operation takes. */
export interface FileOpOptions {
  /** Aborting stops the operation; the call rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Wall-clock limit; the call rejects with E_TIMEOUT. Default: the sandbox's limits.timeoutMs. */
  readonly timeoutMs?: number;
  /** Who asks, for the audit record of changes (e.g. `key:abc`). Default `local`. */
  readonly actor?: string;
}

export interface ListOptions extends FileOpOptions {
  /** 1 lists the directory's own entries, 2 also theirs, and so on (1 to 4096). Symlinked directories are not entered. Default: 1. */
  readonly depth?: number;
}

export interface MoveOptions extends FileOpOptions {
  /** Replace `dst` if it exists (a directory only when empty). Default: false (E_FILE_EXISTS). */
  readonly overwrite?: boolean;
}

/** What a `write` accepts: text (written as UTF-8), bytes, or a stream of either. */
export type WriteData = string | Uint8Array | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export type WatchEventType = 'create' | 'write' | 'remove' | 'rename' | 'chmod' | 'overflow';

export interface WatchEvent {
  /**
   * `create` (also: moved in), `write`, `remove`, `rename` (moved away or
   * renamed; the new name comes as a `create`), `chmod` (attributes), or
   * `overflow`: the kernel's queue overflowed and events were lost. A file
   * replaced by `files.write` shows as `create` then `write` of its path (the
   * write's temporary files are not reported).
   */
  readonly type: WatchEventType;
  /** Absolute path inside the sandbox of the entry the event is about. */
  readonly path: string;
}

export interface WatchOptions {
  /** Also watch every directory below, including ones created later. Default: false (the path and its direct entries). */
  readonly recursive?: boolean;
  /** Called for each event, in order. If it throws, the watch stops and `onError` gets the error. */
  readonly onEvent: (event: WatchEvent) => void;
  /** Called once if the watch ends without `close()`: the path was removed, the sandbox closed, or `onEvent` threw. */
  readonly onError?: (err: unknown) => void;
  /** Aborting closes the watch (like `close()`). */
  readonly signal?: AbortSignal;
}

export interface WatchHandle extends AsyncDisposable {
  /** Stops watching; resolves once the watcher in the sandbox is gone. Idempotent. */
  close(): Promise<void>;
}
