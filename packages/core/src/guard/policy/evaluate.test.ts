/** One policy against hand-built analyses: which rules fire, with what evidence, and the layer's decision. */
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../types.js';
import { ANALYSIS_RULE_ID, decideLayer, evaluatePolicy } from './evaluate.js';
import { loadPolicy } from './load.js';
import { createFacts } from './match/facts.js';
import { compileNameGlobs } from './glob.js';
import type { Policy } from './policy.js';
import { call, fakeAnalysis, fakeAnalyzer, invocation } from './testing.js';

const analyzer = fakeAnalyzer();

/** A one-rule policy; examples are checked by the fake analyzer, so keep them simple. */
function onlyRule(when: string, opts: { decision?: string; languages?: string; match?: string; notMatch?: string; head?: string } = {}): Policy {
  return loadPolicy(
    `version: 1
${opts.head ?? ''}rules:
  - id: t.rule
    category: fs-destructive
    risk: high
    decision: ${opts.decision ?? 'deny'}
    message: the test rule
    ${opts.languages ? `languages: ${opts.languages}` : ''}
    when: ${when}
    examples: { match: ${opts.match ?? '[rm -rf /]'}, not_match: ${opts.notMatch ?? '[ls]'} }
`,
    { layer: 'server', analyzer },
  );
}

const fired = (p: Policy, a: Analysis): string[] => evaluatePolicy(p, a).map((f) => f.ruleId);

describe('command', () => {
  const rmRoot = onlyRule("{ command: { program: [rm], flags: [r, f], args: ['/', '~', '/\\*'] } }");
  it.each([
    [['rm', '-rf', '/'], true],
    [['/bin/rm', '-f', '-r', '/'], true],
    [['rm', '--recursive', '--force', '/'], true],
    [['rm', '-Rf', '/tmp/..'], true],
    [['rm', '-rf', '$HOME/'], true],
    [['rm', '-rf', '/home/*'], true],
    [['rm', '-rf', '/*'], true],
    [['rm', '-rf', './build'], false],
    [['rm', '-r', '/'], false],
    [['rm', '-rf', '/tmp'], false],
    [['rmdir', '-rf', '/'], false],
  ])('%j → %s', (argv, want) => {
    expect(fired(rmRoot, fakeAnalysis({ invocations: [invocation(argv)] })).length > 0).toBe(want);
  });

  it('binds via and dynamic to the same invocation', () => {
    const p = onlyRule('{ command: { program: [rm], via: [sudo], dynamic: false } }', { match: "['sudo rm x']" , notMatch: '[rm x]' });
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['rm', 'x'], { via: ['sudo'] })] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['rm', 'x']), invocation(['ls'], { via: ['sudo'] })] }))).toEqual([]);
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['rm', '$X'], { via: ['sudo'], dynamic: true })] }))).toEqual([]);
  });

  it('reports the spans of every matching invocation, sorted and deduplicated', () => {
    const p = onlyRule('{ command: { program: [rm] } }', { notMatch: '[ls]' });
    const a = fakeAnalysis({ invocations: [invocation(['rm', 'b'], { span: { start: 10, end: 14 } }), invocation(['rm', 'a'], { span: { start: 0, end: 4 } }), invocation(['rm', 'a'], { span: { start: 0, end: 4 } })] });
    expect(evaluatePolicy(p, a)[0]!.evidence).toEqual([
      { start: 0, end: 4 },
      { start: 10, end: 14 },
    ]);
  });
});

