/**
 * The seam between the pattern detector and whatever finds the bytes: YARA-X
 * (native) or the pure-JS engine. An engine only finds string matches in one
 * window; windows, rule conditions and findings belong to the detector, so
 * both engines give the same answers by construction.
 */

export type EngineName = 'yara-x' | 'js';

export interface RawMatch {
  /** Index into `CompiledRules.strings`. */
  readonly string: number;
  /** Offset in the window. */
  readonly offset: number;
  readonly length: number;
}

export interface PatternEngine {
  readonly name: EngineName;
  /**
   * Matches of every rule string in `window` (in no particular order), at
   * most MAX_MATCHES_PER_STRING per string. Bytes after the window are
   * unknown to the engine; the detector overlaps windows to cover that.
   */
  scan(window: Uint8Array): RawMatch[];
}

/** Per string and window: enough for evidence, and a bound on work and memory when a file repeats a pattern. */
export const MAX_MATCHES_PER_STRING = 32;
