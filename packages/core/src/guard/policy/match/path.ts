/** `path:` and `redirect:` — literal paths in code, shell operands and redirect targets. */
import { compileGlobs } from '../glob.js';
import { anyForm } from './command.js';
import { inLanguages, type Condition } from './context.js';

export function compilePath(globs: readonly string[]): Condition {
  const m = compileGlobs(globs, { sep: '/' });
  return (facts, languages) => {
    const hits = facts.paths().filter((p) => inLanguages(languages, p.language) && anyForm(m, p.value));
    return hits.length > 0 ? hits.map((p) => p.span) : null;
  };
}

export interface RedirectSpec {
  readonly op?: readonly string[];
  readonly target?: readonly string[];
}

export function compileRedirect(spec: RedirectSpec): Condition {
  const ops = spec.op && new Set(spec.op);
  const target = spec.target && compileGlobs(spec.target, { sep: '/' });
  return (facts, languages) => {
    if (!inLanguages(languages, 'bash')) return null;
    const hits = facts.analysis.redirects.filter((r) => (!ops || ops.has(r.op)) && (!target || anyForm(target, r.target)));
    return hits.length > 0 ? hits.map((r) => r.span) : null;
  };
}