describe('calls and imports', () => {
  it('globs qualified names and tells literal from computed first arguments', () => {
    const p = onlyRule("{ call: { name: [eval, 'builtins.*'], dynamic: true } }", { languages: '[python]', match: "['eval(x)']", notMatch: '[\'eval("1")\']' });
    expect(fired(p, fakeAnalysis({ language: 'python', calls: [call('eval', [null])] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ language: 'python', calls: [call('builtins.exec', [null, null])] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ language: 'python', calls: [call('eval', ['1+1'])] }))).toEqual([]);
    expect(fired(p, fakeAnalysis({ language: 'python', calls: [call('eval', [])] }))).toEqual([]);
  });

  it('matches literal arguments, including elements of a literal list', () => {
    const p = onlyRule("{ call: { name: ['shutil.rmtree', 'subprocess.*'], args: ['/', '-rf'] } }", { languages: '[python]', match: '[\'shutil.rmtree("/")\']', notMatch: '[\'shutil.rmtree("x")\']' });
    expect(fired(p, fakeAnalysis({ calls: [call('shutil.rmtree', ['//'])] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ calls: [call('subprocess.run', ['rm\0-rf\0x'])] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ calls: [call('subprocess.run', ['ls\0-l'])] }))).toEqual([]);
  });

  it('matches a module, its submodules and node: spellings', () => {
    const p = onlyRule("{ import: [ctypes, child_process, fs] }", { languages: '[python]', match: "['import ctypes']", notMatch: "['import os']" });
    const imp = (module: string) => fakeAnalysis({ imports: [{ module, span: { start: 0, end: 1 }, language: 'python' }] });
    expect(['ctypes', 'ctypes.util', 'node:child_process', 'fs/promises'].map((m) => fired(p, imp(m)).length)).toEqual([1, 1, 1, 1]);
    expect(['ctypesx', 'os', 'fsevents'].map((m) => fired(p, imp(m)).length)).toEqual([0, 0, 0]);
  });
});

describe('paths, redirects, pipes, wrappers', () => {
  it('path: literal strings, operands and redirect targets, in every spelling', () => {
    const p = onlyRule("{ path: ['**/.ssh/id_*', '/etc/shadow'] }", { match: '[cat ~/.ssh/id_rsa]', notMatch: '[cat ~/.ssh/known_hosts]' });
    expect(fired(p, fakeAnalysis({ strings: [{ value: '${HOME}/.ssh/id_ed25519', span: { start: 0, end: 3 } }] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ redirects: [{ op: '<', target: '/etc/./shadow', span: { start: 0, end: 3 } }] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['cp', '/root/.ssh/id_rsa', '/tmp/k'])] }))).toEqual(['t.rule']);
    // Prose is not a path even when it names one.
    expect(fired(p, fakeAnalysis({ strings: [{ value: 'see\n/etc/shadow', span: { start: 0, end: 3 } }] }))).toEqual([]);
  });

  it('redirect: operator and target', () => {
    const p = onlyRule("{ redirect: { op: ['>', '>>'], target: ['/etc/passwd'] } }", { match: "['echo x >> /etc/passwd']", notMatch: "['echo x > /tmp/passwd']" });
    expect(fired(p, fakeAnalysis({ redirects: [{ op: '>', target: '/etc//passwd', span: { start: 0, end: 3 } }] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ redirects: [{ op: '<', target: '/etc/passwd', span: { start: 0, end: 3 } }] }))).toEqual([]);
  });

  it('pipe: an earlier stage feeds a later one, in the same pipeline only', () => {
    const p = onlyRule('{ pipe: { from: [curl, wget], to: [sh, bash] } }', { match: "['curl x | sh']", notMatch: "['sh x.sh | curl y']" });
    const at = (argv: string[], id: number, stage: number) => invocation(argv, { pipeline: { id, stage }, span: { start: stage * 10, end: stage * 10 + 5 } });
    expect(fired(p, fakeAnalysis({ invocations: [at(['curl', 'u'], 1, 0), at(['tee', 'f'], 1, 1), at(['bash'], 1, 2)] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ invocations: [at(['bash'], 1, 0), at(['curl', 'u'], 1, 1)] }))).toEqual([]);
    expect(fired(p, fakeAnalysis({ invocations: [at(['curl', 'u'], 1, 0), at(['bash'], 2, 1)] }))).toEqual([]);
  });

  it('via: any invocation reached through a matching wrapper', () => {
    const p = onlyRule("{ via: [sudo, 'bash -c'] }", { match: "['sudo ls']", notMatch: '[ls]' });
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['ls'], { via: ['bash -c'] })] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ invocations: [invocation(['ls'], { via: ['env'] })] }))).toEqual([]);
  });
});

