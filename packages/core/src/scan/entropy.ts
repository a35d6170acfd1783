/**
 * The entropy detector: Shannon entropy over the whole file and over fixed
 * windows, for executables and unidentified binaries only (images, archives
 * and compressed data are high-entropy by design). Packed or encrypted code
 * sits near 8 bits/byte; ordinary machine code between 5 and 6.5. Also spots
 * UPX, the packer most malware uses off the shelf.
 *
 * Cost: one histogram increment per byte (eight interleaved histograms fed a
 * word at a time, so a run of equal bytes does not serialize on one counter),
 * plus 256 table lookups per window. UPX markers are looked for where UPX
 * writes them, in the headers and the trailer, not in the whole file.
 */
import { Buffer } from 'node:buffer';
import { WardenError } from '@warden/protocol';
import { evidenceAt } from './evidence.js';
import { HeadBuffer } from './head.js';
import { sniff, type ContentInfo } from './sniff.js';
import type { Detector, DetectorRun, Finding } from './types.js';

const NAME = 'entropy';

export interface EntropyOptions {
  /** Whole-file entropy (bits/byte) from which an executable counts as packed or encrypted. Default 6.7. */
  readonly averageBits?: number;
  /** Entropy of one window from which a region counts as packed or encrypted. Default 7.2. */
  readonly windowBits?: number;
  /** Window size in bytes, a power of two from 1024 to 1048576. Default 8192. */
  readonly windowBytes?: number;
}

/** Files smaller than this say little about their entropy (an 8-bit alphabet needs samples). */
const MIN_BYTES = 512;
/** A trailing partial window counts only from this size. */
const MIN_WINDOW_BYTES = 512;
const UPX_MAGIC = Buffer.from('UPX!', 'latin1');
/** UPX writes `UPX!` (l_info) right after the headers and its PackHeader at the very end. */
const TAIL_BYTES = 4096;
/** Interleaved histograms (a multiple of 256 entries each). */
const LANES = 8;
const UPX_SECTIONS = [Buffer.from('UPX0\0', 'latin1'), Buffer.from('UPX1\0', 'latin1')];

/** Shannon entropy in bits per symbol of a byte histogram. */
export function shannon(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < 256; i++) n += counts[i]!;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]!;
    if (c > 0) sum += c * Math.log2(c);
  }
  return Math.max(0, Math.log2(n) - sum / n);
}

function checkOptions(o: EntropyOptions): Required<EntropyOptions> {
  const bits = (name: string, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !(v > 0 && v <= 8)) throw new WardenError('E_INVALID_ARGUMENT', `entropy ${name} must be a number of bits per byte above 0 and at most 8, got ${JSON.stringify(v) ?? typeof v}.`);
    return v;
  };
  const w = o.windowBytes ?? 8192;
  if (!Number.isInteger(w) || w < 1024 || w > 1 << 20 || (w & (w - 1)) !== 0) {
    throw new WardenError('E_INVALID_ARGUMENT', `entropy windowBytes must be a power of two from 1024 to 1048576, got ${JSON.stringify(w) ?? typeof w}.`);
  }
  return { averageBits: bits('averageBits', o.averageBits, 6.7), windowBits: bits('windowBits', o.windowBits, 7.2), windowBytes: w };
}

/**
 * Adds the bytes `c[s..e)` to `h`, eight lanes of 256 counters. The middle runs
 * through a Uint32Array view (two words, eight bytes per step); which lane a
 * byte lands in does not matter, so host byte order does not either.
 */
function countBytes(h: Uint32Array, c: Uint8Array, s: number, e: number): void {
  let j = s;
  while (j < e && ((c.byteOffset + j) & 3) !== 0) h[c[j++]!]!++;
  const words = (e - j) >> 2;
  if (words > 0) {
    const v = new Uint32Array(c.buffer, c.byteOffset + j, words);
    const pairs = words & ~1;
    for (let k = 0; k < pairs; k += 2) {
      const a = v[k]!;
      const b = v[k + 1]!;
      h[a & 255]!++;
      h[256 | ((a >>> 8) & 255)]!++;
      h[512 | ((a >>> 16) & 255)]!++;
      h[768 | (a >>> 24)]!++;
      h[1024 | (b & 255)]!++;
      h[1280 | ((b >>> 8) & 255)]!++;
      h[1536 | ((b >>> 16) & 255)]!++;
      h[1792 | (b >>> 24)]!++;
    }
    if (pairs < words) {
      const a = v[pairs]!;
      h[a & 255]!++;
      h[256 | ((a >>> 8) & 255)]!++;
      h[512 | ((a >>> 16) & 255)]!++;
      h[768 | (a >>> 24)]!++;
    }
    j += words << 2;
  }
  while (j < e) h[c[j++]!]!++;
}

