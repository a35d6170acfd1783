/**
 * Validates a rule set once, up front, and turns it into what the engines and
 * the detector use. Every problem in every rule is reported together.
 */
import { WardenError } from '@warden/protocol';
import type { PatternRule } from './rule.js';
import { maxLength, requiredAtoms, slowPatternReasons, type Atom } from './syntax/analyze.js';
import { toJsSource, toYaraRegex } from './syntax/emit.js';
import { parsePattern, PatternSyntaxError, type Pattern } from './syntax/parse.js';

/**
 * The longest match any pattern may have. The scan windows overlap by more
 * than this, so a match up to this long is always seen whole, with a byte of
 * context on each side, by some window.
 */
export const MAX_MATCH_BYTES = 1024;
/** Shortest prefilter literal a pattern must contain (shorter ones fire on nearly every byte). */
export const MIN_ATOM_BYTES = 3;

const SEVERITIES = new Set(['info', 'low', 'medium', 'high', 'critical']);

export interface CompiledString {
  /** Index of the rule in `CompiledRules.rules`. */
  readonly rule: number;
  readonly name: string;
  readonly pattern: Pattern;
  readonly maxLength: number;
  readonly atoms: readonly Atom[];
  /** RegExp source and flags for V8. */
  readonly js: { readonly source: string; readonly flags: string };
  /** YARA regex literal. */
  readonly yara: string;
}

export interface CompiledRules {
  readonly rules: readonly PatternRule[];
  /** All strings of all rules, in rule order. */
  readonly strings: readonly CompiledString[];
  /** Per rule: the groups of string indexes that must each have a match. */
  readonly groups: readonly (readonly (readonly number[])[])[];
}

export function compileRules(rules: readonly PatternRule[]): CompiledRules {
  const problems: string[] = [];
  const strings: CompiledString[] = [];
  const groups: number[][][] = [];
  const ids = new Set<string>();
  rules.forEach((rule, r) => {
    const where = `rule ${typeof rule.id === 'string' ? rule.id : `#${r}`}`;
    if (typeof rule.id !== 'string' || !/^patterns\/[a-z0-9]+(-[a-z0-9]+)*$/.test(rule.id)) problems.push(`${where}: id must look like patterns/<kebab-name>, got ${JSON.stringify(rule.id)}`);
    else if (ids.has(rule.id)) problems.push(`${where}: duplicate id`);
    ids.add(rule.id);
    if (!SEVERITIES.has(rule.severity)) problems.push(`${where}: severity must be one of ${[...SEVERITIES].join(', ')}, got ${JSON.stringify(rule.severity)}`);
    if (!(typeof rule.certainty === 'number' && rule.certainty > 0 && rule.certainty <= 1)) problems.push(`${where}: certainty must be a number in (0, 1], got ${String(rule.certainty)}`);
    if (typeof rule.message !== 'string' || rule.message.trim() === '') problems.push(`${where}: message must be a non-empty sentence`);
    if (!rule.examples || rule.examples.match.length === 0 || rule.examples.notMatch.length === 0) problems.push(`${where}: examples needs at least one match and one notMatch input`);

    const index = new Map<string, number>();
    const names = Object.keys(rule.strings ?? {});
    if (names.length === 0) problems.push(`${where}: strings must name at least one pattern`);
    for (const name of names) {
      const at = `${where} string ${name}`;
      if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`${at}: name must match [a-z][a-z0-9_]*`);
      const source = rule.strings[name]!;
      let pattern: Pattern;
      try {
        pattern = parsePattern(source);
      } catch (err) {
        problems.push(`${at}: ${err instanceof PatternSyntaxError ? err.message : String(err)}`);
        continue;
      }
      const max = maxLength(pattern.root);
      if (max > MAX_MATCH_BYTES) problems.push(`${at}: a match can be ${max} bytes long, more than MAX_MATCH_BYTES (${MAX_MATCH_BYTES}); tighten the {m,n} bounds`);
      for (const reason of slowPatternReasons(pattern.root)) problems.push(`${at}: ${reason}`);
      const atoms = requiredAtoms(pattern.root) ?? [];
      const shortest = atoms.length === 0 ? 0 : Math.min(...atoms.map((a) => a.text.length));
      if (shortest < MIN_ATOM_BYTES) problems.push(`${at}: every match must contain a literal of at least ${MIN_ATOM_BYTES} bytes (best found: ${atoms.length === 0 ? 'none' : JSON.stringify(atoms.map((a) => a.text))})`);
      index.set(name, strings.length);
      strings.push({ rule: r, name, pattern, maxLength: max, atoms, js: { source: toJsSource(pattern), flags: pattern.nocase ? 'i' : '' }, yara: toYaraRegex(pattern) });
    }
    const wanted = rule.requireAll ?? [names];
    const resolved = wanted.map((g) =>
      g.map((name) => {
        const i = index.get(name);
        if (i === undefined && names.includes(name)) return -1; // already reported as invalid
        if (i === undefined) problems.push(`${where}: requireAll names ${JSON.stringify(name)}, which is not one of its strings (${names.join(', ')})`);
        return i ?? -1;
      }),
    );
    if (wanted.length === 0 || wanted.some((g) => g.length === 0)) problems.push(`${where}: requireAll groups must not be empty`);
    groups.push(resolved.map((g) => g.filter((i) => i >= 0)));
  });
  if (problems.length > 0) {
    throw new WardenError('E_INVALID_ARGUMENT', `The pattern rules are invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`, {
      details: { problems },
    });
  }
  return { rules, strings, groups };
}

/** Rule indexes whose condition holds, given which strings matched. */
export function matchedRules(compiled: CompiledRules, stringMatched: (stringIndex: number) => boolean): number[] {
  const out: number[] = [];
  compiled.groups.forEach((groups, r) => {
    if (groups.every((g) => g.some(stringMatched))) out.push(r);
  });
  return out;
}
