/**
 * Byte streams for the archive walkers: a pull reader over chunks (tar
 * headers, member bodies as sub-streams) and zlib decompression that only
 * runs as fast as its output is consumed, so a caller that stops reading stops
 * the work.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip, createInflateRaw } from 'node:zlib';

const EMPTY = new Uint8Array(0);
/** zlib output pieces. */
const OUTPUT_CHUNK = 64 * 1024;

/**
 * Reads exact amounts from a stream of chunks. Bytes handed out may share
 * memory with the source's chunks: copy what you keep.
 */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #eof = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      if (this.#eof) return false;
      const r = await this.#it.next();
      if (r.done === true) {
        this.#eof = true;
        return false;
      }
      this.#buf = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /** The next `n` bytes; fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return EMPTY;
    if (this.#buf.length - this.#pos >= n) {
      const out = this.#buf.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      this.position += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n && (await this.#fill())) {
      const take = Math.min(n - got, this.#buf.length - this.#pos);
      out.set(this.#buf.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
    }
    this.position += got;
    return out.subarray(0, got);
  }

  /** Yields the next `n` bytes (fewer at the end) as they arrive. A consumer may stop early; `skip` the rest. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0 && (await this.#fill())) {
      const k = Math.min(left, this.#buf.length - this.#pos);
      const out = this.#buf.subarray(this.#pos, this.#pos + k);
      this.#pos += k;
      this.position += k;
      left -= k;
      yield out;
    }
  }

  /** Drops the next `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0 && (await this.#fill())) {
      const k = Math.min(left, this.#buf.length - this.#pos);
      this.#pos += k;
      this.position += k;
      left -= k;
    }
    return n - left;
  }

  /** Everything that is left. */
  rest(): AsyncGenerator<Uint8Array> {
    return this.take(Number.MAX_SAFE_INTEGER);
  }

  /** Stops the source (a decompressor, a file read). */
  async close(): Promise<void> {
    this.#eof = true;
    await this.#it.return?.();
  }
}

/** Decompressed bytes, with how much compressed input they took so far (for expansion ratios). */
export interface Decoded {
  readonly data: AsyncGenerator<Uint8Array>;
  /** Compressed bytes fed to zlib so far. */
  readonly consumed: () => number;
}

/**
 * Inflates `input` (raw deflate for zip, gzip with all its members). Output
 * is produced only as it is read: a consumer that stops (returns from the
 * iteration) destroys zlib and stops reading input. Corrupt or truncated
 * input makes the iteration throw after the bytes that did decode.
 */
export function inflate(input: AsyncIterable<Uint8Array>, format: 'raw' | 'gzip'): Decoded {
  let consumed = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input) {
      consumed += chunk.length;
      yield chunk;
    }
  }
  async function* run(): AsyncGenerator<Uint8Array> {
    const z = format === 'raw' ? createInflateRaw({ chunkSize: OUTPUT_CHUNK }) : createGunzip({ chunkSize: OUTPUT_CHUNK });
    // Small read-ahead so `consumed` tracks what zlib really needed.
    const src = Readable.from(counted(), { objectMode: false, highWaterMark: 1 });
    pipeline(src, z, () => {
      // Errors reach the consumer through z's iterator; an early stop is not an error.
    });
    try {
      for await (const out of z as AsyncIterable<Buffer>) yield out;
    } finally {
      z.destroy();
      src.destroy();
    }
  }
  return { data: run(), consumed: () => consumed };
}
