/**
 * Content-addressed blobs: `blobs/<aa>/<sha256>`, one regular file per
 * distinct content, mode 0444, owned by the store. A blob appears only by
 * rename of a complete temp file, so a crash never leaves a partial one
 * under its final name; view trees hard-link blobs, so they must stay on
 * the store's filesystem and are never modified in place.
 *
 * Small files (the vast majority of a source tree) go through synchronous
 * calls: for 100k files that is several times faster than promise-based fs
 * calls, which queue on libuv's 4 threads. Callers run them in time slices
 * (TimeSlicer) so the event loop never stalls for long; big files stream
 * asynchronously.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '@warden/protocol';
import type { TimeSlicer } from './concurrency.js';
import { sourceError, storeError } from './errors.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** Files up to this size are read whole, synchronously; bigger ones stream. */
const SMALL_FILE = 256 << 10;
const CHUNK = 256 << 10;
const OPEN_SOURCE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
export const BLOB_MODE = 0o444;

export interface IngestOptions {
  /** Private directory on the store's filesystem for temp files. */
  readonly tmpDir: string;
  /** How the file is named in messages (a codebase path, never a host path the caller did not give). */
  readonly label: string;
  /**
   * The source is a private temp file the store may take over: when it has a
   * single link it is renamed into place instead of copied.
   */
  readonly consume?: boolean;
  /** Content must hash to this (and have this size), or ingest fails with E_CODEBASE_INVALID. */
  readonly expect?: { readonly sha256: string; readonly size: number };
}

