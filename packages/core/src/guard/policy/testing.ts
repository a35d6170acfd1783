/**
 * Hand-built analyses for unit tests of the policy half, so they do not
 * depend on the tree-sitter analyzer. `fakeAnalyzer` understands just enough
 * shell (words, `|`, `;`, `&&`, `>`, a leading `sudo`), Python/JS
 * (`name(…"literal"…)`, `import x`) for small examples, and its `query`
 * matches where the code contains the query's first "quoted" string.
 * Integration tests use the real analyzer.
 */
import type { Analysis, Call, GuardLanguage, Invocation, Redirect, Span } from '../types.js';
import type { PolicyAnalyzer } from './examples.js';

export interface FakeAnalysisInput extends Partial<Analysis> {
  /** What `query(language, source)` returns, keyed by `${language}:${source}`. */
  readonly queries?: Readonly<Record<string, Span[]>>;
}

export function fakeAnalysis(input: FakeAnalysisInput = {}): Analysis {
  const { queries = {}, ...rest } = input;
  // An explicit `query` in `rest` replaces the table lookup below.
  return {
    language: 'bash',
    text: '',
    normalisation: { removedInvisible: 0, removedBidi: 0, nfkcChanged: false, truncated: false },
    invocations: [],
    calls: [],
    imports: [],
    redirects: [],
    strings: [],
    problems: [],
    query: (language, source) => {
      if (source.includes('(((')) throw new Error('bad query');
      return queries[`${language}:${source}`] ?? [];
    },
    ...rest,
  };
}

export function invocation(argv: readonly string[], extra: Partial<Invocation> = {}): Invocation {
  return { argv, program: argv[0]?.split('/').pop() ?? '', span: { start: 0, end: 1 }, via: [], dynamic: false, language: 'bash', ...extra };
}

export function call(name: string, args: readonly (string | null)[], extra: Partial<Call> = {}): Call {
  return { name, args, span: { start: 0, end: 1 }, language: 'python', ...extra };
}

/** A toy analyzer for policy unit tests: see the file comment for what it understands. */
export function fakeAnalyzer(): PolicyAnalyzer {
  return {
    analyze({ language, code }) {
      const a = language === 'bash' ? fakeShell(code) : fakeCode(language, code);
      const query = (lang: GuardLanguage, source: string): Span[] => {
        if (source.includes('(((')) throw new Error('bad query');
        const needle = /"([^"]+)"/.exec(source)?.[1];
        const at = needle === undefined || lang !== language ? -1 : code.indexOf(needle);
        return at < 0 ? [] : [{ start: at, end: at + needle!.length }];
      };
      return { ...a, query };
    },
  };
}

function fakeShell(code: string): Analysis {
  const invocations: Invocation[] = [];
  const redirects: Redirect[] = [];
  const strings: { value: string; span: Span }[] = [];
  let pipeline = 0;
  let offset = 0;
  for (const statement of code.split(/;|&&|\|\||\n/)) {
    const stages = statement.split('|');
    pipeline++;
    stages.forEach((stage, i) => {
      const start = code.indexOf(stage, offset);
      const span = { start, end: start + stage.length };
      const words = stage.trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/^['"]|['"]$/g, ''));
      const argv: string[] = [];
      const via = words[0] === 'sudo' ? [words.shift()!] : [];
      for (let k = 0; k < words.length; k++) {
        const w = words[k]!;
        if (w === '>' || w === '>>') redirects.push({ op: w, target: words[++k] ?? '', span });
        else argv.push(w);
      }
      for (const w of argv) strings.push({ value: w, span });
      if (argv.length > 0) invocations.push(invocation(argv, { span, via, dynamic: argv.some((w) => w.includes('$')), ...(stages.length > 1 ? { pipeline: { id: pipeline, stage: i } } : {}) }));
    });
    offset += statement.length;
  }
  return fakeAnalysis({ language: 'bash', text: code, invocations, redirects, strings });
}

function fakeCode(language: GuardLanguage, code: string): Analysis {
  const calls: Call[] = [];
  const strings: { value: string; span: Span }[] = [];
  for (const m of code.matchAll(/([A-Za-z_][\w.]*)\(\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z_]\w*))?/g)) {
    const literal = m[2] ?? m[3];
    calls.push(call(m[1]!, m[4] !== undefined ? [null] : literal !== undefined ? [literal] : [], { span: { start: m.index, end: m.index + m[0].length }, language }));
  }
  for (const m of code.matchAll(/"([^"]*)"|'([^']*)'/g)) strings.push({ value: m[1] ?? m[2] ?? '', span: { start: m.index, end: m.index + m[0].length } });
  const imports = [...code.matchAll(/import ([\w.]+)/g)].map((m) => ({ module: m[1]!, span: { start: m.index, end: m.index + m[0].length }, language }));
  return fakeAnalysis({ language, text: code, calls, imports, strings });
}