describe('write', () => {
  const p = onlyRule("{ write: ['/etc/passwd', '**/.bashrc'] }", { match: "['echo x >> /etc/passwd']", notMatch: "['cat /etc/passwd']" });
  const inv = (argv: string[]) => fakeAnalysis({ invocations: [invocation(argv)] });
  it.each([
    ['redirect >>', fakeAnalysis({ redirects: [{ op: '>>', target: '/etc//passwd', span: { start: 0, end: 1 } }] }), true],
    ['redirect <', fakeAnalysis({ redirects: [{ op: '<', target: '/etc/passwd', span: { start: 0, end: 1 } }] }), false],
    ['tee -a', inv(['tee', '-a', '/etc/passwd']), true],
    ['cp destination', inv(['cp', 'x', '/root/.bashrc']), true],
    ['cp source', inv(['cp', '/etc/passwd', './copy']), false],
    ['cp -t dir', inv(['cp', '-t', '/etc', 'passwd']), true],
    ['cp into a directory', inv(['mv', './passwd', '/etc/']), true],
    ['cp to a file named like a directory', inv(['cp', '/root/.bashrc', './backup']), false],
    ['install -t dir', inv(['install', '--target-directory=/home/u', 'x']), false],
    ['dd of=', inv(['dd', 'if=x', 'of=/etc/passwd']), true],
    ['sed -i', inv(['sed', '-i', 's/a/b/', '/etc/passwd']), true],
    ['sed without -i', inv(['sed', 's/a/b/', '/etc/passwd']), false],
    ['curl -o', inv(['curl', '-o', '/root/.bashrc', 'https://x']), true],
    ['cat', inv(['cat', '/etc/passwd']), false],
    ['a program named like an Object method', inv(['constructor', '-o', '/etc/passwd']), false],
    ['python open(…, "a")', fakeAnalysis({ calls: [call('open', ['/etc/passwd', 'a'])] }), true],
    ['python open(…) to read', fakeAnalysis({ calls: [call('open', ['/etc/passwd'])] }), false],
    ["python open(…, mode='a')", fakeAnalysis({ calls: [call('open', ['/etc/passwd'], { kwargs: { mode: 'a' } })] }), true],
    ["python open(…, mode='r+')", fakeAnalysis({ calls: [call('io.open', ['/etc/passwd'], { kwargs: { mode: 'r+' } })] }), true],
    ["python open(file=…, mode='x')", fakeAnalysis({ calls: [call('open', [], { kwargs: { file: '/etc/passwd', mode: 'x' } })] }), true],
    ["python open(…, mode='r')", fakeAnalysis({ calls: [call('open', ['/etc/passwd'], { kwargs: { mode: 'r' } })] }), false],
    ['python open(…, mode=m)', fakeAnalysis({ calls: [call('open', ['/etc/passwd'], { kwargs: { mode: null } })] }), false],
    ['python shutil.copy destination', fakeAnalysis({ calls: [call('shutil.copy', ['x', '~/.bashrc'])] }), true],
    ['python Path(…).write_text', fakeAnalysis({ calls: [call('pathlib.Path', ['~/.bashrc']), call('pathlib.Path().expanduser().write_text', ['x'])] }), true],
    ['python Path(…).read_text', fakeAnalysis({ calls: [call('pathlib.Path', ['~/.bashrc']), call('pathlib.Path().read_text', [])] }), false],
    ['js fsp.appendFile', fakeAnalysis({ calls: [call('fsp.appendFile', ['/etc/passwd', 'x'], { language: 'javascript' })] }), true],
    ['js fs.copyFileSync destination', fakeAnalysis({ calls: [call('fs.copyFileSync', ['a', '/etc/passwd'], { language: 'javascript' })] }), true],
    ['js fs.readFileSync', fakeAnalysis({ calls: [call('fs.readFileSync', ['/etc/passwd'], { language: 'javascript' })] }), false],
  ] as const)('%s → %s', (_name, analysis, want) => {
    expect(fired(p, analysis).length > 0).toBe(want);
  });
});

