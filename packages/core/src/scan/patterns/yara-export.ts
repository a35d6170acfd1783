import { compileRules } from './compile.js';
import type { PatternRule } from './rule.js';
import { DEFAULT_PATTERN_RULES } from './rules/index.js';
import { toYaraSource } from './yara.js';

/**
 * The rule set as standalone YARA text, with each rule's real condition and
 * its id, severity, certainty and message as meta: for `yr scan` or any
 * other YARA-X tool.
 *
 * @example
 * writeFileSync('warden.yar', patternRulesToYara());
 */
export function patternRulesToYara(rules: readonly PatternRule[] = DEFAULT_PATTERN_RULES): string {
  return toYaraSource(compileRules(rules), 'rules');
}
