/** `pipe:` — a program in one pipeline stage feeds a later stage (`curl … | sh`). */
import type { Span } from '../../types.js';
import { compileNameGlobs } from '../glob.js';
import { inLanguages, type Condition } from './context.js';

export interface PipeSpec {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

export function compilePipe(spec: PipeSpec): Condition {
  const from = compileNameGlobs(spec.from);
  const to = compileNameGlobs(spec.to);
  return (facts, languages) => {
    let spans: Span[] | null = null;
    for (const stages of facts.pipelines()) {
      const froms = stages.filter((a) => inLanguages(languages, a.language) && from(a.program));
      if (froms.length === 0) continue;
      for (const b of stages) {
        if (!inLanguages(languages, b.language) || !to(b.program)) continue;
        for (const a of froms) if (a.pipeline!.stage < b.pipeline!.stage) (spans ??= []).push(a.span, b.span);
      }
    }
    return spans;
  };
}
