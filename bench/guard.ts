/**
 * (i) Guard (issue 5): how long the guard takes to decide about a snippet of
 * 100 B / 1 KB / 10 KB of bash, Python and JavaScript under the shipped
 * default policy, and how many decisions a core makes per second. Called from
 * bench/run.ts (`--guard-only` runs just this section; it needs neither root
 * nor an engine).
 *
 * "cold" is what a new action costs: every sample's text is unique (a
 * counter in a trailing comment), so the analysis cache never answers and
 * the text is normalised, parsed with tree-sitter, walked and evaluated.
 * "cached" repeats one text: what an agent that re-runs a command pays.
 * Snippets are everyday code built from realistic lines (pipelines, imports,
 * subprocess calls, file I/O) — allowed by the policy, so every rule is
 * evaluated rather than stopping early. Rates per core divide decisions by
 * this process's CPU time.
 */
import { createGuard, type Guard, type GuardLanguage } from '../packages/core/src/guard/index.js';
import { LAT_HEAD, latencyRow, table } from './format.js';
import type { Target } from './report.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';

const LINES: Record<Exclude<GuardLanguage, 'typescript'>, readonly string[]> = {
  bash: [
    'ls -la src | grep -v node_modules | sort | head -n 20',
    'git status --short && git diff --stat HEAD~1',
    'for f in src/*.ts; do wc -l "$f"; done',
    'mkdir -p build/out && cp -r assets build/out/',
    'python3 -m pytest -q tests/unit --maxfail=1 2>&1 | tail -n 5',
    'export NODE_ENV=test; npm run lint -- --fix',
    'find . -name "*.log" -mtime +7 -print | xargs -r ls -la',
    'tar -czf out.tar.gz build && sha256sum out.tar.gz > out.sha256',
  ],
  python: [
    'import json, os, subprocess',
    'from pathlib import Path',
    'data = [x * x for x in range(100) if x % 3]',
    'with open("results.json", "w") as fh:\n    json.dump({"n": len(data)}, fh)',
    'out = subprocess.run(["git", "status", "--short"], capture_output=True, text=True)',
    'for p in Path("src").glob("*.py"):\n    print(p.name, p.stat().st_size)',
    'def mean(xs):\n    return sum(xs) / max(len(xs), 1)',
    'print(mean(data), os.getcwd())',
  ],
  javascript: [
    "const fs = require('node:fs');",
    "const { execFileSync } = require('node:child_process');",
    "const files = fs.readdirSync('src').filter((f) => f.endsWith('.js'));",
    "for (const f of files) console.log(f, fs.statSync('src/' + f).size);",
    "const status = execFileSync('git', ['status', '--short'], { encoding: 'utf8' });",
    'const total = files.reduce((n, f) => n + f.length, 0);',
    "fs.writeFileSync('out.json', JSON.stringify({ total, status }));",
    'function mean(xs) { return xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1); }',
  ],
};
const LANGUAGES = Object.keys(LINES) as Array<keyof typeof LINES>;
const COMMENT: Record<keyof typeof LINES, string> = { bash: '#', python: '#', javascript: '//' };
const SIZES = [100, 1000, 10_000] as const;
/** The target: a 1 KB snippet, cold, p50. */
const TARGET_1KB_P50_MS = 0.2;

export interface GuardPlan {
  readonly samples: number;
  readonly throughputMs: number;
  readonly watchdogMs: number;
}
export const GUARD_PLAN: GuardPlan = { samples: 2000, throughputMs: 2000, watchdogMs: 120_000 };
export const GUARD_PLAN_QUICK: GuardPlan = { samples: 300, throughputMs: 500, watchdogMs: 60_000 };

export interface GuardRow {
  readonly language: string;
  readonly bytes: number;
  readonly cold: Summary;
  readonly cached: Summary;
}

export interface GuardResults {
  readonly rows: GuardRow[];
  /** Cold 1 KB decisions per second of this process's CPU time, per language. */
  readonly perCore: Record<string, number>;
  readonly decisions: Record<string, string>;
}

/**
 * Everyday code of about `bytes` characters (whole lines, so it parses),
 * padded by a comment that ends in a counter and makes it unique.
 */
function snippet(language: keyof typeof LINES, bytes: number, salt: number): string {
  const lines = LINES[language];
  const tail = (pad: number): string => `${COMMENT[language]} ${'.'.repeat(Math.max(0, pad))}${String(salt).padStart(10, '0')}\n`;
  let text = '';
  for (let i = 0; ; i++) {
    const next = `${lines[i % lines.length]}\n`;
    if (text.length + next.length + tail(0).length > bytes) break;
    text += next;
  }
  return text + tail(bytes - text.length - tail(0).length);
}

