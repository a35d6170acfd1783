/**
 * Holds an archive's bytes for random access (zip needs its central
 * directory, at the end, before anything else). In memory up to `memoryBytes`,
 * then in a temp file under `tmpDir` that is unlinked right after it is
 * opened: only the descriptor refers to it, so nothing is left on disk even if
 * the process dies, and `close()` gives the space back.
 *
 * `append` is synchronous because a detector's `update` is; the writes go to
 * the page cache.
 */
import { closeSync, mkdtempSync, openSync, read, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const EMPTY = Buffer.alloc(0);
const BLOCK = 64 * 1024;
/** Bytes per read from the temp file (each read is a thread-pool round trip). */
const READ_BYTES = 512 * 1024;

/** Random access to a spooled archive. */
export interface Source {
  readonly size: number;
  /** Up to `len` bytes at `pos` (fewer at the end of the data). */
  read(pos: number, len: number): Promise<Buffer>;
  /** The bytes [pos, pos + len), in pieces of at most `piece` bytes, read as they are consumed. */
  chunks(pos: number, len: number, piece?: number): AsyncGenerator<Uint8Array>;
}

export interface SpoolOptions {
  readonly memoryBytes: number;
  readonly maxBytes: number;
  readonly tmpDir: string;
}

export class Spool implements Source {
  readonly #options: SpoolOptions;
  #mem: Buffer = Buffer.alloc(0);
  #fd = -1;
  #size = 0;
  /** Bytes offered beyond maxBytes (not kept). */
  dropped = 0;
  #closed = false;

  constructor(options: SpoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#size;
  }

  /** Keeps a copy of `chunk`; beyond maxBytes, counts it in `dropped`. Throws on I/O errors (disk full). */
  append(chunk: Uint8Array): void {
    if (this.#closed) return;
    const room = this.#options.maxBytes - this.#size;
    if (chunk.length > room) {
      this.dropped += chunk.length - Math.max(0, room);
      chunk = chunk.subarray(0, Math.max(0, room));
    }
    if (chunk.length === 0) return;
    if (this.#fd < 0 && this.#size + chunk.length > this.#options.memoryBytes) this.#spill();
    if (this.#fd >= 0) {
      for (let off = 0; off < chunk.length; ) off += writeSync(this.#fd, chunk, off, chunk.length - off, this.#size + off);
    } else {
      if (this.#size + chunk.length > this.#mem.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.#options.memoryBytes, Math.max(this.#mem.length * 2, this.#size + chunk.length, 4096)));
        this.#mem.copy(grown, 0, 0, this.#size);
        this.#mem = grown;
      }
      this.#mem.set(chunk, this.#size);
    }
    this.#size += chunk.length;
  }

  #spill(): void {
    const dir = mkdtempSync(join(this.#options.tmpDir, 'warden-scan-'));
    const path = join(dir, 'archive');
    try {
      this.#fd = openSync(path, 'wx+', 0o600);
    } finally {
      // Unlinked at once: only the descriptor keeps it.
      try {
        unlinkSync(path);
      } catch {
        // not created
      }
      rmdirSync(dir);
    }
    for (let off = 0; off < this.#size; ) off += writeSync(this.#fd, this.#mem, off, this.#size - off, off);
    this.#mem = Buffer.alloc(0);
  }

  /** True when the bytes went to a temp file. */
  get spilled(): boolean {
    return this.#fd >= 0;
  }

  async read(pos: number, len: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(len, this.#size - pos));
    if (n === 0 || pos < 0) return EMPTY;
    if (this.#fd < 0) return this.#mem.subarray(pos, pos + n);
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = await readAt(this.#fd, buf, got, n - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  }

  async *chunks(pos: number, len: number, piece = BLOCK): AsyncGenerator<Uint8Array> {
    const end = Math.min(this.#size, pos + Math.max(0, len));
    for (let at = Math.max(0, pos); at < end; ) {
      const block = await this.read(at, Math.min(Math.max(piece, READ_BYTES), end - at));
      if (block.length === 0) return;
      at += block.length;
      for (let off = 0; off < block.length; off += piece) yield block.subarray(off, off + piece);
    }
  }

  /** Frees the memory and the temp file's space. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#mem = Buffer.alloc(0);
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

function readAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}
