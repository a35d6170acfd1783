/** Builds the per-analysis memo every condition of one policy shares. */
import type { Analysis, Invocation } from '../../types.js';
import { parseArgs, type FlagAliases, type ParsedArgs } from '../flags.js';
import { looksLikePath } from '../paths.js';
import type { Facts, PathCandidate } from './context.js';
import { writeTargets } from './write-targets.js';

export function createFacts(analysis: Analysis, aliases: FlagAliases): Facts {
  const parsed = new Map<Invocation, ParsedArgs>();
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
    paths() {
      if (paths) return paths;
      paths = [];
      for (const s of analysis.strings) if (looksLikePath(s.value)) paths.push({ value: s.value, span: s.span, language: analysis.language });
      for (const r of analysis.redirects) paths.push({ value: r.target, span: r.span, language: 'bash' });
      for (const inv of analysis.invocations) {
        for (const w of facts.args(inv).operands) if (w.length > 0 && w.length <= 4096) paths.push({ value: w, span: inv.span, language: inv.language });
      }
      return paths;
    },
    writes() {
      writes ??= writeTargets(facts);
      return writes;
    },
  };
  return facts;
}
