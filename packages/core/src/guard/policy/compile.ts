/**
 * Turns validated rule documents into condition closures, once, at load:
 * globs become matchers, regexes are checked for safety and compiled,
 * tree-sitter queries are tried against the analyzer. Every problem in every
 * rule is collected so an operator fixes a policy in one pass.
 */
import type { Category, Decision, GuardLanguage, Risk, Span } from '../types.js';
import { GlobError } from './glob.js';
import { compileCall, compileImport } from './match/call.js';
import { compileCommand, compileVia } from './match/command.js';
import type { Condition } from './match/context.js';
import { compilePath, compileRedirect } from './match/path.js';
import { compilePipe } from './match/pipe.js';
import { compileQuery, compileRegex } from './match/text.js';
import { compileWrite } from './match/write.js';
import { compileSafeRegex, UnsafeRegexError } from './regex-safety.js';
import type { ExampleDocument, PolicyDocument, RuleDocument, WhenDocument } from './schema.js';

export interface Example {
  readonly language: GuardLanguage;
  readonly code: string;
}

export interface CompiledRule {
  readonly id: string;
  readonly category: Category;
  readonly risk: Exclude<Risk, 'none'>;
  readonly decision: Decision;
  readonly message: string;
  /** Facts from these languages only; undefined for all. */
  readonly languages: ReadonlySet<GuardLanguage> | undefined;
  readonly when: Condition;
  readonly examples: { readonly match: readonly Example[]; readonly notMatch: readonly Example[] };
}

/** Throws (any error; its message is reported) when `source` is not a valid query for `language`. */
export type QueryCheck = (language: GuardLanguage, source: string) => void;

/** The rule id prefix reserved for the guard's own findings (`guard.analysis-problem`). */
export const RESERVED_PREFIX = 'guard.';

export function compileRules(doc: PolicyDocument, checkQuery: QueryCheck): { rules: CompiledRule[]; problems: string[] } {
  const problems: string[] = [];
  const rules: CompiledRule[] = [];
  const ids = new Set<string>();
  for (const rule of doc.rules ?? []) {
    const where = `rule ${rule.id}`;
    if (ids.has(rule.id)) problems.push(`${where}: duplicate id; every rule id in a policy must be unique.`);
    ids.add(rule.id);
    if (rule.id.startsWith(RESERVED_PREFIX)) problems.push(`${where}: ids starting with ${RESERVED_PREFIX} are reserved for the guard's own findings; rename it.`);
    const before = problems.length;
    const when = compileWhen(rule.when, 'when', (field, msg) => problems.push(`${where}: ${field}: ${msg}`), checkQuery);
    if (problems.length > before) continue;
    rules.push({
      id: rule.id,
      category: rule.category,
      risk: rule.risk,
      decision: rule.decision,
      message: rule.message,
      languages: rule.languages ? new Set(rule.languages) : undefined,
      when,
      examples: { match: rule.examples.match.flatMap((e) => examplesOf(e, rule)), notMatch: rule.examples.not_match.flatMap((e) => examplesOf(e, rule)) },
    });
  }
  return { rules, problems };
}

function examplesOf(e: ExampleDocument, rule: RuleDocument): Example[] {
  if (typeof e === 'string') return [{ language: (rule.languages?.[0]) ?? 'bash', code: e }];
  return Object.entries(e).flatMap(([language, code]) => (typeof code === 'string' ? [{ language: language as GuardLanguage, code }] : []));
}

type Report = (field: string, message: string) => void;

function compileWhen(w: WhenDocument, at: string, report: Report, checkQuery: QueryCheck): Condition {
  const parts: Condition[] = [];
  const guarded = (field: string, build: () => Condition): void => {
    try {
      parts.push(build());
    } catch (err) {
      if (err instanceof GlobError || err instanceof UnsafeRegexError) report(`${at}.${field}`, err.message);
      else throw err;
    }
  };
  if (w.command) {
    const c = w.command;
    guarded('command', () => compileCommand(c));
  }
  if (w.call) {
    const c = w.call;
    guarded('call', () => compileCall(c));
  }
  if (w.import) {
    const c = w.import;
    guarded('import', () => compileImport(c));
  }
  if (w.regex !== undefined) {
    const source = w.regex;
    guarded('regex', () => compileRegex(compileSafeRegex(source)));
  }
  if (w.path) {
    const c = w.path;
    guarded('path', () => compilePath(c));
  }
  if (w.redirect) {
    const c = w.redirect;
    guarded('redirect', () => compileRedirect(c));
  }
  if (w.write) {
    const c = w.write;
    guarded('write', () => compileWrite(c));
  }
  if (w.pipe) {
    const c = w.pipe;
    guarded('pipe', () => compilePipe(c));
  }
  if (w.via) {
    const c = w.via;
    guarded('via', () => compileVia(c));
  }
  if (w.any) parts.push(anyOf(w.any.map((sub, i) => compileWhen(sub, `${at}.any[${i}]`, report, checkQuery))));
  if (w.all) parts.push(allOf(w.all.map((sub, i) => compileWhen(sub, `${at}.all[${i}]`, report, checkQuery))));
  if (w.not) parts.push(notOf(compileWhen(w.not, `${at}.not`, report, checkQuery)));
  if (w.query) {
    const queries = new Map<GuardLanguage, string>();
    for (const [language, source] of Object.entries(w.query)) {
      if (typeof source !== 'string') continue;
      try {
        checkQuery(language as GuardLanguage, source);
        queries.set(language as GuardLanguage, source);
      } catch (err) {
        report(`${at}.query.${language}`, `the tree-sitter query does not compile: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // Last: a query may re-parse the code, so cheaper conditions get to say no first.
    parts.push(compileQuery(queries));
  }
  if (!w.languages) return allOf(parts);
  if (parts.length === 0) report(`${at}.languages`, 'languages narrows the other conditions of its block; add at least one condition beside it.');
  return narrowed(new Set(w.languages), allOf(parts));
}

function narrowed(only: ReadonlySet<GuardLanguage>, inner: Condition): Condition {
  return (facts, languages) => inner(facts, languages === undefined ? only : new Set([...only].filter((l) => languages.has(l))));
}

function allOf(parts: readonly Condition[]): Condition {
  if (parts.length === 1) return parts[0]!;
  return (facts, languages) => {
    const spans: Span[] = [];
    for (const p of parts) {
      const r = p(facts, languages);
      if (r === null) return null;
      spans.push(...r);
    }
    return spans;
  };
}

function anyOf(parts: readonly Condition[]): Condition {
  return (facts, languages) => {
    let spans: Span[] | null = null;
    for (const p of parts) {
      const r = p(facts, languages);
      if (r !== null) (spans ??= []).push(...r);
    }
    return spans;
  };
}

function notOf(inner: Condition): Condition {
  return (facts, languages) => (inner(facts, languages) === null ? [] : null);
}