describe('the per-analysis index', () => {
  it('hands a condition only the invocations and calls its names can match', () => {
    const facts = createFacts(fakeAnalysis({ invocations: [invocation(['rm', 'x']), invocation(['ls']), invocation(['rmdir', 'y']), invocation(['rm', 'z'])], calls: [call('os.system', ['x']), call('print', [])] }), {});
    expect(facts.invocations(compileNameGlobs(['rm'])).map((i) => i.argv.join(' '))).toEqual(['rm x', 'rm z']);
    expect(facts.invocations(compileNameGlobs(['rm*', 'nope'])).map((i) => i.argv.join(' ')).sort()).toEqual(['rm x', 'rm z', 'rmdir y']);
    expect(facts.invocations(undefined)).toHaveLength(4);
    expect(facts.calls(compileNameGlobs(['os.*'])).map((c) => c.name)).toEqual(['os.system']);
  });

  it('groups path candidates by value, keeping every span', () => {
    const facts = createFacts(fakeAnalysis({ invocations: [invocation(['cat', '/etc/passwd'], { span: { start: 0, end: 1 } }), invocation(['cp', '/etc/passwd', 'x'], { span: { start: 5, end: 6 } })] }), {});
    const passwd = facts.paths().filter((p) => p.value === '/etc/passwd');
    expect(passwd).toEqual([{ value: '/etc/passwd', forms: ['/etc/passwd'], language: 'bash', spans: [{ start: 0, end: 1 }, { start: 5, end: 6 }] }]);
  });
});

describe('regex, query and combinators', () => {
  it('regex: spans over the normalised text', () => {
    const p = onlyRule("{ regex: '(?i)stratum\\+tcp://' }", { match: "['xmrig -o stratum+tcp://p']", notMatch: "['echo tcp']" });
    const a = fakeAnalysis({ text: 'x -o STRATUM+TCP://pool' });
    expect(evaluatePolicy(p, a)[0]!.evidence).toEqual([{ start: 5, end: 19 }]);
  });

  it('query: any capture in a listed language', () => {
    const q = '((identifier) @f (#eq? @f "eval"))';
    const p = onlyRule(`{ query: { python: '${q}' } }`, { match: '[eval(x)]', notMatch: '[print(x)]', languages: '[python]' }).rules[0]!;
    const a = fakeAnalysis({ language: 'python', queries: { [`python:${q}`]: [{ start: 1, end: 2 }] } });
    expect(p.when(createFacts(a, {}), p.languages)).toEqual([{ start: 1, end: 2 }]);
  });

  it('all, any and not', () => {
    const p = onlyRule("{ all: [ { command: { program: [git] } }, { any: [ { command: { flags: [force] } }, { command: { args: ['+*'] } } ] } ], not: { command: { flags: [dry-run] } } }", {
      match: "['git push -f', 'git push origin +main']",
      notMatch: "['git push', 'git push -f --dry-run']",
    });
    expect(p.rules).toHaveLength(1);
  });

  it('languages inside a block narrow only that block', () => {
    const p = onlyRule('{ any: [ { languages: [python], call: { name: [compile], dynamic: true } }, { command: { program: [rm] } } ] }', { match: "[rm x, { python: 'compile(src)' }]", notMatch: "[{ javascript: 'compile(src)' }]" });
    expect(fired(p, fakeAnalysis({ calls: [call('compile', [null], { language: 'javascript' })] }))).toEqual([]);
    expect(fired(p, fakeAnalysis({ calls: [call('compile', [null])] }))).toEqual(['t.rule']);
    expect(() => onlyRule('{ languages: [python] }')).toThrow(/when\.languages: languages narrows the other conditions of its block/);
  });

  it('languages: a bash rule still sees the shell inside python’s os.system, not python calls', () => {
    const p = onlyRule('{ any: [ { command: { program: [rm] } }, { call: { name: [eval] } } ] }', { languages: '[bash]', match: '[rm x]', notMatch: "[{ python: 'eval(x)' }]" });
    expect(fired(p, fakeAnalysis({ language: 'python', invocations: [invocation(['rm', 'x'], { via: ['os.system'] })] }))).toEqual(['t.rule']);
    expect(fired(p, fakeAnalysis({ language: 'python', calls: [call('eval', [null])] }))).toEqual([]);
  });
});

