/** Generates YARA text from a compiled rule set. */
import type { CompiledRules } from './compile.js';

/** YARA identifier of a rule: `patterns/reverse-shell-bash` → `reverse_shell_bash`. */
export function yaraIdentifier(ruleId: string): string {
  return ruleId.replace(/^patterns\//, '').replace(/-/g, '_');
}

/**
 * YARA source for the rule set.
 *
 * `conditions: 'rules'` writes each rule's real condition (for `yr scan` and
 * other YARA tools). `conditions: 'strings'` makes every rule report all its
 * string matches (`any of them`): the detector streams a file in windows and
 * evaluates the real conditions over the whole file itself.
 */
export function toYaraSource(compiled: CompiledRules, conditions: 'rules' | 'strings'): string {
  const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  return compiled.rules
    .map((rule, r) => {
      const strings = compiled.strings.filter((s) => s.rule === r);
      const condition =
        conditions === 'strings'
          ? 'any of them'
          : compiled.groups[r]!.map((g) => `any of (${g.map((i) => `$${compiled.strings[i]!.name}`).join(', ')})`).join(' and ');
      return [
        `rule ${yaraIdentifier(rule.id)} {`,
        '  meta:',
        `    id = ${quote(rule.id)}`,
        `    severity = ${quote(rule.severity)}`,
        `    certainty = ${quote(String(rule.certainty))}`,
        `    message = ${quote(rule.message)}`,
        '  strings:',
        ...strings.map((s) => `    $${s.name} = ${s.yara}`),
        '  condition:',
        `    ${condition}`,
        '}',
      ].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}
