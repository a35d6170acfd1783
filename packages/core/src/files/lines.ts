/**
 * Splits the file helper's stdout into JSON lines. The helper only emits
 * ASCII escapes plus well-formed UTF-8, so decoding each line is exact. Its
 * output is untrusted: an overlong or malformed line is a protocol error.
 */
import { WardenError } from '@warden/protocol';

/** A line holds at most a few escaped paths (PATH_MAX each, 6 bytes per escaped byte). */
export const MAX_LINE_BYTES = 256 * 1024;

export function helperProtocolError(what: string): WardenError {
  return new WardenError('E_AGENT_PROTOCOL', `The file helper in the sandbox sent ${what}; the sandbox was stopped. This is a bug or a compromised sandbox: report it with the sandbox id.`);
}

export class JsonLines {
  #parts: Buffer[] = [];
  #bytes = 0;
  readonly #onValue: (value: unknown) => void;

  constructor(onValue: (value: unknown) => void) {
    this.#onValue = onValue;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#bytes = 0;
      start = nl + 1;
      this.#emit(line);
    }
    if (start < chunk.length) {
      this.#bytes += chunk.length - start;
      if (this.#bytes > MAX_LINE_BYTES) throw helperProtocolError(`a line longer than ${MAX_LINE_BYTES} bytes`);
      this.#parts.push(Buffer.from(chunk.subarray(start)));
    }
  }

  /** The helper has exited: its output must end with a complete line. */
  end(): void {
    if (this.#bytes > 0) throw helperProtocolError('output that ends in the middle of a line');
  }

  #emit(line: Buffer): void {
    if (line.length > MAX_LINE_BYTES) throw helperProtocolError(`a line longer than ${MAX_LINE_BYTES} bytes`);
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      throw helperProtocolError('a line that is not JSON');
    }
    this.#onValue(value);
  }
}
