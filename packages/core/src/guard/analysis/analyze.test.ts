import { isWardenError } from '@warden/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Analysis, GUARD_LANGUAGES, type GuardLanguage, type Span } from '../types.js';
import { type Analyzer, argvToShell, createAnalyzer } from './index.js';

let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer({ cacheEntries: 0 });
});
afterAll(() => analyzer.close());

const run = (language: GuardLanguage, code: string): Analysis => analyzer.analyze({ language, code });
const slice = (a: Analysis, s: Span): string => a.text.slice(s.start, s.end);

function spansOf(a: Analysis): Span[] {
  return [
    ...a.invocations.map((i) => i.span),
    ...a.calls.map((c) => c.span),
    ...a.imports.map((i) => i.span),
    ...a.redirects.map((r) => r.span),
    ...a.strings.map((s) => s.span),
    ...a.problems.flatMap((p) => (p.span ? [p.span] : [])),
  ];
}

describe('spans are offsets into the normalised text', () => {
  it('point at the evidence after non-ASCII text and removed characters', () => {
    const a = run('bash', 'echo "héllo 😀 wörld" ｜ r\u200bm -rf /; echo ü && sudo rm -rf ~');
    const rms = a.invocations.filter((i) => i.program === 'rm').map((i) => slice(a, i.span));
    expect(rms).toEqual(['rm -rf /', 'rm -rf ~']);
    expect(slice(a, a.invocations.find((i) => i.program === 'sudo')?.span as Span)).toBe('sudo rm -rf ~');
  });

  it('map nested code verbatim when it is a slice of its parent', () => {
    const a = run('bash', `ä; sh -c 'bash -c "rm -rf /"'; python3 -c "import os; os.system('reboot')"`);
    expect(slice(a, a.invocations.find((i) => i.program === 'rm')?.span as Span)).toBe('rm -rf /');
    expect(slice(a, a.invocations.find((i) => i.program === 'reboot')?.span as Span)).toBe('reboot');
    expect(slice(a, a.calls[0]?.span as Span)).toBe("os.system('reboot')");
  });

  it('map decoded code to the literal that held it', () => {
    const a = run('python', 'import os, base64\nos.system(base64.b64decode("cm0gLXJmIC8=").decode())');
    expect(slice(a, a.invocations[0]?.span as Span)).toBe('base64.b64decode("cm0gLXJmIC8=").decode()');
  });

  it('span python and javascript calls exactly', () => {
    const p = run('python', '# ñ\nimport shutil\nshutil.rmtree("/")');
    expect(slice(p, p.calls[0]?.span as Span)).toBe('shutil.rmtree("/")');
    const j = run('javascript', "// ü 😀\nrequire('fs').rmSync('/')");
    expect(j.calls.map((c) => slice(j, c.span))).toEqual(["require('fs').rmSync('/')", "require('fs')"]);
  });
});

describe('query', () => {
  it('returns capture spans over top-level and nested trees', () => {
    const a = run('bash', `python3 -c "import os; os.system('id')"; echo 'x'`);
    expect(a.query('python', '(call function: (attribute) @fn)').map((s) => slice(a, s))).toEqual(['os.system']);
    expect(a.query('bash', '(command_name) @n').map((s) => slice(a, s))).toEqual(['python3', 'id', 'echo']);
    expect(a.query('javascript', '(call_expression) @c')).toEqual([]);
  });

  it('works again after another analysis freed the trees', () => {
    const a = run('python', 'import os\nos.system("x")');
    run('bash', 'ls');
    expect(a.query('python', '(import_statement) @i').map((s) => slice(a, s))).toEqual(['import os']);
    expect(a.query('python', '(import_statement) @i')).toHaveLength(1);
  });

  it('rejects a bad query with E_POLICY_INVALID', () => {
    const a = run('python', 'x = 1');
    let error: unknown;
    try {
      a.query('python', '(no_such_node');
    } catch (e) {
      error = e;
    }
    expect(isWardenError(error) && error.code).toBe('E_POLICY_INVALID');
  });
});

