/** `call:` and `import:` — Python and JS/TS calls (callee resolved through aliases) and imports. */
import type { Span } from '../../types.js';
import { compileNameGlobs, compilePathGlobs } from '../glob.js';
import { anyForm } from './command.js';
import { inLanguages, type Condition } from './context.js';

export interface CallSpec {
  readonly name: readonly string[];
  readonly args?: readonly string[];
  readonly dynamic?: boolean;
}

export function compileCall(spec: CallSpec): Condition {
  const name = compileNameGlobs(spec.name);
  const args = spec.args && compilePathGlobs(spec.args);
  return (facts, languages) => {
    let spans: Span[] | null = null;
    for (const c of facts.calls(name)) {
      if (!inLanguages(languages, c.language)) continue;
      // `dynamic` is about the first argument: eval(x) is, eval("1+1") is not.
      if (spec.dynamic !== undefined && (c.args.length > 0 && c.args[0] === null) !== spec.dynamic) continue;
      // A list of literals arrives joined with NUL: each element is an argument too.
      if (args && !c.args.some((a) => a !== null && (anyForm(facts, args, a) || (a.includes('\0') && a.split('\0').some((part) => anyForm(facts, args, part)))))) continue;
      (spans ??= []).push(c.span);
    }
    return spans;
  };
}

export function compileImport(globs: readonly string[]): Condition {
  const m = compileNameGlobs(globs);
  // ctypes matches ctypes.util; node:child_process is child_process; fs matches fs/promises.
  const test = (module: string): boolean => {
    const bare = module.startsWith('node:') ? module.slice(5) : module;
    if (m(module) || m(bare)) return true;
    for (let i = 0; i < bare.length; i++) if ((bare[i] === '.' || bare[i] === '/') && i > 0 && m(bare.slice(0, i))) return true;
    return false;
  };
  return (facts, languages) => {
    const hits = facts.analysis.imports.filter((im) => inLanguages(languages, im.language) && test(im.module));
    return hits.length > 0 ? hits.map((im) => im.span) : null;
  };
}
