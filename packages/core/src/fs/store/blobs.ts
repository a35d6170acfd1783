/**
 * Content-addressed blobs: `blobs/<aa>/<sha256>`, one regular file per
 * distinct content, mode 0444, owned by the store. A blob appears only by
 * rename of a complete temp file, so a crash never leaves a partial one
 * under its final name; view trees hard-link blobs, so they must stay on
 * the store's filesystem and are never modified in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '@warden/protocol';
import { sourceError, storeError } from './errors.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** Files up to this size are read into memory before deciding whether to write them (most are already stored, or small). */
const BUFFER_LIMIT = 1 << 20;
const CHUNK = 256 << 10;
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
  async has(sha256: string, size: number): Promise<boolean> {
    try {
      const st = await lstat(this.path(sha256));
      return st.isFile() && st.size === size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(`check blob ${sha256}`, err);
    }
  }

  /**
   * Hashes a host file and stores its content unless already present, in
   * one read: small files are buffered, large ones are copied to a temp file
   * while hashed. The source is opened with O_NOFOLLOW|O_NONBLOCK and must be
   * a regular file, so a symlink or fifo swapped in after the walk looked at
   * it is refused instead of followed or waited on.
   */
  async ingest(source: string, opts: IngestOptions): Promise<Ingested> {
    let src: FileHandle;
    try {
      src = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      throw sourceError(opts.label, err);
    }
    let tmp: FileHandle | undefined;
    let tmpPath: string | undefined;
    try {
      const st = await src.stat().catch((err: unknown) => Promise.reject(sourceError(opts.label, err)));
      if (!st.isFile()) {
        throw new WardenError('E_CODEBASE_INVALID', `Could not read ${opts.label}: it is no longer a regular file. Make sure the source is not changing, then add it again.`, {
          details: { problems: [`${opts.label}: not a regular file`] },
        });
      }
      const consume = opts.consume === true && st.nlink === 1;
      const openTemp = async (): Promise<FileHandle> => {
        tmpPath = join(opts.tmpDir, `blob-${randomBytes(8).toString('hex')}`);
        try {
          return await open(tmpPath, 'wx', 0o600);
        } catch (err) {
          throw storeError('create a temp file for a blob', err);
        }
      };
      const hash = createHash('sha256');
      let size = 0;
      let kept: Buffer[] = [];
      let spare: Buffer | undefined;
      let want = Math.min(CHUNK, Math.max(16, st.size + 1));
      for (;;) {
        const buf = spare ?? Buffer.allocUnsafe(want);
        let n: number;
        try {
          ({ bytesRead: n } = await src.read(buf, 0, buf.length, null));
        } catch (err) {
          throw sourceError(opts.label, err);
        }
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        hash.update(chunk);
        size += n;
        if (consume) {
          spare ??= Buffer.allocUnsafe(CHUNK);
        } else if (tmp !== undefined) {
          await writeAll(tmp, chunk).catch((err: unknown) => Promise.reject(storeError('write a blob', err)));
        } else if (size <= BUFFER_LIMIT) {
          kept.push(chunk);
        } else {
          tmp = await openTemp();
          for (const c of [...kept, chunk]) await writeAll(tmp, c).catch((err: unknown) => Promise.reject(storeError('write a blob', err)));
          kept = [];
          spare = Buffer.allocUnsafe(CHUNK);
        }
        // A short read of a regular file almost always means end of file: confirm with a tiny read.
        want = n < buf.length ? 16 : CHUNK;
      }
      const sha256 = hash.digest('hex');
      if (opts.expect !== undefined && (opts.expect.sha256 !== sha256 || opts.expect.size !== size)) {
        throw new WardenError(
          'E_CODEBASE_INVALID',
          `The content given for ${opts.label} does not match its entry: expected sha256 ${opts.expect.sha256} and ${opts.expect.size} bytes, got ${sha256} and ${size} bytes. Rebuild the entry list from the files as they are now.`,
          { details: { problems: [`${opts.label}: content does not match sha256`] } },
        );
      }
      const mode = st.mode;
      if (await this.has(sha256, size)) return { sha256, size, mode, written: false };
      const dest = this.path(sha256);
      await this.#ensureFanout(sha256.slice(0, 2));
      try {
        if (consume) {
          // Private single-link temp file: take it over instead of copying.
          await src.chmod(BLOB_MODE);
          await src.close();
          await rename(source, dest);
        } else {
          tmp ??= await openTemp();
          for (const c of kept) await writeAll(tmp, c);
          // Explicit chmod: the umask must not decide whether sandboxes can read blobs.
          await tmp.chmod(BLOB_MODE);
          await tmp.close();
          tmp = undefined;
          await rename(tmpPath!, dest);
          tmpPath = undefined;
        }
      } catch (err) {
        throw storeError(`store blob ${sha256}`, err);
      }
      return { sha256, size, mode, written: true };
    } finally {
      await src.close().catch(() => undefined); // closing twice after a consume is harmless
      if (tmp !== undefined) await tmp.close().catch(() => undefined);
      if (tmpPath !== undefined) await unlink(tmpPath).catch(() => undefined);
    }
  }

  async #ensureFanout(prefix: string): Promise<void> {
    if (this.#fanout.has(prefix)) return;
    await mkdir(join(this.dir, prefix), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw storeError('create a blob directory', err);
    });
    this.#fanout.add(prefix);
  }

  /** Removes every blob whose sha256 is not in `keep`. The caller must hold the store's exclusive lock. */
  async collect(keep: ReadonlySet<string>): Promise<{ removedBlobs: number; removedBytes: number; keptBlobs: number }> {
    let removedBlobs = 0;
    let removedBytes = 0;
    let keptBlobs = 0;
    for (const prefix of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const sub = join(this.dir, prefix);
      for (const name of await readdir(sub)) {
        if (!SHA256.test(name) || !name.startsWith(prefix)) continue;
        if (keep.has(name)) {
          keptBlobs++;
          continue;
        }
        const p = join(sub, name);
        const st = await lstat(p).catch(() => undefined);
        try {
          await unlink(p);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw storeError(`remove blob ${name}`, err);
        }
        removedBlobs++;
        removedBytes += st?.size ?? 0;
      }
    }
    return { removedBlobs, removedBytes, keptBlobs };
  }
}
