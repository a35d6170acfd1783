/** `sandbox.files`: read, write, list, stat, mkdir, move, remove, exists, watch. Paths are inside the sandbox; relative ones start at /workspace. */
import type { FileEntry, WatchEvent } from '@warden/protocol';
import { concat, toBytes } from './bytes.js';
import { eventError, readNdjson, type Body, type Http } from './http.js';

export type { FileEntry, WatchEvent };

export interface WatchHandle {
  /** Stops watching. */
  stop(): Promise<void>;
  /** Resolves when the watch is stopped; rejects (a WardenError) when it fails or the sandbox ends. */
  readonly done: Promise<void>;
}

export class Files {
  readonly #http: Http;
  readonly #base: string;

  /** @internal */
  constructor(http: Http, sandboxId: string) {
    this.#http = http;
    this.#base = `/v1/sandboxes/${sandboxId}/files`;
  }

  /** The file's content as text (UTF-8), bytes, or a stream for large files. */
  read(path: string, opts?: { format?: 'text' }): Promise<string>;
  read(path: string, opts: { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, opts: { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, opts: { format?: 'text' | 'bytes' | 'stream' } = {}): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
    const res = await this.#http.request('GET', this.#base, { query: { path }, unbounded: true });
    if (opts.format === 'stream') return res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return opts.format === 'bytes' ? bytes : new TextDecoder().decode(bytes);
  }

  /**
   * Writes a whole file (created with missing parents; replaced atomically).
   * Pass a ReadableStream or Blob for large files: they stream without being held in memory.
   */
  async write(path: string, data: string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | ReadonlyArray<Uint8Array>): Promise<FileEntry> {
    let body: Body;
    if (typeof data === 'string' || data instanceof Uint8Array) body = toBytes(data) as Body;
    else if (Array.isArray(data)) body = concat(data as Uint8Array[]) as Body;
    else body = data as Body;
    return this.#http.json<FileEntry>('PUT', this.#base, { query: { path }, body, headers: { 'content-type': 'application/octet-stream' }, unbounded: true });
  }

  /** Entries under `path`, `depth` levels deep (default 1). */
  async list(path: string, opts: { depth?: number } = {}): Promise<FileEntry[]> {
    return (await this.#http.json<{ entries: FileEntry[] }>('GET', `${this.#base}/list`, { query: { path, depth: opts.depth } })).entries;
  }

  async stat(path: string): Promise<FileEntry> {
    return this.#http.json<FileEntry>('GET', `${this.#base}/stat`, { query: { path } });
  }

  async exists(path: string): Promise<boolean> {
    return (await this.#http.json<{ exists: boolean }>('GET', `${this.#base}/exists`, { query: { path } })).exists;
  }

  /** Makes a directory and its missing parents; fine if it exists. */
  async makeDir(path: string): Promise<FileEntry> {
    return this.#http.json<FileEntry>('POST', `${this.#base}/mkdir`, { json: { path } });
  }

  /** Renames `from` to `to` (refuses to replace an existing `to`). */
  async move(from: string, to: string): Promise<FileEntry> {
    return this.#http.json<FileEntry>('POST', `${this.#base}/move`, { json: { from, to } });
  }

  /** Removes a file or a whole directory tree (symlinks are removed, never followed). */
  async remove(path: string): Promise<void> {
    await this.#http.request('DELETE', this.#base, { query: { path } });
  }

  /**
   * Calls `onEvent` for each change under the directory until stopped.
   * Resolves once the watch is in place, so changes made after it are seen.
   */
  async watchDir(path: string, onEvent: (e: WatchEvent) => void, opts: { recursive?: boolean } = {}): Promise<WatchHandle> {
    const ctl = new AbortController();
    const res = await this.#http.request('GET', `${this.#base}/watch`, { query: { path, recursive: opts.recursive ?? false }, signal: ctl.signal, unbounded: true });
    const done = (async () => {
      try {
        for await (const e of readNdjson<WatchEvent | { type: 'ready' } | { type: 'error'; code: string; message: string }>(res)) {
          // The server ends the stream with an error line when the watch fails (the sandbox ended, …).
          if (e.type === 'error') throw eventError(e);
          if (e.type !== 'ready') onEvent(e);
        }
      } catch (err) {
        if (!ctl.signal.aborted) throw err;
      }
    })();
    done.catch(() => undefined); // a watch whose `done` nobody awaits must not raise an unhandled rejection
    return {
      done,
      stop: async () => {
        ctl.abort();
        await done.catch(() => undefined);
      },
    };
  }
}
