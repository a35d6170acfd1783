/**
 * runCode cell latency (issue 7): the round trip of one cell through a warm
 * code context of a running sandbox — host → agent → interpreter server →
 * agent → host — for Python and JavaScript, with three cells each:
 *
 * - trivial: `1+1`, whose value comes back as the main result;
 * - 1 MB output: one write of 1,000,000 characters to stdout, all collected;
 * - exception: a cell that raises, with its traceback.
 *
 * The six variants are interleaved, one of each in turn in rotating order,
 * after untimed warm-up cells, so drift on the host hits them all alike. For
 * scale, `python3 -c 1+1` run with sandbox.exec (a new interpreter per cell)
 * is timed too. Every result is checked (value, byte count, error name).
 * Called from bench/run.ts with a running sandbox; it makes its own contexts
 * and deletes them.
 */
import type { Sandbox } from '../packages/core/src/index.js';
import { LAT_HEAD, latencyRow, table } from './format.js';
import type { Target } from './report.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';

export interface CodePlan {
  /** Timed cells per variant. */
  readonly samples: number;
  readonly warmup: number;
  /** Stop sampling after this long, whatever the count. */
  readonly budgetMs: number;
  /** Timed `python3 -c` execs (each starts an interpreter: ~20 ms). */
  readonly execSamples: number;
}
export const CODE_PLAN: CodePlan = { samples: 1000, warmup: 50, budgetMs: 60_000, execSamples: 100 };
export const CODE_PLAN_QUICK: CodePlan = { samples: 100, warmup: 10, budgetMs: 10_000, execSamples: 10 };

/** The target: a trivial Python cell, warm context, p50. */
const TARGET_TRIVIAL_PY_P50_MS = 1;
const MB = 1_000_000;

type Language = 'python' | 'javascript';
type Cell = 'trivial' | '1 MB output' | 'exception';

interface Variant {
  readonly language: Language;
  readonly cell: Cell;
  readonly code: string;
  /** Throws when the execution is not what the cell must give. */
  readonly check: (e: Awaited<ReturnType<Sandbox['runCode']>>) => void;
}

const VARIANTS: readonly Variant[] = [
  { language: 'python', cell: 'trivial', code: '1+1', check: (e) => expectText(e.results[0]?.text, '2') },
  { language: 'python', cell: '1 MB output', code: `import sys\nsys.stdout.write("x" * ${MB})`, check: (e) => expectBytes(e.logs.stdout, MB) },
  { language: 'python', cell: 'exception', code: '1/0', check: (e) => expectText(e.error?.name, 'ZeroDivisionError') },
  { language: 'javascript', cell: 'trivial', code: '1+1', check: (e) => expectText(e.results[0]?.text, '2') },
  { language: 'javascript', cell: '1 MB output', code: `process.stdout.write('x'.repeat(${MB}))`, check: (e) => expectBytes(e.logs.stdout, MB) },
  { language: 'javascript', cell: 'exception', code: 'null.x', check: (e) => expectText(e.error?.name, 'TypeError') },
];

function expectText(got: string | undefined, want: string): void {
  if (got !== want) throw new Error(`expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

function expectBytes(chunks: readonly string[], want: number): void {
  const got = chunks.reduce((n, c) => n + c.length, 0);
  if (got !== want) throw new Error(`expected ${want} characters of stdout, got ${got}`);
}

export interface CodeRow {
  readonly language: Language | 'exec';
  readonly cell: Cell | 'python3 -c 1+1';
  readonly latency: Summary;
}

export interface CodeResults {
  readonly rows: CodeRow[];
  /** Interpreter versions in the sandbox. */
  readonly versions: Record<string, string>;
}

export async function codeBench(sbx: Sandbox, plan: CodePlan, signal: AbortSignal, log: (s: string) => void): Promise<CodeResults> {
  const contexts = { python: await sbx.code.create({ language: 'python' }), javascript: await sbx.code.create({ language: 'javascript' }) };
  try {
    const run = async (v: Variant): Promise<number> => {
      const t0 = now();
      const e = await sbx.runCode(v.code, { context: contexts[v.language], timeoutMs: 30_000 });
      const ms = elapsedMs(t0);
      try {
        v.check(e);
      } catch (err) {
        throw new Error(`runCode ${v.language} ${v.cell} in ${sbx.id}: ${(err as Error).message}`, { cause: err });
      }
      return ms;
    };
    for (let i = 0; i < plan.warmup && !signal.aborted; i++) for (const v of VARIANTS) await run(v);
    const samples = VARIANTS.map(() => [] as number[]);
    const until = Date.now() + plan.budgetMs;
    for (let i = 0; i < plan.samples && Date.now() < until && !signal.aborted; i++) {
      // Rotate the order so no variant always follows the 1 MB ones.
      for (let k = 0; k < VARIANTS.length; k++) {
        const j = (i + k) % VARIANTS.length;
        samples[j]!.push(await run(VARIANTS[j]!));
      }
    }
    const rows: CodeRow[] = VARIANTS.map((v, j) => ({ language: v.language, cell: v.cell, latency: summarize(samples[j]!) }));
    for (const r of rows) log(`runCode ${r.language} ${r.cell}: p50 ${r.latency.p50Ms.toFixed(3)} ms, p99 ${r.latency.p99Ms.toFixed(3)} ms (n=${r.latency.n})`);

    const exec: number[] = [];
    for (let i = 0; i < plan.execSamples + 3 && !signal.aborted; i++) {
      const t0 = now();
      const r = await sbx.exec(['python3', '-c', 'print(1+1)'], { timeoutMs: 30_000 });
      const ms = elapsedMs(t0);
      if (r.stdout !== '2\n') throw new Error(`python3 -c in ${sbx.id} gave ${JSON.stringify(r.stdout)} (${r.reason}): ${r.stderr}`);
      if (i >= 3) exec.push(ms);
    }
    rows.push({ language: 'exec', cell: 'python3 -c 1+1', latency: summarize(exec) });
    log(`exec python3 -c 1+1: p50 ${summarize(exec).p50Ms.toFixed(3)} ms`);
    return { rows, versions: { python: contexts.python.info().version ?? '?', javascript: contexts.javascript.info().version ?? '?' } };
  } finally {
    await Promise.all([contexts.python.close(), contexts.javascript.close()]);
  }
}

export function printCodeReport(r: CodeResults, out: (line: string) => void): void {
  out(`(k) runCode: one cell through a warm code context, round trip in ms (Python ${r.versions.python ?? '?'}, Node ${r.versions.javascript ?? '?'}); exec = a new python3 per cell, for scale`);
  for (const line of table([LAT_HEAD, ...r.rows.map((x) => latencyRow(`${x.language} ${x.cell}`, x.latency))])) out(`  ${line}`);
}

export function codeTargets(r: CodeResults): Target[] {
  const trivial = r.rows.find((x) => x.language === 'python' && x.cell === 'trivial');
  const exec = r.rows.find((x) => x.language === 'exec');
  return [
    {
      name: 'runCode trivial Python cell round trip',
      goal: `p50 ≤ ${TARGET_TRIVIAL_PY_P50_MS} ms (warm context)`,
      measured: trivial ? `${trivial.latency.p50Ms.toFixed(3)} ms${exec ? ` (python3 -c via exec: ${exec.latency.p50Ms.toFixed(1)} ms)` : ''}` : 'not measured',
      pass: trivial !== undefined && trivial.latency.n > 0 && trivial.latency.p50Ms <= TARGET_TRIVIAL_PY_P50_MS,
    },
  ];
}