describe('problems', () => {
  it.each([
    ['bash', 'if then fi ((('],
    ['python', 'def f(:\n  pass'],
    ['javascript', 'function (( {'],
    ['typescript', 'let x: = ;'],
  ] as const)('reports a %s parse error with a span', (language, code) => {
    const a = run(language, code);
    expect(a.problems.length).toBeGreaterThan(0);
    expect(a.problems.every((p) => p.kind === 'parse-error' && p.span !== undefined)).toBe(true);
  });

  it('reports nesting beyond maxDepth as too-deep, and still records the outer layers', async () => {
    const shallow = await createAnalyzer({ maxDepth: 1, cacheEntries: 0 });
    try {
      const a = shallow.analyze({ language: 'bash', code: `sh -c "sh -c 'rm -rf /'"` });
      expect(a.problems.map((p) => p.kind)).toEqual(['too-deep']);
      expect(a.invocations.map((i) => i.argv.join(' '))).toEqual(["sh -c sh -c 'rm -rf /'", 'sh -c rm -rf /']);
      expect(slice(a, a.problems[0]?.span as Span)).toBe("'rm -rf /'");
    } finally {
      shallow.close();
    }
    const deep = run('bash', argvToShell(['sh', '-c', argvToShell(['sh', '-c', argvToShell(['sh', '-c', argvToShell(['sh', '-c', argvToShell(['sh', '-c', 'rm x'])])])])]));
    expect(deep.problems.map((p) => p.kind)).toEqual(['too-deep']);
  });

  it('caps the input at maxBytes and reports too-large', async () => {
    const small = await createAnalyzer({ maxBytes: 16, cacheEntries: 0 });
    try {
      const a = small.analyze({ language: 'bash', code: 'echo 0123456789; rm -rf /' });
      expect(a.text).toBe('echo 0123456789;');
      expect(a.normalisation.truncated).toBe(true);
      expect(a.problems.map((p) => p.kind)).toEqual(['too-large']);
      expect(a.invocations.map((i) => i.program)).toEqual(['echo']);
      expect(small.analyze({ language: 'bash', code: 'echo ééééééééé' }).text).toBe('echo ééééé'); // 15 of 16 bytes of UTF-8
    } finally {
      small.close();
    }
  });

  it('turns an unknown language and a closed analyzer into analyzer-error, not an exception', async () => {
    expect(run('cobol' as GuardLanguage, 'x').problems.map((p) => p.kind)).toEqual(['analyzer-error']);
    expect(analyzer.analyze({ language: 'bash', code: undefined as unknown as string }).problems.map((p) => p.kind)).toEqual(['analyzer-error']);
    expect(analyzer.analyze(null as unknown as { language: GuardLanguage; code: string }).problems.map((p) => p.kind)).toEqual(['analyzer-error']);
    const closed = await createAnalyzer();
    closed.close();
    closed[Symbol.dispose]();
    expect(closed.analyze({ language: 'bash', code: 'ls' }).problems.map((p) => p.kind)).toEqual(['analyzer-error']);
  });
});