const laneSum = (w: Uint32Array, b: number): number => w[b]! + w[256 | b]! + w[512 | b]! + w[768 | b]! + w[1024 | b]! + w[1280 | b]! + w[1536 | b]! + w[1792 | b]!;

/** Whether entropy says anything about this kind of content. */
function applies(info: ContentInfo): boolean {
  return info.kind === 'executable' || info.kind === 'binary';
}

/**
 * Flags packed or encrypted executables and unidentified encrypted blobs.
 *
 * @example
 * const scanner = createScanner({ detectors: [entropyDetector({ averageBits: 6.9 })] });
 */
export function entropyDetector(options: EntropyOptions = {}): Detector {
  const opts = Object.freeze(checkOptions(options));
  // c·log2(c) for every count a window can hold: the per-window sum becomes lookups. Built once per detector.
  const clog = new Float64Array(opts.windowBytes + 1);
  for (let c = 2; c <= opts.windowBytes; c++) clog[c] = c * Math.log2(c);
  return { name: NAME, start: () => new EntropyRun(opts, clog) };
}

class EntropyRun implements DetectorRun {
  readonly #opts: Required<EntropyOptions>;
  readonly #clog: Float64Array;
  readonly #head = new HeadBuffer();
  #info: ContentInfo | undefined;
  /** Interleaved histograms of the current window. */
  readonly #win = new Uint32Array(256 * LANES);
  #winFill = 0;
  #winStart = 0;
  /** Whole-file counts (Float64: a file may pass 2^32 of one byte). */
  readonly #total = new Float64Array(256);
  #counted = 0;
  #maxBits = -1;
  #maxOffset = 0;
  #maxLength = 0;
  /** The last TAIL_BYTES counted, for UPX's trailer. */
  readonly #tail = new Uint8Array(TAIL_BYTES);
  #tailFill = 0;

  constructor(opts: Required<EntropyOptions>, clog: Float64Array) {
    this.#opts = opts;
    this.#clog = clog;
  }

