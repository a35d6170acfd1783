/** `command:` — some invocation matches program, flags, operands, wrappers and dynamism together. */
import type { Invocation } from '../../types.js';
import { compileGlobs, type Matcher } from '../glob.js';
import { pathForms } from '../paths.js';
import { inLanguages, type Condition, type Facts } from './context.js';

export interface CommandSpec {
  readonly program?: readonly string[];
  readonly flags?: readonly string[];
  readonly args?: readonly string[];
  readonly via?: readonly string[];
  readonly dynamic?: boolean;
}

export function compileCommand(spec: CommandSpec): Condition {
  const program = spec.program && compileGlobs(spec.program);
  const args = spec.args && compileGlobs(spec.args, { sep: '/' });
  const via = spec.via && compileGlobs(spec.via);
  const flags = spec.flags;
  const test = (facts: Facts, inv: Invocation): boolean => {
    if (program && !program(inv.program)) return false;
    if (spec.dynamic !== undefined && inv.dynamic !== spec.dynamic) return false;
    if (via && !inv.via.some(via)) return false;
    if (!flags && !args) return true;
    const parsed = facts.args(inv);
    if (flags && !flags.every((f) => parsed.flags.has(f))) return false;
    return !args || parsed.operands.some((w) => anyForm(args, w));
  };
  return (facts, languages) => {
    const hits = facts.analysis.invocations.filter((inv) => inLanguages(languages, inv.language) && test(facts, inv));
    return hits.length > 0 ? hits.map((i) => i.span) : null;
  };
}

export function anyForm(m: Matcher, value: string): boolean {
  return pathForms(value).some(m);
}

/** `via:` — some invocation was reached through a matching wrapper (`sudo`, `bash -c`, `os.system`). */
export function compileVia(globs: readonly string[]): Condition {
  const via = compileGlobs(globs);
  return (facts, languages) => {
    const hits = facts.analysis.invocations.filter((inv) => inLanguages(languages, inv.language) && inv.via.some(via));
    return hits.length > 0 ? hits.map((i) => i.span) : null;
  };
}
