/** `path:` and `redirect:` — literal paths in code, shell operands and redirect targets. */
import type { Span } from '../../types.js';
import { compilePathGlobs } from '../glob.js';
import { anyForm } from './command.js';
import { inLanguages, type Condition, type PathCandidate } from './context.js';

export function compilePath(globs: readonly string[]): Condition {
  const m = compilePathGlobs(globs);
  return (facts, languages) => matching(facts.paths(), m, languages);
}

/** The spans of every candidate some spelling of which `m` accepts. */
export function matching(candidates: readonly PathCandidate[], m: (s: string) => boolean, languages: ReadonlySet<string> | undefined): Span[] | null {
  let spans: Span[] | null = null;
  for (const p of candidates) if ((languages === undefined || languages.has(p.language)) && p.forms.some(m)) (spans ??= []).push(...p.spans);
  return spans;
}

export interface RedirectSpec {
  readonly op?: readonly string[];
  readonly target?: readonly string[];
}

export function compileRedirect(spec: RedirectSpec): Condition {
  const ops = spec.op && new Set(spec.op);
  const target = spec.target && compilePathGlobs(spec.target);
  return (facts, languages) => {
    if (!inLanguages(languages, 'bash')) return null;
    const hits = facts.analysis.redirects.filter((r) => (!ops || ops.has(r.op)) && (!target || anyForm(facts, target, r.target)));
    return hits.length > 0 ? hits.map((r) => r.span) : null;
  };
}