describe('analysis problems and the layer decision', () => {
  const p = onlyRule('{ command: { program: [rm] } }', { decision: 'ask', head: 'default: allow\non_error: deny\n' });

  it('turns problems into one guard.analysis-problem finding with on_error', () => {
    const a = fakeAnalysis({ problems: [{ kind: 'parse-error', message: 'bash: syntax error', span: { start: 3, end: 4 } }, { kind: 'too-deep', message: 'nested too deep' }] });
    const findings = evaluatePolicy(p, a);
    expect(findings).toEqual([
      expect.objectContaining({ ruleId: ANALYSIS_RULE_ID, category: 'analysis', decision: 'deny', risk: 'high', layer: 'server', evidence: [{ start: 3, end: 4 }] }),
    ]);
    expect(findings[0]!.message).toMatch(/parse-error, too-deep: bash: syntax error/);
    expect(decideLayer(p, findings)).toBe('deny');
  });

  it('a rule that throws is an analysis problem, never a silent allow', () => {
    const a = fakeAnalysis({ invocations: [invocation(['ls'])], query: () => { throw new Error('boom'); } });
    const q = onlyRule(`{ query: { bash: '((word) @w (#eq? @w "x"))' } }`, { match: '[x]', notMatch: '[y]' });
    const findings = evaluatePolicy(q, a);
    expect(findings.map((f) => [f.ruleId, f.decision])).toEqual([[ANALYSIS_RULE_ID, 'ask']]);
    expect(findings[0]!.message).toMatch(/rule t\.rule could not be evaluated: boom/);
  });

  it('no match → default; matched allow rules → allow even under default ask; deny beats ask beats allow', () => {
    const layered = loadPolicy(
      `version: 1
default: ask
rules:
  - { id: t.ls, category: process-spawn, risk: low, decision: allow, message: listing, when: { command: { program: [ls] } }, examples: { match: [ls], not_match: [rm] } }
  - { id: t.rm, category: fs-destructive, risk: medium, decision: ask, message: rm, when: { command: { program: [rm] } }, examples: { match: [rm], not_match: [ls] } }
  - { id: t.rmrf, category: fs-destructive, risk: critical, decision: deny, message: rm -rf, when: { command: { program: [rm], flags: [r] } }, examples: { match: [rm -r x], not_match: [rm x] } }
`,
      { layer: 'server', analyzer },
    );
    const decide = (...argvs: string[][]) => decideLayer(layered, evaluatePolicy(layered, fakeAnalysis({ invocations: argvs.map((a) => invocation(a)) })));
    expect(decide(['cat', 'x'])).toBe('ask');
    expect(decide(['ls'])).toBe('allow');
    expect(decide(['ls'], ['rm', 'x'])).toBe('ask');
    expect(decide(['ls'], ['rm', 'x'], ['rm', '-r', 'y'])).toBe('deny');
  });
});

