/**
 * The output of one session command: both streams scanned for their end
 * markers, collected up to the output cap and streamed to the callbacks.
 * Pure: no I/O, no timers.
 */
import { MarkerScanner, markerToken, parseStdoutTrailer } from './framing.js';
import type { SecretMasker, StreamMasker } from '../secrets/mask.js';

export interface CommandOutputOptions {
  readonly nonce: string;
  readonly maxOutputBytes: number;
  readonly onStdout?: ((data: Buffer) => void) | undefined;
  readonly onStderr?: ((data: Buffer) => void) | undefined;
  /** Called once when the cap is passed; output past it is dropped but still scanned for the markers. */
  readonly onLimit?: () => void;
  /** Secret values to mask (after the markers are taken out, so framing is unaffected). Default: none. */
  readonly masker?: SecretMasker;
}

export class CommandOutput {
  readonly #opts: CommandOutputOptions;
  readonly #stdout: MarkerScanner;
  readonly #stderr: MarkerScanner;
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  #bytes = 0;
  #truncated = false;
  readonly #outMask: StreamMasker | undefined;
  readonly #errMask: StreamMasker | undefined;
  #masksFlushed = false;
  /** Resolves when both markers arrived. */
  readonly complete: Promise<void>;
  #resolve!: () => void;

  constructor(opts: CommandOutputOptions) {
    this.#opts = opts;
    const token = markerToken(opts.nonce);
    this.#stdout = new MarkerScanner(token);
    this.#stderr = new MarkerScanner(token);
    if (opts.masker && !opts.masker.empty) {
      this.#outMask = opts.masker.stream();
      this.#errMask = opts.masker.stream();
    }
    this.complete = new Promise<void>((resolve) => (this.#resolve = resolve));
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  get done(): boolean {
    return this.#stdout.done && this.#stderr.done;
  }

  /** `$?` of the command and the shell's working directory after it, from the stdout marker. */
  get exit(): { exitCode: number | null; cwd: string | undefined } {
    const t = this.#stdout.trailer;
    return t ? parseStdoutTrailer(t) : { exitCode: null, cwd: undefined };
  }

  stdout(chunk: Buffer): void {
    this.#keep(this.#mask(this.#outMask, this.#stdout.push(chunk)), this.#out, this.#opts.onStdout);
    this.#check();
  }

  stderr(chunk: Buffer): void {
    this.#keep(this.#mask(this.#errMask, this.#stderr.push(chunk)), this.#err, this.#opts.onStderr);
    this.#check();
  }

  /** The streams ended without markers (the shell went away): what was held back is output too. */
  flush(): void {
    this.#keep(this.#mask(this.#outMask, this.#stdout.flush()), this.#out, this.#opts.onStdout);
    this.#keep(this.#mask(this.#errMask, this.#stderr.flush()), this.#err, this.#opts.onStderr);
    this.#flushMasks();
  }

  #mask(m: StreamMasker | undefined, data: Buffer): Buffer {
    return m && data.length > 0 ? m.push(data) : data;
  }

  /** The command's output is over: what the maskers held back goes out (masked). */
  #flushMasks(): void {
    if (this.#masksFlushed) return;
    this.#masksFlushed = true;
    if (this.#outMask) this.#keep(this.#outMask.flush(), this.#out, this.#opts.onStdout);
    if (this.#errMask) this.#keep(this.#errMask.flush(), this.#err, this.#opts.onStderr);
  }

  text(): { stdout: string; stderr: string } {
    return { stdout: Buffer.concat(this.#out).toString('utf8'), stderr: Buffer.concat(this.#err).toString('utf8') };
  }

  #keep(data: Buffer, sink: Buffer[], cb: ((d: Buffer) => void) | undefined): void {
    if (data.length === 0 || this.#truncated) return;
    const room = this.#opts.maxOutputBytes - this.#bytes;
    const piece = data.length > room ? data.subarray(0, room) : data;
    this.#bytes += piece.length;
    if (piece.length > 0) {
      sink.push(piece);
      cb?.(piece);
    }
    if (data.length > room) {
      this.#truncated = true;
      this.#opts.onLimit?.();
    }
  }

  #check(): void {
    if (this.done) {
      this.#flushMasks();
      this.#resolve();
    }
  }
}
