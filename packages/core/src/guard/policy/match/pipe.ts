/** `pipe:` — a program in one pipeline stage feeds a later stage (`curl … | sh`). */
import type { Invocation, Span } from '../../types.js';
import { compileGlobs } from '../glob.js';
import { inLanguages, type Condition } from './context.js';

export interface PipeSpec {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

export function compilePipe(spec: PipeSpec): Condition {
  const from = compileGlobs(spec.from);
  const to = compileGlobs(spec.to);
  return (facts, languages) => {
    const byPipeline = new Map<number, Invocation[]>();
    for (const inv of facts.analysis.invocations) {
      if (!inv.pipeline || !inLanguages(languages, inv.language)) continue;
      const list = byPipeline.get(inv.pipeline.id) ?? [];
      list.push(inv);
      byPipeline.set(inv.pipeline.id, list);
    }
    const spans: Span[] = [];
    for (const list of byPipeline.values()) {
      for (const a of list) {
        if (!from(a.program)) continue;
        for (const b of list) if (b.pipeline!.stage > a.pipeline!.stage && to(b.program)) spans.push(a.span, b.span);
      }
    }
    return spans.length > 0 ? spans : null;
  };
}
