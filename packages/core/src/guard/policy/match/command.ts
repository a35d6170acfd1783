/** `command:` — some invocation matches program, flags, operands, wrappers and dynamism together. */
import type { Invocation, Span } from '../../types.js';
import { compileNameGlobs, compilePathGlobs, type Matcher } from '../glob.js';
import { inLanguages, type Condition, type Facts } from './context.js';

export interface CommandSpec {
  readonly program?: readonly string[];
  readonly flags?: readonly string[];
  readonly args?: readonly string[];
  readonly via?: readonly string[];
  readonly dynamic?: boolean;
}

export function compileCommand(spec: CommandSpec): Condition {
  const program = spec.program && compileNameGlobs(spec.program);
  const args = spec.args && compilePathGlobs(spec.args);
  const via = spec.via && compileNameGlobs(spec.via);
  const flags = spec.flags;
  const test = (facts: Facts, inv: Invocation): boolean => {
    if (spec.dynamic !== undefined && inv.dynamic !== spec.dynamic) return false;
    if (via && !inv.via.some(via)) return false;
    if (!flags && !args) return true;
    const parsed = facts.args(inv);
    if (flags && !flags.every((f) => parsed.flags.has(f))) return false;
    return !args || parsed.operands.some((w) => anyForm(facts, args, w));
  };
  return (facts, languages) => {
    let spans: Span[] | null = null;
    // Only the invocations of matching programs: the index tests each program name once.
    for (const inv of facts.invocations(program)) if (inLanguages(languages, inv.language) && test(facts, inv)) (spans ??= []).push(inv.span);
    return spans;
  };
}

/** Whether some spelling of `value` (see pathForms) matches. */
export function anyForm(facts: Facts, m: Matcher, value: string): boolean {
  return facts.forms(value).some(m);
}

/** `via:` — some invocation was reached through a matching wrapper (`sudo`, `bash -c`, `os.system`). */
export function compileVia(globs: readonly string[]): Condition {
  const via = compileNameGlobs(globs);
  return (facts, languages) => {
    let spans: Span[] | null = null;
    for (const inv of facts.analysis.invocations) if (inv.via.length > 0 && inLanguages(languages, inv.language) && inv.via.some(via)) (spans ??= []).push(inv.span);
    return spans;
  };
}
