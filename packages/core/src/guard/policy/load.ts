/**
 * Loading a policy: YAML (or a plain object) → schema check → compile →
 * run every inline example. Anything wrong is one E_POLICY_INVALID listing
 * every problem, each naming the rule and the field.
 */
import { isWardenError, parseWith, WardenError } from '@warden/protocol';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { GUARD_LANGUAGES, type GuardLanguage } from '../types.js';
import { compileRules, type QueryCheck } from './compile.js';
import { exampleFailures, type PolicyAnalyzer } from './examples.js';
import { mergeAliases } from './flags.js';
import { makePolicy, type Policy } from './policy.js';
import { PolicyDocument } from './schema.js';

/** YAML text, or the same structure as a plain object. */
export type PolicySource = string | Readonly<Record<string, unknown>>;

export interface LoadPolicyOptions {
  /** The layer the policy sits in: `server`, `tenant`, `sandbox` or another lowercase name. */
  readonly layer: string;
  /** Runs the examples and checks tree-sitter queries. */
  readonly analyzer: PolicyAnalyzer;
}

/** A policy file larger than this is refused (the default policy is ~30 KiB). */
export const MAX_POLICY_BYTES = 1 << 20;
const LAYER = /^[a-z][a-z0-9-]{0,31}$/;
const TRIVIAL: Record<GuardLanguage, string> = { bash: 'true', python: 'pass', javascript: '0', typescript: '0' };

/**
 * Validates, compiles and self-tests a policy. Throws E_POLICY_INVALID.
 *
 * @example
 * const policy = loadPolicy(readFileSync('tenant.yaml', 'utf8'), { layer: 'tenant', analyzer });
 */
export function loadPolicy(source: PolicySource, opts: LoadPolicyOptions): Policy {
  const { layer, analyzer } = opts;
  if (typeof layer !== 'string' || !LAYER.test(layer)) {
    throw new WardenError('E_INVALID_ARGUMENT', `layer must be a lowercase name such as "server", "tenant" or "sandbox", got ${JSON.stringify(layer)}.`);
  }
  const fail = (problems: string[]): never => {
    const head = `Invalid guard policy (layer ${layer})`;
    const message = problems.length === 1 ? `${head}: ${problems[0]}` : `${head}, ${problems.length} problems: ${problems.join(' ')}`;
    const rules = [...new Set(problems.flatMap((p) => /^rule ([a-z0-9.#-]+)/.exec(p)?.[1] ?? []))];
    throw new WardenError('E_POLICY_INVALID', message, { details: { layer, problems, rules } });
  };

  const raw = typeof source === 'string' ? parseText(source, fail) : source;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail([`expected a mapping at the top (version: 1, rules: …), got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}.`]);
  let doc: PolicyDocument;
  try {
    doc = parseWith(PolicyDocument, raw, 'guard policy');
  } catch (err) {
    if (!isWardenError(err)) throw err;
    const problems = Array.isArray(err.details.problems) ? (err.details.problems as string[]) : [err.message];
    return fail(problems.map((p) => nameRule(p, raw as Record<string, unknown>)));
  }

  const checkQuery: QueryCheck = (language, query) => {
    if (!GUARD_LANGUAGES.includes(language)) throw new Error(`unknown language ${language}`);
    analyzer.analyze({ language, code: TRIVIAL[language] }).query(language, query);
  };
  const { rules, problems } = compileRules(doc, checkQuery);
  if (problems.length > 0) fail(problems);
  const aliases = mergeAliases(doc.flag_aliases);
  const failures = exampleFailures(rules, analyzer, aliases);
  if (failures.length > 0) fail(failures);
  return makePolicy({ layer, mode: doc.mode, default: doc.default ?? 'allow', onError: doc.on_error ?? 'ask', rules, aliases, description: doc.description });
}

function parseText(text: string, fail: (problems: string[]) => never): unknown {
  if (text.length > MAX_POLICY_BYTES) fail([`the policy is ${text.length} characters long, more than ${MAX_POLICY_BYTES}; split it into layers or drop rules.`]);
  try {
    // uniqueKeys: a repeated key is an error, not a silent override; maxAliasCount stops alias bombs.
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      return fail([`the YAML does not parse${where}: ${err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`]);
    }
    return fail([`the YAML does not parse: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** `rules.3.risk must be …` → `rule fs.rm-root: risk must be …`. */
function nameRule(problem: string, raw: Record<string, unknown>): string {
  const m = /^rules\.(\d+)(?:\.| )/.exec(problem);
  if (!m) return problem;
  const rules = Array.isArray(raw.rules) ? (raw.rules as unknown[]) : [];
  const rule = rules[Number(m[1])] as { id?: unknown } | undefined;
  const id = typeof rule?.id === 'string' && rule.id.length <= 100 ? rule.id : `#${m[1]}`;
  const rest = problem.slice(m[0].length - (m[0].endsWith(' ') ? 1 : 0));
  return `rule ${id}: ${rest.startsWith(' ') ? `the rule${rest}` : rest}`;
}
