/**
 * Masking of known secret values in what a sandbox prints: command output
 * returned to callers, session output, code cell output. Each value is
 * matched as written, URL-encoded and base64 (with and without padding,
 * and base64url), as the audit log does, and replaced by `[MASKED]`.
 *
 * Output arrives in chunks, and a secret may be split across them: a stream
 * masker holds back the end of a chunk for as long as it could be the start
 * of a secret (at most the longest form less one byte), so nothing is
 * released until it is known not to be part of one. Pure.
 *
 * This stops secrets from being shown by accident. It is not a boundary
 * against code that holds a secret and wants it out: reversed, split by
 * other output or encoded any other way, it passes. Use header injection for
 * secrets a sandbox must not be able to read.
 */
import { StringDecoder } from 'node:string_decoder';
import { maskValues, MIN_MASKED_VALUE_CHARS } from '../audit/redact.js';

export const MASK = '[MASKED]';
const MASK_BYTES = Buffer.from(MASK);

/** The byte strings that stand for each value (as the audit log's maskValues sees them). */
function formsOf(values: Iterable<string>): Buffer[] {
  const forms = new Set<string>();
  for (const v of values) {
    if (v.length < MIN_MASKED_VALUE_CHARS) continue;
    const b64 = Buffer.from(v, 'utf8').toString('base64');
    for (const f of [v, encodeURIComponent(v), b64, b64.replace(/=+$/, ''), Buffer.from(v, 'utf8').toString('base64url')]) forms.add(f);
  }
  return [...forms].map((f) => Buffer.from(f, 'utf8')).sort((a, b) => b.length - a.length);
}

/** KMP failure function: fail[i] = length of the longest proper border of p[0..i]. */
function failure(p: Buffer): Int32Array {
  const f = new Int32Array(p.length);
  for (let i = 1, k = 0; i < p.length; i++) {
    while (k > 0 && p[i] !== p[k]) k = f[k - 1]!;
    if (p[i] === p[k]) k++;
    f[i] = k;
  }
  return f;
}

interface Form {
  readonly bytes: Buffer;
  readonly fail: Int32Array;
}

/** The set of values to mask for one sandbox; grows when secrets are added at run time. */
export class SecretMasker {
  readonly #values = new Set<string>();
  #forms: Form[] = [];

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  add(values: Iterable<string>): void {
    for (const v of values) if (typeof v === 'string') this.#values.add(v);
    this.#forms = formsOf(this.#values).map((bytes) => ({ bytes, fail: failure(bytes) }));
  }

  /** The raw values (for the audit log's own masking). */
  get values(): string[] {
    return [...this.#values];
  }

  get empty(): boolean {
    return this.#forms.length === 0;
  }

  /** Masks a whole text. */
  text(text: string): string {
    return this.#values.size === 0 ? text : maskValues(text, this.values);
  }

  /** Masks every string inside a JSON-like value (a code result, audit details). */
  deep<T>(value: T): T {
    if (this.#values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  /** A masker for one output stream (bytes); the forms are those known now. */
  stream(): StreamMasker {
    return new StreamMasker(this.#forms);
  }

  /** A masker for one stream of text pieces. */
  textStream(): { push(text: string): string; flush(): string } {
    const bytes = this.stream();
    const decoder = new StringDecoder('utf8');
    return {
      push: (text) => decoder.write(bytes.push(Buffer.from(text, 'utf8'))),
      flush: () => decoder.write(bytes.flush()) + decoder.end(),
    };
  }
}

export class StreamMasker {
  readonly #forms: readonly Form[];
  #held: Buffer = Buffer.alloc(0);

  constructor(forms: readonly Form[]) {
    this.#forms = forms;
  }

  /** Masks what can be decided now and returns it; holds back a possible secret's beginning. */
  push(chunk: Buffer): Buffer {
    if (this.#forms.length === 0) return chunk;
    const buf = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    const ranges = this.#find(buf);
    let hold = buf.length - this.#longestPartial(buf);
    // A secret found across the hold point may be the start of a longer one: decide it next time.
    for (let i = ranges.length - 1; i >= 0; i--) {
      const r = ranges[i]!;
      if (r.start < hold && r.end > hold) hold = r.start;
    }
    this.#held = Buffer.from(buf.subarray(hold));
    return apply(buf.subarray(0, hold), ranges.filter((r) => r.end <= hold));
  }

  /** The end of the stream: everything held back, masked. */
  flush(): Buffer {
    const buf = this.#held;
    this.#held = Buffer.alloc(0);
    return buf.length === 0 ? buf : apply(buf, this.#find(buf));
  }

  #find(buf: Buffer): Array<{ start: number; end: number }> {
    const found: Array<{ start: number; end: number }> = [];
    for (const f of this.#forms) for (let i = buf.indexOf(f.bytes); i !== -1; i = buf.indexOf(f.bytes, i + 1)) found.push({ start: i, end: i + f.bytes.length });
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: Array<{ start: number; end: number }> = [];
    for (const r of found) {
      const last = merged[merged.length - 1];
      if (last && r.start < last.end) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    return merged;
  }

  /** The longest suffix of `buf` that is a proper prefix of some form (KMP over the last bytes). */
  #longestPartial(buf: Buffer): number {
    let best = 0;
    for (const { bytes: p, fail } of this.#forms) {
      let k = 0;
      for (let i = Math.max(0, buf.length - (p.length - 1)); i < buf.length; i++) {
        while (k > 0 && buf[i] !== p[k]) k = fail[k - 1]!;
        if (buf[i] === p[k]) k++;
        if (k === p.length) k = fail[k - 1]!; // a whole match is the finder's business
      }
      if (k > best) best = k;
    }
    return best;
  }
}

function apply(buf: Buffer, ranges: ReadonlyArray<{ start: number; end: number }>): Buffer {
  if (ranges.length === 0) return Buffer.from(buf);
  const parts: Buffer[] = [];
  let pos = 0;
  for (const r of ranges) {
    parts.push(buf.subarray(pos, r.start), MASK_BYTES);
    pos = r.end;
  }
  parts.push(buf.subarray(pos));
  return Buffer.concat(parts);
}
