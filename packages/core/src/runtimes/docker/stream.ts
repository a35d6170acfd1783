/**
 * Docker's multiplexed attach stream (no TTY): frames of an 8-byte header
 * (stream: 1 stdout, 2 stderr; three zero bytes; big-endian u32 length) and
 * that many bytes. `Demux` passes stdout's bytes through as its readable side
 * (the agent's protocol) and hands stderr's to a callback (diagnostics).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { WardenError } from '@warden/protocol';

const HEADER = 8;
const STDOUT = 1;
const STDERR = 2;

export class Demux extends Transform {
  readonly #onStderr: (chunk: Buffer) => void;
  /** Bytes of the current frame's payload still to come, and where they go. */
  #left = 0;
  #stream = 0;
  /** A header split across chunks. */
  #partial: Buffer = Buffer.alloc(0);

  constructor(onStderr: (chunk: Buffer) => void) {
    super();
    this.#onStderr = onStderr;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#left === 0) {
        const need = HEADER - this.#partial.length;
        if (chunk.length - at < need) {
          this.#partial = Buffer.concat([this.#partial, chunk.subarray(at)]);
          break;
        }
        const header = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk.subarray(at, at + need)]) : chunk.subarray(at, at + HEADER);
        at += need;
        this.#partial = Buffer.alloc(0);
        const stream = header.readUInt8(0);
        if ((stream !== STDOUT && stream !== STDERR && stream !== 0) || header.readUIntBE(1, 3) !== 0) {
          done(new WardenError('E_AGENT_PROTOCOL', `The container's attach stream is not multiplexed as expected (header ${header.toString('hex')}).`));
          return;
        }
        this.#stream = stream;
        this.#left = header.readUInt32BE(4);
        continue;
      }
      const n = Math.min(this.#left, chunk.length - at);
      const part = chunk.subarray(at, at + n);
      at += n;
      this.#left -= n;
      if (this.#stream === STDOUT) this.push(part);
      else if (this.#stream === STDERR) this.#onStderr(part);
    }
    done();
  }
}
