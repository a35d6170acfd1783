/**
 * Compiles a policy into the `Policy` the view builder consumes.
 *
 * Precedence. A rule applies to a path when its glob matches the path or one
 * of its ancestor directories (a rule on `docs/` covers `docs/a/b.md`). Among
 * the rules that apply, the most specific wins:
 *   1. exact: a wildcard-free pattern whose text is the path itself
 *      (`.git/config` for `.git/config`; an any-depth prefix, written or
 *      implied, does not count as a wildcard) beats every other match;
 *   2. then more literal segments: segments with no wildcard (`secrets/public/`
 *      has 2 and beats `secrets/` with 1; `src/*.ts` has 1; `*.pem` has 0);
 *   3. then more literal characters, slashes excluded (`secrets/*.md` → 9
 *      beats `secrets/` → 7);
 *   4. then the later rule (preset rules come before the user's).
 * Paths no rule applies to get the default. This depends only on the rules,
 * never on the tree, so a `read` rule under a `none` directory is reported as
 * `read` and the view builder keeps its ancestors traversable.
 *
 *
 * Hiding guard, on top of that order: a rule that grants access never
 * reaches above a hiding rule. When a `none` rule applies to a path and the
 * winner is not `none`, the winner stands only if the node it matches (the
 * path or the deepest ancestor it names) lies at or below the node the `none`
 * rule hides (the shallowest one it names). So a directory grant does not
 * un-hide names inside it — agent-safe plus `src/` → write keeps `src/.env`
 * hidden — while a rule aimed inside a hidden directory still can:
 * `secrets/` → none plus `secrets/public.txt` → read shows that one file.
 */
import { createHash } from 'node:crypto';
import type { Level, Policy } from '../types.js';
import { normalizePolicy, type NormalizedPolicy, type NormalizedRule, type PolicyInput } from './schema.js';
import { ancestorsAndSelf } from '../paths.js';

/** Why a path has its level: the winning rule, or none (the default applied). */
export interface Decision {
  readonly level: Level;
  readonly rule: NormalizedRule | undefined;
}

export interface CompiledPolicy extends Policy {
  /** The validated policy, preset rules expanded. */
  readonly normalized: NormalizedPolicy;
  /** Like `levelOf`, and names the rule that decided. */
  explain(path: string, isDir: boolean): Decision;
}

/**
 * Validates `input` (see `PolicyInput`) and compiles it. `undefined` means
 * everything is readable (or the preset's policy when `preset` is given).
 * @throws WardenError E_INVALID_SPEC naming the rule and what to fix.
 * @example
 * const p = compilePolicy({ rules: [{ pattern: 'docs/', level: 'write' }] }, 'agent-safe');
 * p.levelOf('docs/a.md', false); // 'write'
 * p.levelOf('config/.env.prod', false); // 'none'
 */
export function compilePolicy(input: PolicyInput | undefined, preset?: string): CompiledPolicy {
  const normalized = normalizePolicy(input, preset);
  const { rules } = normalized;

  // Rules whose pattern names exactly one path, by that path: criterion 1.
  const exact = new Map<string, NormalizedRule[]>();
  for (const r of rules) {
    if (r.glob.literal === undefined) continue;
    const list = exact.get(r.glob.literal) ?? [];
    list.push(r);
    exact.set(r.glob.literal, list);
  }
  // Criteria 2-4 do not depend on the path: sort once, the first rule that applies wins.
  const order = new Map(rules.map((r, i) => [r, i]));
  const ranked = [...rules].sort(
    (a, b) =>
      b.glob.literalSegments - a.glob.literalSegments ||
      b.glob.literalChars - a.glob.literalChars ||
      order.get(b)! - order.get(a)!,
  );

  // Only rules anchored at a path's first name, or not anchored at a name, can apply to it.
  const byAnchor = new Map<string, NormalizedRule[]>();
  const unanchored: NormalizedRule[] = [];
  for (const r of ranked) {
    if (r.glob.anchor === undefined) unanchored.push(r);
    else if (byAnchor.has(r.glob.anchor)) byAnchor.get(r.glob.anchor)!.push(r);
    else byAnchor.set(r.glob.anchor, [r]);
  }
  const rank = new Map(ranked.map((r, i) => [r, i]));

  const firstApplying = (path: string, isDir: boolean): NormalizedRule | undefined => {
    const slash = path.indexOf('/');
    const a = byAnchor.get(slash < 0 ? path : path.slice(0, slash)) ?? [];
    const b = unanchored;
    // Merge two lists that are both in rank order.
    for (let i = 0, j = 0; i < a.length || j < b.length; ) {
      const r = j >= b.length || (i < a.length && rank.get(a[i]!)! < rank.get(b[j]!)!) ? a[i++]! : b[j++]!;
      if (r.glob.covers(path, isDir)) return r;
    }
    return undefined;
  };

  const hiders = ranked.filter((r) => r.level === 'none');

  const explain = (path: string, isDir: boolean): Decision => {
    const named = exact.get(path)?.filter((r) => isDir || !r.glob.dirOnly);
    const rule = named?.at(-1) ?? firstApplying(path, isDir);
    if (rule && rule.level !== 'none' && hiders.length > 0) {
      const nodes = ancestorsAndSelf(path);
      const grantDepth = deepestMatch(rule, nodes, isDir);
      for (const h of hiders) {
        if (!h.glob.covers(path, isDir)) continue;
        if (grantDepth < shallowestMatch(h, nodes, isDir)) return { level: 'none', rule: h };
      }
    }
    return { level: rule?.level ?? normalized.default, rule };
  };

  return Object.freeze({
    id: policyId(normalized),
    normalized,
    explain,
    levelOf: (path: string, isDir: boolean): Level => explain(path, isDir).level,
  });
}

/** Depth (1 = top level) of the deepest of `nodes` the rule names itself. */
function deepestMatch(rule: NormalizedRule, nodes: readonly string[], isDir: boolean): number {
  for (let d = nodes.length; d >= 1; d--) if (rule.glob.matches(nodes[d - 1]!, d < nodes.length || isDir)) return d;
  return 0;
}

/** Depth of the shallowest of `nodes` the rule names itself. */
function shallowestMatch(rule: NormalizedRule, nodes: readonly string[], isDir: boolean): number {
  for (let d = 1; d <= nodes.length; d++) if (rule.glob.matches(nodes[d - 1]!, d < nodes.length || isDir)) return d;
  return nodes.length + 1;
}

/**
 * sha256 (hex) of the canonical JSON of the normalised policy: default, then
 * each rule's canonical glob and level, in order, preset rules expanded.
 * Equal policies share an id, and so a view, however they were spelled
 * (`.env*` and `**\/.env*`, key order, a preset or its rules written out).
 */
export function policyId(policy: NormalizedPolicy): string {
  const canonical = JSON.stringify({ v: 1, default: policy.default, rules: policy.rules.map((r) => [r.glob.canonical, r.level]) });
  return createHash('sha256').update(canonical).digest('hex');
}
