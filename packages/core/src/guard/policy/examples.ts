/** Runs every rule's inline examples through the real analyzer: what loading a policy checks. */
import type { Analysis, GuardLanguage } from '../types.js';
import type { CompiledRule, Example } from './compile.js';
import type { FlagAliases } from './flags.js';
import { createFacts } from './match/facts.js';

/** The one method of the analyzer a policy needs (the guard's analyzer has it). */
export interface PolicyAnalyzer {
  analyze(input: { readonly language: GuardLanguage; readonly code: string }): Analysis;
}

/** Whether `rule` matches `example`, analysed for real. */
export function ruleMatches(rule: CompiledRule, example: Example, analyzer: PolicyAnalyzer, aliases: FlagAliases): boolean {
  return rule.when(createFacts(analyzer.analyze(example), aliases), rule.languages) !== null;
}

/** One line per example that does not behave as its rule says; empty when all do. */
export function exampleFailures(rules: readonly CompiledRule[], analyzer: PolicyAnalyzer, aliases: FlagAliases): string[] {
  const failures: string[] = [];
  for (const rule of rules) {
    for (const [list, want] of [
      [rule.examples.match, true],
      [rule.examples.notMatch, false],
    ] as const) {
      for (const example of list) {
        let got: boolean;
        try {
          got = ruleMatches(rule, example, analyzer, aliases);
        } catch (err) {
          failures.push(`rule ${rule.id}: example ${show(example)} could not be evaluated: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        if (got !== want) {
          failures.push(`rule ${rule.id}: ${want ? 'match' : 'not_match'} example ${show(example)} ${want ? 'does not match the rule' : 'matches the rule'}; fix the rule's when or the example.`);
        }
      }
    }
  }
  return failures;
}

function show(e: Example): string {
  const code = e.code.length > 80 ? `${e.code.slice(0, 77)}...` : e.code;
  return `${JSON.stringify(code)} (${e.language})`;
}
