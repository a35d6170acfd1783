/** The first bytes of a file, collected across chunks of any size (a bounded copy). */
import { HEAD_BYTES } from './sniff.js';

export class HeadBuffer {
  readonly #buf: Uint8Array;
  #len = 0;

  constructor(limit = HEAD_BYTES) {
    this.#buf = new Uint8Array(limit);
  }

  get full(): boolean {
    return this.#len === this.#buf.length;
  }

  /** Copies what still fits from `chunk`; returns how many bytes it took. */
  push(chunk: Uint8Array): number {
    const take = Math.min(chunk.length, this.#buf.length - this.#len);
    if (take > 0) {
      this.#buf.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.#len);
      this.#len += take;
    }
    return take;
  }

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