function measure(guard: Guard, language: GuardLanguage, texts: (i: number) => string, n: number): Summary {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const code = texts(i);
    const t0 = now();
    guard.check({ language, code });
    samples.push(elapsedMs(t0));
  }
  return summarize(samples);
}

export async function guardBench(plan: GuardPlan, signal: AbortSignal, log: (s: string) => void): Promise<GuardResults> {
  const guard = await createGuard();
  try {
    const rows: GuardRow[] = [];
    const decisions: Record<string, string> = {};
    let salt = 0;
    for (const language of LANGUAGES) {
      for (const bytes of SIZES) {
        if (signal.aborted) break;
        const n = bytes >= 10_000 ? Math.ceil(plan.samples / 4) : plan.samples;
        measure(guard, language, () => snippet(language, bytes, salt++), 50); // warm-up: JIT, parser buffers
        const cold = measure(guard, language, () => snippet(language, bytes, salt++), n);
        const fixed = snippet(language, bytes, -1);
        const cached = measure(guard, language, () => fixed, n);
        decisions[`${language} ${bytes}`] = guard.check({ language, code: fixed }).decision;
        rows.push({ language, bytes, cold, cached });
        log(`guard ${language} ${bytes} B: cold p50 ${cold.p50Ms.toFixed(3)} ms, cached p50 ${cached.p50Ms.toFixed(4)} ms`);
      }
    }
    const perCore: Record<string, number> = {};
    for (const language of LANGUAGES) {
      if (signal.aborted) break;
      const cpu0 = process.cpuUsage();
      const t0 = now();
      let count = 0;
      while (elapsedMs(t0) < plan.throughputMs) {
        guard.check({ language, code: snippet(language, 1000, salt++) });
        count++;
      }
      const cpu = process.cpuUsage(cpu0);
      perCore[language] = count / ((cpu.user + cpu.system) / 1e6);
    }
    return { rows, perCore, decisions };
  } finally {
    guard.close();
  }
}

const sizeLabel = (b: number): string => (b >= 1000 ? `${b / 1000} KB` : `${b} B`);
const ms3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 0.01 ? 4 : 3) : '-');

export function printGuardReport(r: GuardResults, out: (line: string) => void): void {
  out('(i) guard: time to decide about a snippet under the shipped default policy (ms); cold = unique text each time, cached = the same text again');
  const rows = r.rows.flatMap((x) => [
    latencyRow(`${x.language} ${sizeLabel(x.bytes)} cold`, x.cold).map((c, i) => (i >= 2 ? ms3([x.cold.meanMs, x.cold.p50Ms, x.cold.p95Ms, x.cold.p99Ms][i - 2] ?? Number.NaN) : c)),
    latencyRow(`${x.language} ${sizeLabel(x.bytes)} cached`, x.cached).map((c, i) => (i >= 2 ? ms3([x.cached.meanMs, x.cached.p50Ms, x.cached.p95Ms, x.cached.p99Ms][i - 2] ?? Number.NaN) : c)),
  ]);
  for (const line of table([LAT_HEAD, ...rows])) out(`  ${line}`);
  out(`  decisions per second per core, cold 1 KB: ${Object.entries(r.perCore).map(([l, v]) => `${l} ${Math.round(v).toLocaleString('en-US')}`).join(', ')}`);
  out(`  decisions on the benchmark snippets (everyday code, so all should be allow): ${[...new Set(Object.values(r.decisions))].join(', ')}`);
}

export function guardTargets(r: GuardResults): Target[] {
  const oneKb = r.rows.filter((x) => x.bytes === 1000);
  const worst = oneKb.reduce((m, x) => Math.max(m, x.cold.p50Ms), 0);
  return [
    {
      name: 'guard latency, 1 KB snippet',
      goal: `p50 ≤ ${TARGET_1KB_P50_MS} ms (cold, every language)`,
      measured: oneKb.map((x) => `${x.language} ${ms3(x.cold.p50Ms)}`).join(', ') + ` (cached: ${oneKb.map((x) => ms3(x.cached.p50Ms)).join(', ')})`,
      pass: oneKb.length > 0 && worst <= TARGET_1KB_P50_MS,
    },
  ];
}