describe('options', () => {
  it.each([{ maxBytes: 0 }, { maxDepth: -1 }, { cacheEntries: 1.5 }, { timeoutMs: Number.NaN }, { maxBytes: '1' as unknown as number }])('rejects %j with E_INVALID_ARGUMENT', async (options) => {
    await expect(createAnalyzer(options)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});

describe('cache', () => {
  it('returns repeated actions from the cache, marked as such, with the same facts', async () => {
    const cached = await createAnalyzer();
    try {
      const first = cached.analyze({ language: 'bash', code: 'sudo rm -rf /' });
      const again = cached.analyze({ language: 'bash', code: 'sudo rm -rf /' });
      expect(first.cached).toBe(false);
      expect(again.cached).toBe(true);
      expect(again.invocations).toBe(first.invocations);
      expect(Object.isFrozen(again.invocations) && Object.isFrozen(again.invocations[0])).toBe(true);
      expect(again.query('bash', '(command) @c').map((s) => slice(again, s))).toEqual(['sudo rm -rf /']);
      expect(cached.analyze({ language: 'python', code: 'sudo rm -rf /' }).cached).toBe(false);
    } finally {
      cached.close();
    }
  });
});

describe('never throws', () => {
  // A fixed seed keeps failures reproducible.
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const corpus = [
    `sudo -u root sh -c "echo cm0gLXJmIC8= | base64 -d | bash" && find / -exec rm {} \\; <<EOF\nx\nEOF`,
    `import os, base64\nexec(base64.b64decode("aW1wb3J0IG9z"))\nos.system(f"rm {x}" 'y')`,
    "const { exec: r } = require('node:child_process'); r(`ls ${x}`); eval(atob('YQ=='));",
    "let x: Array<string> = [`a`]; new Function('return 1')();",
    `$'\\x72\\x6d' "$(printf '%s' x)" \${a:-\`b\`} <<< "c" 2>&1 | xargs -I{} sh -c '{}'`,
  ];
  const alphabet = `abcrmsh -/\\'"\`$(){}[]<>|&;\n\t#=*?!~0x\u200b\u202e é😀\0`;

  function check(a: Analysis): void {
    for (const s of spansOf(a)) {
      expect(s.start).toBeGreaterThanOrEqual(0);
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      expect(s.end).toBeLessThanOrEqual(a.text.length);
    }
  }

  it('on random bytes, truncated and mutated inputs (3000 runs)', { timeout: 60_000 }, () => {
    for (let i = 0; i < 3000; i++) {
      const language = GUARD_LANGUAGES[rand(GUARD_LANGUAGES.length)] as GuardLanguage;
      const base = corpus[rand(corpus.length)] as string;
      let code: string;
      switch (i % 3) {
        case 0:
          code = base.slice(0, rand(base.length + 1));
          break;
        case 1: {
          const at = rand(base.length);
          code = base.slice(0, at) + (alphabet[rand(alphabet.length)] ?? '') + base.slice(at + rand(3));
          break;
        }
        default:
          code = Array.from({ length: rand(200) }, () => String.fromCharCode(rand(0x3000))).join('');
      }
      const a = analyzer.analyze({ language, code });
      check(a);
      // An analyzer-error means a bug here, not in the input.
      expect(a.problems.filter((p) => p.kind === 'analyzer-error')).toEqual([]);
    }
  });

  it('walks deep error trees in linear time (a query over them was quadratic)', async () => {
    const patient = await createAnalyzer({ timeoutMs: 60_000, cacheEntries: 0 });
    try {
      for (const language of ['python', 'javascript'] as const) {
        const started = performance.now();
        const a = patient.analyze({ language, code: '('.repeat(40_000) });
        expect(performance.now() - started).toBeLessThan(1_500);
        expect(a.problems.map((p) => p.kind)).toEqual(['parse-error']);
      }
    } finally {
      patient.close();
    }
  });

  it('on pathological nesting and size, within its time budget', async () => {
    const quick = await createAnalyzer({ timeoutMs: 50, cacheEntries: 0 });
    try {
      for (const language of GUARD_LANGUAGES) {
        for (const code of ['('.repeat(40_000), '$('.repeat(5_000), '"'.repeat(40_000), '[{'.repeat(20_000), 'a=a+a\n'.repeat(2_000), '(a)'.repeat(9_000)]) {
          const started = performance.now();
          const a = quick.analyze({ language, code });
          // Quadratic error recovery in tree-sitter would take seconds here without the budget.
          expect(performance.now() - started).toBeLessThan(1_000);
          check(a);
          expect(a.problems.filter((p) => p.kind === 'analyzer-error')).toEqual([]);
        }
      }
      // tree-sitter-javascript's error recovery takes seconds on this one.
      const slow = quick.analyze({ language: 'javascript', code: '"'.repeat(40_000) });
      expect(slow.problems.map((p) => p.kind)).toContain('too-large');
    } finally {
      quick.close();
    }
  });
});
