/** Runs every rule's inline examples through an engine: what loading a rule set checks. */
import type { CompiledRules } from './compile.js';
import type { PatternEngine } from './engine.js';
import { PatternRun } from './run.js';

/** Rule ids a whole-buffer scan finds in `bytes`. */
export function ruleIdsIn(compiled: CompiledRules, engine: PatternEngine, bytes: Uint8Array, windowBytes = 1 << 20): string[] {
  const run = new PatternRun({ compiled, engine, windowBytes, maxEvidence: 1 }, bytes.length);
  run.update(bytes);
  return run.finish().findings.map((f) => f.ruleId);
}

/** One line per example that does not behave as its rule says; empty when all do. */
export function exampleFailures(compiled: CompiledRules, engine: PatternEngine): string[] {
  const failures: string[] = [];
  for (const rule of compiled.rules) {
    for (const [list, want] of [
      [rule.examples.match, true],
      [rule.examples.notMatch, false],
    ] as const) {
      for (const example of list) {
        const got = ruleIdsIn(compiled, engine, Buffer.from(example, 'latin1')).includes(rule.id);
        if (got !== want) failures.push(`${rule.id} (${engine.name}) ${want ? 'missed' : 'wrongly matched'} ${JSON.stringify(example.length > 120 ? `${example.slice(0, 117)}...` : example)}`);
      }
    }
  }
  return failures;
}
