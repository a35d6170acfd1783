/** Loading policies: every way a policy can be wrong is one E_POLICY_INVALID naming the rule and the field. */
import { hasCode, isWardenError } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from './load.js';
import { fakeAnalyzer } from './testing.js';

const analyzer = fakeAnalyzer();

/** A rule in YAML with the given `when` and examples. */
const rule = (when: string, match = '[rm -rf /]', notMatch = '[ls]', extra = ''): string => `
  - id: fs.test
    category: fs-destructive
    risk: high
    decision: deny
    message: test rule${extra}
    when: ${when}
    examples: { match: ${match}, not_match: ${notMatch} }
`;
const policy = (rules: string, head = ''): string => `version: 1\n${head}rules:${rules}`;
const good = rule('{ command: { program: [rm], flags: [r] } }');

describe('invalid policies', () => {
  const cases: { name: string; source: string | object; message: RegExp; rules?: string[] }[] = [
    { name: 'bad YAML', source: 'version: 1\nrules: [\n', message: /the YAML does not parse at line \d+, column \d+/ },
    { name: 'a repeated key', source: 'version: 1\nversion: 1\n', message: /Map keys must be unique/ },
    { name: 'a list at the top', source: '- version: 1\n', message: /expected a mapping at the top/ },
    { name: 'a wrong version', source: 'version: 2\n', message: /version must be 1, got 2 \(number\)\. Write version: 1\./ },
    { name: 'an unknown top-level field', source: 'version: 1\nrulez: []\n', message: /unknown option "rulez"; known options are version, description, definitions, mode/ },
    { name: 'an unknown rule field', source: policy(good.replace('    message:', '    severity: high\n    message:')), message: /rule fs\.test: .*unknown option "severity"/, rules: ['fs.test'] },
    { name: 'an unknown condition', source: policy(rule('{ commandz: { program: [rm] } }')), message: /rule fs\.test: when has an unknown option "commandz"/, rules: ['fs.test'] },
    { name: 'a bad risk', source: policy(good.replace('risk: high', 'risk: extreme')), message: /rule fs\.test: risk must be one of "low", "medium", "high", "critical", got "extreme"/ },
    { name: 'a bad id', source: policy(good.replace('id: fs.test', 'id: Not_Dotted')), message: /rule Not_Dotted: id must be a dotted lowercase id such as fs\.rm-root/ },
    { name: 'an empty when', source: policy(rule('{}')), message: /rule fs\.test: when must be an object with at least one condition/ },
    { name: 'no not_match examples', source: policy(rule('{ command: { program: [rm] } }', '[rm -rf /]', '[]')), message: /rule fs\.test: examples\.not_match must be a non-empty list/ },
    { name: 'a bad regex', source: policy(rule("{ regex: 'rm(' }")), message: /rule fs\.test: when\.regex: missing \)/, rules: ['fs.test'] },
    { name: 'an unsafe regex', source: policy(rule("{ regex: '(a+)+' }")), message: /rule fs\.test: when\.regex: unbounded repetition \+/ },
    { name: 'a slow regex', source: policy(rule("{ regex: 'rm\\s{0,40}\\s{0,40}x' }")), message: /rule fs\.test: when\.regex: .*could backtrack catastrophically/ },
    { name: 'a regex that is too long', source: policy(rule(`{ regex: '${'a'.repeat(600)}' }`)), message: /rule fs\.test: when\.regex must be a bounded pattern of at most 512 characters/ },
    { name: 'a bad glob', source: policy(rule("{ path: ['/etc/[abc'] }")), message: /rule fs\.test: when\.path: glob "\/etc\/\[abc" has a \[ without a closing \]/ },
    { name: 'a bad glob deep inside any/not', source: policy(rule("{ any: [ { command: { program: [rm] } }, { not: { import: ['a{b'] } } ] }")), message: /rule fs\.test: when\.any\[1\]\.not\.import: glob "a\{b" has a \{ without a \}/ },
    { name: 'a bad query', source: policy(rule("{ query: { python: '(((call' } }")), message: /rule fs\.test: when\.query\.python: the tree-sitter query does not compile/ },
    { name: 'a match example that does not match', source: policy(rule('{ command: { program: [rm], flags: [r] } }', '[rm -rf /, rm /x]')), message: /rule fs\.test: match example "rm \/x" \(bash\) does not match the rule/ },
    { name: 'a not_match example that matches', source: policy(rule('{ command: { program: [rm] } }', '[rm -rf /]', '[rm x]')), message: /rule fs\.test: not_match example "rm x" \(bash\) matches the rule/ },
    { name: 'a duplicate id', source: policy(good + good), message: /rule fs\.test: duplicate id/ },
    { name: 'a reserved id', source: policy(good.replace('id: fs.test', 'id: guard.mine')), message: /rule guard\.mine: ids starting with guard\. are reserved/ },
    { name: 'on_error allow', source: 'version: 1\non_error: allow\n', message: /on_error must be one of "ask", "deny", got "allow" \(string\)\. Code the guard cannot analyse is never allowed/ },
    { name: 'a bad mode', source: 'version: 1\nmode: strict\n', message: /mode must be one of "off", "audit-only", "enforce", got "strict"/ },
    { name: 'a bad flag alias', source: 'version: 1\nflag_aliases: { rm: { "--x": r } }\n', message: /flag_aliases\.rm/ },
    { name: 'an object that is not plain data', source: { version: 1, rules: [() => 1] }, message: /function, symbol or other value that cannot be copied/ },
  ];
  it.each(cases)('refuses $name', ({ source, message, rules }) => {
    let caught: unknown;
    try {
      loadPolicy(source as string, { layer: 'tenant', analyzer });
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'E_POLICY_INVALID')).toBe(true);
    if (!isWardenError(caught)) return;
    expect(caught.message).toMatch(/^Invalid guard policy \(layer tenant\)/);
    expect(caught.message).toMatch(message);
    expect(caught.details.layer).toBe('tenant');
    if (rules) expect(caught.details.rules).toEqual(rules);
  });

  it('reports every problem of every rule at once', () => {
    const two = policy(rule("{ regex: '(a+)+' }") + rule("{ path: ['[x'] }").replace('fs.test', 'fs.other'));
    expect(() => loadPolicy(two, { layer: 'server', analyzer })).toThrow(/2 problems: rule fs\.test: .* rule fs\.other: /);
  });

  it('refuses a bad layer name with E_INVALID_ARGUMENT', () => {
    expect(() => loadPolicy('version: 1', { layer: 'Tenant A', analyzer })).toThrow(/layer must be a lowercase name such as "server", "tenant" or "sandbox", got "Tenant A"/);
    try {
      loadPolicy('version: 1', { layer: 'Tenant A', analyzer });
    } catch (err) {
      expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
    }
  });
});