export interface Ingested {
  readonly sha256: string;
  readonly size: number;
  /** Mode of the source file as opened (all bits; callers mask). */
  readonly mode: number;
  /** True if this call wrote a new blob. */
  readonly written: boolean;
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

function notRegular(label: string): WardenError {
  return new WardenError('E_CODEBASE_INVALID', `Could not read ${label}: it is no longer a regular file. Make sure the source is not changing, then add it again.`, {
    details: { problems: [`${label}: not a regular file`] },
  });
}

function mismatch(label: string, expect: { sha256: string; size: number }, sha256: string, size: number): WardenError {
  return new WardenError(
    'E_CODEBASE_INVALID',
    `The content given for ${label} does not match its entry: expected sha256 ${expect.sha256} and ${expect.size} bytes, got ${sha256} and ${size} bytes. Rebuild the entry list from the files as they are now.`,
    { details: { problems: [`${label}: content does not match sha256`] } },
  );
}

function tempName(tmpDir: string): string {
  return join(tmpDir, `blob-${randomBytes(8).toString('hex')}`);
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

export class BlobStore {
  /** `<root>/blobs`. */
  readonly dir: string;
  readonly #fanout = new Set<string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Absolute path of a blob (which may not exist). Throws E_INVALID_ARGUMENT for a malformed sha256. */
  path(sha256: string): string {
    if (!isSha256(sha256)) {
      throw new WardenError('E_INVALID_ARGUMENT', `sha256 must be 64 lower-case hex digits, got ${JSON.stringify(String(sha256).slice(0, 80))}.`, { details: { argument: 'sha256' } });
    }
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /**
   * Whether the blob is stored with this size. A wrong size can only come
   * from a crash before the data reached the disk; it counts as absent so
   * the next ingest replaces it.
   */
  has(sha256: string, size: number): boolean {
    try {
      const st = lstatSync(this.path(sha256), { throwIfNoEntry: false });
      return st !== undefined && st.isFile() && st.size === size;
    } catch (err) {
      throw storeError(`check blob ${sha256}`, err);
    }
  }

  /**
   * Hashes a host file and stores its content unless already present, in
   * one read. The source is opened with O_NOFOLLOW|O_NONBLOCK and must be a
   * regular file, so a symlink or fifo swapped in after the walk looked at
   * it is refused instead of followed or waited on.
   */
  async ingest(source: string, opts: IngestOptions): Promise<Ingested> {
    return this.ingestSmallSync(source, opts) ?? (await this.#ingestLarge(source, opts));
  }

  /** The synchronous path of {@link ingest}; undefined when the file is too big for it (call ingest). */
  ingestSmallSync(source: string, opts: IngestOptions): Ingested | undefined {
    let fd: number;
    try {
      fd = openSync(source, OPEN_SOURCE);
    } catch (err) {
      throw sourceError(opts.label, err);
    }
    let content: Buffer;
    let mode: number;
    let nlink: number;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw notRegular(opts.label);
      if (st.size > SMALL_FILE) return undefined;
      mode = st.mode;
      nlink = st.nlink;
      // One byte of headroom so a file read to its stat size comes up short at once.
      let buf = Buffer.allocUnsafe(st.size + 1);
      let size = 0;
      for (;;) {
        if (size === buf.length) {
          if (buf.length > SMALL_FILE) return undefined; // grew while being read: stream it instead
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, size);
          buf = bigger;
        }
        const want = buf.length - size;
        const n = readSync(fd, buf, size, want, null);
        size += n;
        // A regular file's read comes up short only at end of file: saves a second read per file.
        if (n < want) break;
      }
      content = buf.subarray(0, size);
    } catch (err) {
      if (err instanceof WardenError) throw err;
      throw sourceError(opts.label, err);
    } finally {
      closeSync(fd);
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    const size = content.length;
    if (opts.expect !== undefined && (opts.expect.sha256 !== sha256 || opts.expect.size !== size)) throw mismatch(opts.label, opts.expect, sha256, size);
    if (this.has(sha256, size)) return { sha256, size, mode, written: false };
    const dest = this.path(sha256);
    this.#ensureFanout(sha256);
    try {
      if (opts.consume === true && nlink === 1) {
        // Private single-link temp file, checked above: take it over instead of copying.
        const fdc = openSync(source, OPEN_SOURCE);
        try {
          fchmodSync(fdc, BLOB_MODE);
        } finally {
          closeSync(fdc);
        }
        renameSync(source, dest);
      } else {
        const tmp = tempName(opts.tmpDir);
        const out = openSync(tmp, 'wx', 0o600);
        try {
          for (let off = 0; off < size; ) off += writeSync(out, content, off, size - off);
          // Explicit chmod: the umask must not decide whether sandboxes can read blobs.
          fchmodSync(out, BLOB_MODE);
        } catch (err) {
          closeSync(out);
          unlinkSync(tmp);
          throw err;
        }
        closeSync(out);
        renameSync(tmp, dest);
      }
    } catch (err) {
      throw storeError(`store blob ${sha256}`, err);
    }
    return { sha256, size, mode, written: true };
  }

  /** Streams a big file: hashed and copied to a temp file in one pass, or renamed into place when consumed. */
  async #ingestLarge(source: string, opts: IngestOptions): Promise<Ingested> {
    let src: FileHandle;
    try {
      src = await open(source, OPEN_SOURCE);
    } catch (err) {
      throw sourceError(opts.label, err);
    }
    let tmp: FileHandle | undefined;
    let tmpPath: string | undefined;
    try {
      const st = await src.stat().catch((err: unknown) => Promise.reject(sourceError(opts.label, err)));
      if (!st.isFile()) throw notRegular(opts.label);
      const consume = opts.consume === true && st.nlink === 1;
      if (!consume) {
        tmpPath = tempName(opts.tmpDir);
        tmp = await open(tmpPath, 'wx', 0o600).catch((err: unknown) => Promise.reject(storeError('create a temp file for a blob', err)));
      }
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(CHUNK);
      let size = 0;
      for (;;) {
        let n: number;
        try {
          ({ bytesRead: n } = await src.read(buf, 0, buf.length, null));
        } catch (err) {
          throw sourceError(opts.label, err);
        }
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        size += n;
        if (tmp !== undefined) await writeAll(tmp, buf.subarray(0, n)).catch((err: unknown) => Promise.reject(storeError('write a blob', err)));
      }
      const sha256 = hash.digest('hex');
      if (opts.expect !== undefined && (opts.expect.sha256 !== sha256 || opts.expect.size !== size)) throw mismatch(opts.label, opts.expect, sha256, size);
      if (this.has(sha256, size)) return { sha256, size, mode: st.mode, written: false };
      const dest = this.path(sha256);
      this.#ensureFanout(sha256);
      try {
        if (consume) {
          await src.chmod(BLOB_MODE);
          await rename(source, dest);
        } else {
          await tmp!.chmod(BLOB_MODE);
          await tmp!.close();
          tmp = undefined;
          await rename(tmpPath!, dest);
          tmpPath = undefined;
        }
      } catch (err) {
        throw storeError(`store blob ${sha256}`, err);
      }
      return { sha256, size, mode: st.mode, written: true };
    } finally {
      await src.close().catch(() => undefined);
      if (tmp !== undefined) await tmp.close().catch(() => undefined);
      if (tmpPath !== undefined) await unlink(tmpPath).catch(() => undefined);
    }
  }

  #ensureFanout(sha256: string): void {
    const prefix = sha256.slice(0, 2);
    if (this.#fanout.has(prefix)) return;
    try {
      mkdirSync(join(this.dir, prefix), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError('create a blob directory', err);
    }
    this.#fanout.add(prefix);
  }

  /** Removes every blob whose sha256 is not in `keep`. The caller must hold the store's exclusive lock. */
  async collect(keep: ReadonlySet<string>, slicer: TimeSlicer): Promise<{ removedBlobs: number; removedBytes: number; keptBlobs: number }> {
    let removedBlobs = 0;
    let removedBytes = 0;
    let keptBlobs = 0;
    for (const prefix of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const sub = join(this.dir, prefix);
      for (const name of readdirSync(sub)) {
        if (slicer.due()) await slicer.yield();
        if (!SHA256.test(name) || !name.startsWith(prefix)) continue;
        if (keep.has(name)) {
          keptBlobs++;
          continue;
        }
        const p = join(sub, name);
        try {
          const st = lstatSync(p);
          unlinkSync(p);
          removedBlobs++;
          removedBytes += st.size;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(`remove blob ${name}`, err);
        }
      }
    }
    return { removedBlobs, removedBytes, keptBlobs };
  }
}
