/** Every curated rule, on every engine: its inline examples, its YARA text, its RegExps. */
import { hasCode } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import { compileRules } from './compile.js';
import type { EngineName, PatternEngine } from './engine.js';
import { createJsEngine } from './engines/js.js';
import { createYaraEngine, loadYaraX } from './engines/yarax.js';
import { ruleIdsIn } from './examples.js';
import { patternsDetector } from './detector.js';
import type { PatternRule } from './rule.js';
import { DEFAULT_PATTERN_RULES } from './rules/index.js';
import { countedSearch } from './syntax/backtrack.js';
import { patternRulesToYara } from './yara-export.js';

const compiled = compileRules(DEFAULT_PATTERN_RULES);
const yara = loadYaraX();
const engines: Record<EngineName, PatternEngine | undefined> = {
  js: createJsEngine(compiled),
  'yara-x': 'binding' in yara ? createYaraEngine(compiled, yara.binding) : undefined,
};

it('YARA-X loads here (a missing binary fails in CI, skips locally)', (ctx) => {
  if ('error' in yara) {
    if (process.env.CI) throw new Error(`@litko/yara-x did not load: ${yara.error}`);
    ctx.skip(`@litko/yara-x did not load: ${yara.error}`);
  }
});

it('covers every threat family the scanner promises', () => {
  expect(DEFAULT_PATTERN_RULES.map((r) => r.id)).toEqual([
    'patterns/reverse-shell-bash',
    'patterns/reverse-shell-netcat',
    'patterns/reverse-shell-python',
    'patterns/reverse-shell-perl',
    'patterns/reverse-shell-php',
    'patterns/reverse-shell-ruby',
    'patterns/reverse-shell-socat',
    'patterns/reverse-shell-mkfifo',
    'patterns/crypto-miner-pool',
    'patterns/crypto-miner',
    'patterns/webshell-php-eval',
    'patterns/webshell-php-system',
    'patterns/webshell-jsp',
    'patterns/encoded-exec-shell',
    'patterns/encoded-exec-js',
    'patterns/encoded-exec-python',
    'patterns/encoded-exec-powershell',
    'patterns/credential-exfiltration',
    'patterns/prompt-injection-override',
    'patterns/prompt-injection-role',
    'patterns/prompt-injection-hidden',
    'patterns/prompt-injection-exfiltrate',
    'patterns/eicar',
    'patterns/clamav-test-file',
  ]);
  const eicar = DEFAULT_PATTERN_RULES.find((r) => r.id === 'patterns/eicar')!;
  expect([eicar.severity, eicar.certainty]).toEqual(['critical', 1]);
});

describe.each(['js', 'yara-x'] as const)('examples on the %s engine', (name) => {
  const engine = engines[name];
  describe.each(DEFAULT_PATTERN_RULES.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    it.skipIf(!engine).each(rule.examples.match.map((e) => [e]))('matches %j', (example) => {
      expect(ruleIdsIn(compiled, engine!, Buffer.from(example, 'latin1'))).toContain(rule.id);
    });
    it.skipIf(!engine).each(rule.examples.notMatch.map((e) => [e]))('does not match %j', (example) => {
      expect(ruleIdsIn(compiled, engine!, Buffer.from(example, 'latin1'))).not.toContain(rule.id);
    });
  });
});

describe('the standalone YARA text', () => {
  it.skipIf('error' in yara)('compiles without warnings and decides every example as the detector does', () => {
    if (!('binding' in yara)) return;
    const source = patternRulesToYara();
    expect(yara.binding.validate(source)).toEqual({ warnings: [], errors: [] });
    const rules = yara.binding.compile(source);
    const idOf = new Map(DEFAULT_PATTERN_RULES.map((r) => [r.id.replace('patterns/', '').replace(/-/g, '_'), r.id]));
    for (const rule of DEFAULT_PATTERN_RULES) {
      for (const example of [...rule.examples.match, ...rule.examples.notMatch]) {
        const bytes = Buffer.from(example, 'latin1');
        const standalone = rules.scan(bytes).map((m) => idOf.get(m.ruleIdentifier));
        expect(standalone.sort(), example).toEqual(ruleIdsIn(compiled, engines.js!, bytes).sort());
      }
    }
  });
});

describe('the JS RegExps and the work-counting matcher agree', () => {
  // The ReDoS test counts the matcher's steps; that only means something if it matches as V8 does.
  it.each(compiled.strings.map((s) => [`${compiled.rules[s.rule]!.id} $${s.name}`, s] as const))('%s', (_name, s) => {
    const rule = compiled.rules[s.rule]!;
    const re = new RegExp(s.js.source, `${s.js.flags}g`);
    for (const example of [...rule.examples.match, ...rule.examples.notMatch]) {
      const v8 = [...example.matchAll(re)].map((m) => ({ offset: m.index, length: m[0].length }));
      expect(countedSearch(s.pattern.root, Buffer.from(example, 'latin1')).matches, example).toEqual(v8);
    }
  });
});

describe('rule validation', () => {
  const good: PatternRule = {
    id: 'patterns/test-rule',
    severity: 'low',
    certainty: 0.5,
    message: 'A test rule.',
    strings: { a: 'needle' },
    examples: { match: ['a needle'], notMatch: ['hay'] },
  };

  it('accepts a well-formed rule', () => {
    expect(compileRules([good]).strings).toHaveLength(1);
  });

  it('reports every problem of every rule at once, with E_INVALID_ARGUMENT', () => {
    const bad: PatternRule[] = [
      { ...good, id: 'reverse shell', certainty: 2, strings: { a: 'x+', 'B!': 'ab' } },
      { ...good, strings: { a: '[^\\n]{0,900}[^\\n]{0,900}needle' }, requireAll: [['a', 'zzz']] },
      { ...good, severity: 'severe' as PatternRule['severity'], examples: { match: [], notMatch: [] } },
    ];
    let caught: unknown;
    try {
      compileRules(bad);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'E_INVALID_ARGUMENT')).toBe(true);
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    expect(problems.join('\n')).toMatch(/id must look like patterns\/<kebab-name>/);
    expect(problems.join('\n')).toMatch(/certainty must be a number in \(0, 1\], got 2/);
    expect(problems.join('\n')).toMatch(/unbounded repetition \+/);
    expect(problems.join('\n')).toMatch(/name must match/);
    expect(problems.join('\n')).toMatch(/literal of at least 3 bytes/);
    expect(problems.join('\n')).toMatch(/more than MAX_MATCH_BYTES/);
    expect(problems.join('\n')).toMatch(/opens with a gap/);
    expect(problems.join('\n')).toMatch(/requireAll names "zzz"/);
    expect(problems.join('\n')).toMatch(/severity must be one of/);
    expect(problems.join('\n')).toMatch(/at least one match and one notMatch/);
    expect(problems.length).toBeGreaterThanOrEqual(10);
  });

  it.each(['js', 'yara-x'] as const)('refuses to load rules whose examples disagree with them (%s)', (engine) => {
    if (engine === 'yara-x' && !engines['yara-x']) return;
    const wrong: PatternRule = { ...good, examples: { match: ['no such thing'], notMatch: ['needle'] } };
    let caught: unknown;
    try {
      patternsDetector({ engine, rules: [wrong] });
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'E_INVALID_ARGUMENT')).toBe(true);
    expect(String((caught as Error).message)).toContain(`patterns/test-rule (${engine}) missed "no such thing"`);
    expect(String((caught as Error).message)).toContain(`patterns/test-rule (${engine}) wrongly matched "needle"`);
  });
});