describe('valid policies', () => {
  it('fills defaults and freezes the result', () => {
    const p = loadPolicy('version: 1\n', { layer: 'tenant', analyzer });
    expect([p.layer, p.mode, p.default, p.onError, p.rules.length]).toEqual(['tenant', undefined, 'allow', 'ask', 0]);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('accepts the same policy as an object, with YAML anchors, and examples per language', () => {
    const yaml = `version: 1
mode: audit-only
default: ask
on_error: deny
rules:
  - id: code.eval
    category: code-eval
    risk: high
    decision: ask
    message: eval of something computed
    languages: [python, javascript]
    when: { call: { name: &evals [eval, exec], dynamic: true } }
    examples:
      match: ['eval(x)', { javascript: 'eval(y)' }]
      not_match: ['eval("1")', { bash: 'eval' }]
  - id: code.any-eval
    category: code-eval
    risk: low
    decision: allow
    message: any eval
    when: { call: { name: *evals } }
    examples: { match: [{ python: 'eval("1")' }], not_match: [ls] }
`;
    const p = loadPolicy(yaml, { layer: 'sandbox', analyzer });
    expect([p.mode, p.default, p.onError]).toEqual(['audit-only', 'ask', 'deny']);
    expect(p.rules.map((r) => r.id)).toEqual(['code.eval', 'code.any-eval']);
    expect(p.rules[0]!.examples.match.map((e) => e.language)).toEqual(['python', 'javascript']);
    const fromObject = loadPolicy({ version: 1, rules: [] }, { layer: 'sandbox', analyzer });
    expect(fromObject.rules).toEqual([]);
  });
});