  update(chunk: Uint8Array, offset: number): void {
    if (this.#info === undefined) {
      const took = this.#head.push(chunk);
      if (!this.#head.full) return;
      this.#decide(false);
      if (took < chunk.length) this.#count(chunk.subarray(took), offset + took);
      return;
    }
    if (applies(this.#info)) this.#count(chunk, offset);
  }

  finish(): { ran: boolean; findings: Finding[] } {
    if (this.#info === undefined) this.#decide(true);
    const info = this.#info!;
    if (!applies(info)) return { ran: false, findings: [] };
    if (this.#winFill > 0) {
      if (this.#winFill >= MIN_WINDOW_BYTES) this.#closeWindow();
      else this.#mergeWindow();
    }
    return { ran: true, findings: this.#findings(info) };
  }

  /** Content type from the head alone (the same answer the scanner gets), then count the head if it applies. */
  #decide(complete: boolean): void {
    const head = this.#head.bytes();
    this.#info = sniff(head, complete);
    if (!applies(this.#info)) return;
    this.#count(head, 0);
  }

  #count(chunk: Uint8Array, _offset: number): void {
    this.#keepTail(chunk);
    const size = this.#opts.windowBytes;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const take = Math.min(n - i, size - this.#winFill);
      countBytes(this.#win, chunk, i, i + take);
      this.#winFill += take;
      i += take;
      if (this.#winFill === size) this.#closeWindow();
    }
  }

  #keepTail(chunk: Uint8Array): void {
    const tail = this.#tail;
    if (chunk.length >= TAIL_BYTES) {
      tail.set(chunk.subarray(chunk.length - TAIL_BYTES));
      this.#tailFill = TAIL_BYTES;
      return;
    }
    const keep = Math.min(this.#tailFill, TAIL_BYTES - chunk.length);
    tail.copyWithin(0, this.#tailFill - keep, this.#tailFill);
    tail.set(chunk, keep);
    this.#tailFill = keep + chunk.length;
  }

  /** Offset of the first UPX marker in the headers or the trailer, or -1. */
  #upxOffset(info: ContentInfo): number {
    const head = this.#head.bytes();
    const h = Buffer.from(head.buffer, head.byteOffset, head.length);
    const inHead = [UPX_MAGIC, ...(info.type === 'pe' ? UPX_SECTIONS : [])].map((m) => h.indexOf(m)).filter((k) => k !== -1);
    if (inHead.length > 0) return Math.min(...inHead);
    const k = Buffer.from(this.#tail.buffer, 0, this.#tailFill).indexOf(UPX_MAGIC);
    return k === -1 ? -1 : this.#counted - this.#tailFill + k;
  }

  /** Entropy of the full (or final partial) window, then fold it into the totals. */
  #closeWindow(): void {
    const w = this.#win;
    const clog = this.#clog;
    const total = this.#total;
    const n = this.#winFill;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = laneSum(w, b);
      sum += clog[c]!;
      total[b]! += c;
    }
    const bits = Math.log2(n) - sum / n;
    if (bits > this.#maxBits) {
      this.#maxBits = bits;
      this.#maxOffset = this.#winStart;
      this.#maxLength = n;
    }
    this.#resetWindow(n);
  }

  /** A trailing window too short to judge still counts for the whole file. */
  #mergeWindow(): void {
    const w = this.#win;
    for (let b = 0; b < 256; b++) this.#total[b]! += laneSum(w, b);
    this.#resetWindow(this.#winFill);
  }

  #resetWindow(n: number): void {
    this.#counted += n;
    this.#winStart += n;
    this.#winFill = 0;
    this.#win.fill(0);
  }

  #findings(info: ContentInfo): Finding[] {
    const bytes = this.#counted;
    const exe = info.kind === 'executable';
    const judged = bytes >= MIN_BYTES;
    const average = judged ? shannon(this.#total) : 0;
    const { averageBits, windowBits } = this.#opts;
    const high = judged && average >= averageBits;
    const region = judged && !high && this.#maxBits >= windowBits;
    const fmt = (x: number): string => x.toFixed(2);
    const finding = (ruleId: string, severity: Finding['severity'], certainty: number, message: string, offset: number, length: number): Finding[] => [
      { detector: NAME, ruleId, severity, certainty, message, evidence: [evidenceAt(offset, length)] },
    ];

    // UPX and high entropy are one observation (UPX is why the entropy is high), so one finding, not two.
    const upx = exe ? this.#upxOffset(info) : -1;
    if (upx !== -1) {
      const entropic = high || region;
      return finding(
        'entropy/upx',
        'medium',
        entropic ? 0.95 : 0.7,
        `${info.description} carries UPX packer markers${entropic ? ` and ${fmt(high ? average : this.#maxBits)} bits/byte of entropy` : ''}: its real code is compressed and only unpacks when it runs.`,
        upx,
        4,
      );
    }
    if (high) {
      return exe
        ? finding(
            'entropy/packed-executable',
            'medium',
            0.7,
            `${info.description} has ${fmt(average)} bits/byte of entropy over the whole file (threshold ${averageBits}): packed or encrypted code hides what it does.`,
            0,
            bytes,
          )
        : finding('entropy/encrypted-data', 'low', 0.7, `Unidentified data with ${fmt(average)} bits/byte of entropy (threshold ${averageBits}): encrypted or compressed content of unknown format.`, 0, bytes);
    }
    if (region) {
      return finding(
        'entropy/high-entropy-region',
        'low',
        exe ? 0.5 : 0.3,
        `${exe ? info.description : 'Unidentified data'} has a region with ${fmt(this.#maxBits)} bits/byte of entropy (threshold ${windowBits}) in a file averaging ${fmt(average)}: an embedded packed or encrypted payload.`,
        this.#maxOffset,
        this.#maxLength,
      );
    }
    return [];
  }
}
