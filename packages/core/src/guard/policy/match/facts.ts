/** Builds the per-analysis memo every condition of one policy shares. */
import type { Analysis, Call, GuardLanguage, Invocation, Span } from '../../types.js';
import { parseArgs, type FlagAliases, type ParsedArgs } from '../flags.js';
import type { NameMatcher } from '../glob.js';
import { looksLikePath, pathForms } from '../paths.js';
import { asciiLower } from '../regex-safety.js';
import type { Facts, PathCandidate } from './context.js';
import { writeTargets, type Target } from './write-targets.js';

export function createFacts(analysis: Analysis, aliases: FlagAliases): Facts {
  const parsed = new Map<Invocation, ParsedArgs>();
  const forms = new Map<string, readonly string[]>();
  let programs: Map<string, Invocation[]> | undefined;
  let callNames: Map<string, Call[]> | undefined;
  let pipelines: Invocation[][] | undefined;
  let lower: string | undefined;
  let paths: PathCandidate[] | undefined;
  let writes: PathCandidate[] | undefined;

  const facts: Facts = {
    analysis,
    args(inv) {
      let p = parsed.get(inv);
      if (!p) {
        p = parseArgs(inv.argv, Object.hasOwn(aliases, inv.program) ? aliases[inv.program] : undefined);
        parsed.set(inv, p);
      }
      return p;
    },
    forms(value) {
      let f = forms.get(value);
      if (!f) {
        f = pathForms(value);
        forms.set(value, f);
      }
      return f;
    },
    invocations(program) {
      if (!program) return analysis.invocations;
      programs ??= groupBy(analysis.invocations, (inv) => inv.program);
      return select(programs, program);
    },
    calls(name) {
      callNames ??= groupBy(analysis.calls, (c) => c.name);
      return select(callNames, name);
    },
    pipelines() {
      if (!pipelines) {
        const byId = groupBy(
          analysis.invocations.filter((inv) => inv.pipeline !== undefined),
          (inv) => inv.pipeline!.id,
        );
        pipelines = [...byId.values()].map((list) => list.sort((a, b) => a.pipeline!.stage - b.pipeline!.stage));
      }
      return pipelines;
    },
    lowerText() {
      lower ??= asciiLower(analysis.text);
      return lower;
    },
    paths() {
      if (paths) return paths;
      const raw: Target[] = [];
      for (const s of analysis.strings) if (looksLikePath(s.value)) raw.push({ value: s.value, span: s.span, language: analysis.language });
      for (const r of analysis.redirects) raw.push({ value: r.target, span: r.span, language: 'bash' });
      for (const inv of analysis.invocations) {
        for (const w of facts.args(inv).operands) if (w.length > 0 && w.length <= 4096) raw.push({ value: w, span: inv.span, language: inv.language });
      }
      paths = candidates(raw, facts);
      return paths;
    },
    writes() {
      writes ??= candidates(writeTargets(facts), facts);
      return writes;
    },
  };
  return facts;
}

function groupBy<K, V>(list: readonly V[], key: (v: V) => K): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const v of list) {
    const k = key(v);
    const g = out.get(k);
    if (g) g.push(v);
    else out.set(k, [v]);
  }
  return out;
}

const NONE: readonly never[] = [];

/** Everything under the names `m` accepts: looked up when it accepts a fixed set, else each name tested once. */
function select<V>(groups: ReadonlyMap<string, V[]>, m: NameMatcher): readonly V[] {
  let out: V[] | undefined;
  if (m.only && m.only.size <= groups.size) {
    for (const name of m.only) {
      const list = groups.get(name);
      if (list) out = out ? out.concat(list) : list;
    }
  } else {
    for (const [name, list] of groups) if (m(name)) out = out ? out.concat(list) : list;
  }
  return out ?? NONE;
}

type Candidate = { value: string; forms: readonly string[]; language: GuardLanguage; spans: Span[] };

/** One candidate per distinct value and language, with its spellings and every span. */
function candidates(raw: readonly Target[], facts: Facts): PathCandidate[] {
  const byLanguage = new Map<GuardLanguage, Map<string, Candidate>>();
  const out: Candidate[] = [];
  for (const t of raw) {
    let byValue = byLanguage.get(t.language);
    if (!byValue) {
      byValue = new Map<string, Candidate>();
      byLanguage.set(t.language, byValue);
    }
    const c = byValue.get(t.value);
    if (c) c.spans.push(t.span);
    else {
      const fresh = { value: t.value, forms: facts.forms(t.value), language: t.language, spans: [t.span] };
      byValue.set(t.value, fresh);
      out.push(fresh);
    }
  }
  return out;
}
