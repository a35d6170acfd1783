/**
 * What every condition sees: the analysis, the rule's language filter, and
 * per-analysis memos (parsed argv, path candidates, write targets) so a
 * policy of hundreds of rules parses each invocation's flags once.
 */
import type { Analysis, GuardLanguage, Invocation, Span } from '../../types.js';
import type { ParsedArgs } from '../flags.js';

/** A path-like value from the analysis and where it came from. */
export interface PathCandidate {
  readonly value: string;
  readonly span: Span;
  readonly language: GuardLanguage;
}

export interface Facts {
  readonly analysis: Analysis;
  args(inv: Invocation): ParsedArgs;
  /** Literal path-like strings, redirect targets and invocation operands. */
  paths(): readonly PathCandidate[];
  /** Literal paths something writes to (see write.ts). */
  writes(): readonly PathCandidate[];
}

/** A compiled condition: the evidence when it holds, null when it does not. */
export type Condition = (facts: Facts, languages: ReadonlySet<GuardLanguage> | undefined) => Span[] | null;

export function inLanguages(languages: ReadonlySet<GuardLanguage> | undefined, language: GuardLanguage): boolean {
  return languages === undefined || languages.has(language);
}
