/**
 * One file's pass through the pattern detector: bytes are copied into a
 * bounded window, each full window is scanned, and the window slides on
 * keeping OVERLAP_BYTES of its tail. Memory stays at windowBytes whatever the
 * file size.
 *
 * Why it finds everything once: window k covers [s, e) and reports the
 * matches that end in (e_prev - 1, e - 1] (the final window: up to e). The
 * next window starts at e - OVERLAP_BYTES, so a match of at most
 * MAX_MATCH_BYTES ending after e - 1 lies whole inside it with a byte of
 * context on each side (for \b), and a match is reported by exactly one window.
 * (A greedy gap such as `[^\n]{0,200}` may end its match early when the
 * window ends first: same start, shorter evidence.)
 */
import { WardenError } from '@warden/protocol';
import type { DetectorRun, Evidence, Finding } from '../types.js';
import { matchedRules, MAX_MATCH_BYTES, type CompiledRules } from './compile.js';
import type { PatternEngine, RawMatch } from './engine.js';
import { excerpt } from './excerpt.js';

/** Bytes each window shares with the previous one: room for the longest match plus context. */
export const OVERLAP_BYTES = 2 * MAX_MATCH_BYTES;

export interface RunConfig {
  readonly compiled: CompiledRules;
  readonly engine: PatternEngine;
  readonly windowBytes: number;
  readonly maxEvidence: number;
}

interface StringHits {
  count: number;
  lastEnd: number;
  readonly evidence: Evidence[];
}

const INITIAL_BYTES = 64 * 1024;

export class PatternRun implements DetectorRun {
  private buf: Uint8Array;
  private len = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  /** Matches ending at or before this absolute offset have been handled. */
  private owned = 0;
  private readonly hits: StringHits[];
  private failure: unknown;

  constructor(
    private readonly config: RunConfig,
    sizeHint?: number,
  ) {
    this.buf = new Uint8Array(Math.min(config.windowBytes, Math.max(1024, sizeHint ?? INITIAL_BYTES)));
    this.hits = config.compiled.strings.map(() => ({ count: 0, lastEnd: 0, evidence: [] }));
  }

  update(chunk: Uint8Array, _offset?: number): void {
    if (this.failure !== undefined) return;
    try {
      const { windowBytes } = this.config;
      for (let p = 0; p < chunk.length; ) {
        if (this.len === windowBytes) this.flush(false);
        const n = Math.min(chunk.length - p, windowBytes - this.len);
        this.reserve(this.len + n);
        this.buf.set(chunk.subarray(p, p + n), this.len);
        this.len += n;
        p += n;
      }
    } catch (err) {
      this.failure = err;
    }
  }

  finish(): { ran: boolean; findings: Finding[] } {
    if (this.failure === undefined && this.owned < this.base + this.len) {
      try {
        this.flush(true);
      } catch (err) {
        this.failure = err;
      }
    }
    if (this.failure !== undefined) {
      // A failed detector must never make a file look clean: surface it to the scanner.
      const reason = this.failure instanceof Error ? this.failure.message : typeof this.failure === 'string' ? this.failure : 'a non-Error value was thrown';
      throw new WardenError('E_INTERNAL', `The ${this.config.engine.name} pattern engine failed: ${reason}`, { cause: this.failure });
    }
    return { ran: true, findings: this.findings() };
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buf.length) return;
    const grown = new Uint8Array(Math.min(this.config.windowBytes, Math.max(bytes, this.buf.length * 2)));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  private flush(final: boolean): void {
    const window = this.buf.subarray(0, this.len);
    const end = this.base + this.len;
    const ownedTo = final ? end : end - 1;
    const matches = this.config.engine.scan(window);
    matches.sort(byOffsetThenLongest);
    for (const m of matches) {
      const matchEnd = this.base + m.offset + m.length;
      if (matchEnd > this.owned && matchEnd <= ownedTo) this.record(m, window);
    }
    this.owned = ownedTo;
    if (!final) {
      this.buf.copyWithin(0, this.len - OVERLAP_BYTES, this.len);
      this.base += this.len - OVERLAP_BYTES;
      this.len = OVERLAP_BYTES;
    }
  }

  private record(m: RawMatch, window: Uint8Array): void {
    const h = this.hits[m.string]!;
    const offset = this.base + m.offset;
    if (offset < h.lastEnd) return; // overlaps the previous match of this string
    h.lastEnd = offset + m.length;
    h.count++;
    if (h.evidence.length < this.config.maxEvidence) {
      h.evidence.push({ offset, length: m.length, excerpt: excerpt(window.subarray(m.offset, m.offset + m.length)) });
    }
  }

  private findings(): Finding[] {
    const { compiled, maxEvidence } = this.config;
    return matchedRules(compiled, (s) => this.hits[s]!.count > 0).map((r) => {
      const rule = compiled.rules[r]!;
      const evidence = compiled.strings
        .flatMap((s, i) => (s.rule === r ? this.hits[i]!.evidence : []))
        .sort((a, b) => a.offset - b.offset)
        .slice(0, maxEvidence);
      return { detector: 'patterns', ruleId: rule.id, severity: rule.severity, certainty: rule.certainty, message: rule.message, evidence };
    });
  }
}

function byOffsetThenLongest(a: RawMatch, b: RawMatch): number {
  return a.offset - b.offset || b.length - a.length;
}
