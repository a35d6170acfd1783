/**
 * What every condition sees: the analysis, the rule's language filter, and
 * per-analysis memos and indexes (parsed argv, invocations by program, calls
 * by name, path spellings, write targets) so a policy of hundreds of rules
 * does each piece of work once and checks each fact only against conditions
 * that can match it.
 */
import type { Analysis, Call, GuardLanguage, Invocation, Span } from '../../types.js';
import type { ParsedArgs } from '../flags.js';
import type { NameMatcher } from '../glob.js';

/** A path-like value from the analysis, where it occurs and how it can be spelled. */
export interface PathCandidate {
  readonly value: string;
  /** `pathForms(value)`: as written, normalised, with the home directory as `~`. */
  readonly forms: readonly string[];
  readonly language: GuardLanguage;
  /** Every place the value occurs (in this language). */
  readonly spans: readonly Span[];
}

export interface Facts {
  readonly analysis: Analysis;
  args(inv: Invocation): ParsedArgs;
  /** `pathForms(value)`, computed once per value. */
  forms(value: string): readonly string[];
  /** Invocations whose program `program` accepts (all when undefined); each distinct program is tested once. */
  invocations(program: NameMatcher | undefined): readonly Invocation[];
  /** Calls whose name `name` accepts; each distinct name is tested once. */
  calls(name: NameMatcher): readonly Call[];
  /** The invocations of each pipeline (those with a `pipeline`), in stage order. */
  pipelines(): readonly (readonly Invocation[])[];
  /** The analysed text with ASCII letters lowercased (see SafeRegex.atoms). */
  lowerText(): string;
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
