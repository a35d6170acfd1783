/**
 * What one cell produced: its output and results, collected up to the
 * output cap and streamed to the callbacks in the order they arrived.
 * Pure: no I/O, no timers.
 */
import type { CodeError, CodeResult } from '@warden/protocol';
import { resultBytes } from './framing.js';
import type { SecretMasker } from '../secrets/mask.js';

export interface CellOutputOptions {
  readonly maxOutputBytes: number;
  readonly onStdout?: ((text: string) => void) | undefined;
  readonly onStderr?: ((text: string) => void) | undefined;
  readonly onResult?: ((result: CodeResult) => void) | undefined;
  /** Called once when the cap is passed; output and results past it are dropped. */
  readonly onLimit?: () => void;
  /** Secret values to mask in text, results and errors. Default: none. */
  readonly masker?: SecretMasker | undefined;
}

/** A user's callback must not break the stream of events, whatever it throws. */
function call<T>(fn: ((v: T) => void) | undefined, v: T): void {
  if (!fn) return;
  try {
    fn(v);
  } catch {
    // Documented: exceptions thrown by callbacks are ignored.
  }
}

type TextMask = ReturnType<SecretMasker['textStream']>;

export class CellOutput {
  readonly #opts: CellOutputOptions;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly results: CodeResult[] = [];
  /** The exception the interpreter reported, if any. */
  error: CodeError | undefined;
  #bytes = 0;
  #truncated = false;
  readonly #masks: { readonly stdout: TextMask; readonly stderr: TextMask } | undefined;

  constructor(opts: CellOutputOptions) {
    this.#opts = opts;
    if (opts.masker && !opts.masker.empty) this.#masks = { stdout: opts.masker.textStream(), stderr: opts.masker.textStream() };
  }

  /** `v` with the secret values masked in every string (for errors). */
  masked<T>(v: T): T {
    return this.#opts.masker ? this.#opts.masker.deep(v) : v;
  }

  /** The cell is over: text the maskers held back (it might have begun a secret) goes out, masked. */
  finish(): void {
    const masks = this.#masks;
    if (!masks) return;
    for (const stream of ['stdout', 'stderr'] as const) this.#text(stream, masks[stream].flush());
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  text(stream: 'stdout' | 'stderr', text: string): void {
    this.#text(stream, this.#masks ? this.#masks[stream].push(text) : text);
  }

  #text(stream: 'stdout' | 'stderr', text: string): void {
    if (this.#truncated || text.length === 0) return;
    const bytes = Buffer.byteLength(text);
    let piece = text;
    if (this.#bytes + bytes > this.#opts.maxOutputBytes) {
      // Keep what fits; a character cut in two becomes U+FFFD.
      piece = Buffer.from(text).subarray(0, this.#opts.maxOutputBytes - this.#bytes).toString('utf8');
      this.#limit();
    }
    this.#bytes += bytes;
    if (piece.length === 0) return;
    if (stream === 'stdout') {
      this.stdout.push(piece);
      call(this.#opts.onStdout, piece);
    } else {
      this.stderr.push(piece);
      call(this.#opts.onStderr, piece);
    }
  }

  result(raw: CodeResult): void {
    if (this.#truncated) return;
    const r = this.masked(raw);
    const bytes = resultBytes(r);
    if (this.#bytes + bytes > this.#opts.maxOutputBytes) {
      this.#limit();
      return;
    }
    this.#bytes += bytes;
    this.results.push(r);
    call(this.#opts.onResult, r);
  }

  #limit(): void {
    if (this.#truncated) return;
    this.#truncated = true;
    this.#opts.onLimit?.();
  }
}
