/**
 * Rule regexes use the scanner's bounded pattern language (scan/patterns/syntax):
 * no `*`, `+` or `{m,}`, no backreferences or lookaround, and a static check
 * that refuses nested or adjacent ambiguous repetition (`(a|a){1,9}`,
 * `\w{0,50}\w{0,50}`). What passes runs in time linear in the text on V8's
 * backtracking engine, so a tenant's policy cannot stall the guard (ReDoS).
 */
import { requiredAtoms, slowPatternReasons } from '../../scan/patterns/syntax/analyze.js';
import { toJsSource } from '../../scan/patterns/syntax/emit.js';
import { parsePattern, PatternSyntaxError } from '../../scan/patterns/syntax/parse.js';

/** Text longer than this is not searched (it is also past the analysis size cap, which makes the guard ask). */
export const MAX_REGEX_INPUT_CHARS = 1 << 20;
/** Spans a regex condition reports at most. */
const MAX_MATCHES = 8;

export class UnsafeRegexError extends Error {
  override readonly name = 'UnsafeRegexError';
}

export interface SafeRegex {
  readonly source: string;
  /**
   * Lowercase literals of which every match contains at least one (in text
   * lowercased with `asciiLower`), or null when there is no such set: a
   * cheap test that skips the search on text that cannot match.
   */
  readonly atoms: readonly string[] | null;
  /** Match spans in `text` (at most 8); empty when none or when `text` is too long to search. */
  search(text: string): { start: number; end: number }[];
}

/** Parses and checks `source`; throws UnsafeRegexError saying what to change. */
export function compileSafeRegex(source: string): SafeRegex {
  let pattern;
  try {
    pattern = parsePattern(source);
  } catch (err) {
    if (err instanceof PatternSyntaxError) throw new UnsafeRegexError(err.message);
    throw err;
  }
  const reasons = slowPatternReasons(pattern.root);
  if (reasons.length > 0) throw new UnsafeRegexError(`/${source}/ could backtrack catastrophically: ${reasons.join('; ')}`);
  const re = new RegExp(toJsSource(pattern), pattern.nocase ? 'gi' : 'g');
  const atoms = requiredAtoms(pattern.root);
  return {
    source,
    atoms: atoms && atoms.length > 0 ? [...new Set(atoms.map((a) => a.text))] : null,
    search(text) {
      if (text.length > MAX_REGEX_INPUT_CHARS) return [];
      const spans: { start: number; end: number }[] = [];
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null && spans.length < MAX_MATCHES; m = re.exec(text)) {
        spans.push({ start: m.index, end: m.index + m[0].length });
        if (m[0].length === 0) re.lastIndex++;
      }
      return spans;
    },
  };
}

/** ASCII letters lowercased, nothing else changed (the case folding of SafeRegex.atoms). */
export function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : text;
}
