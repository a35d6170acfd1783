/**
 * Warm pools: how long `engine.create()` takes when a pooled sandbox is
 * waiting (a hand-over), next to a cold create of the same spec, measured in
 * the same run and interleaved (the order alternates every round), so machine
 * noise hits both alike.
 *
 * Two engines in one data dir: one with a pool of the spec's profile, one
 * without. Each measured create starts on a quiet host: the pool is full with
 * nothing starting (a hand-over never competes with its own refill; a busy
 * server's does, see the refill time), and SETTLE_MS have passed since the
 * previous kill (the kernel tears a sandbox's namespaces down after kill()
 * returns, for a few ms of CPU; a cold create hides that in its own start, the
 * first command after a hand-over would pay it). Each create also gets a first
 * command, which is what a user waits for in the end.
 *
 * Called from bench/run.ts; alone: `node --expose-gc --import tsx bench/pool.ts [--quick]` (as root).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEngine, type Engine, type Sandbox } from '../packages/core/src/index.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';
import type { Target } from './report.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';

/** The target: a hand-over from a warm pool, p50. */
const TARGET_HANDOVER_P50_MS = 1;

export interface PoolPlan {
  readonly rounds: number;
  readonly warmup: number;
  readonly poolSize: number;
  /** The rounds also stop here. */
  readonly budgetMs: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const POOL_PLAN: { readonly quick: PoolPlan; readonly full: PoolPlan } = {
  quick: { rounds: 40, warmup: 5, poolSize: 2, budgetMs: 10_000, watchdogMs: 40_000 },
  full: { rounds: 200, warmup: 20, poolSize: 2, budgetMs: 45_000, watchdogMs: 100_000 },
};

export interface PoolResults {
  /** engine.create() served from the pool. */
  readonly handOver: Summary;
  /** The same create plus its first command (/bin/true) to completion. */
  readonly handOverFirstExec: Summary;
  /** engine.create() of the same spec on an engine without a pool. */
  readonly cold: Summary;
  readonly coldFirstExec: Summary;
  /** From a hand-over until the pool is full again (the background start that replaces it). */
  readonly refill: Summary;
  /** Hits / creates on the pooled engine during the run (1 unless a refill was not ready in time). */
  readonly hitRate: number | null;
  readonly poolSize: number;
  readonly aborted: boolean;
}

/** Small sandboxes, like the rest of the benchmark; env and ttl are the caller's, applied at hand-over. */
const SPEC = { limits: { memoryMb: 64, ttlMs: 600_000 }, env: { BENCH: '1' } } as const;
const TRUE = ['/bin/true'] as const;
/** Quiet time after a kill before the next measured create (see above). */
const SETTLE_MS = 30;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS));

async function execTrue(sbx: Sandbox): Promise<void> {
  const r = await sbx.exec(TRUE, { timeoutMs: 10_000 });
  if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`/bin/true in ${sbx.id} ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
}

/** Resolves once every pool of `engine` is full with nothing starting, polling every millisecond (bounded). */
async function poolFull(engine: Engine, signal: AbortSignal, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!engine.poolStats().pools.every((p) => p.idle === p.size && p.starting === 0)) {
    if (signal.aborted) return;
    if (Date.now() > until) throw new Error(`the pool did not fill within ${timeoutMs} ms: ${JSON.stringify(engine.poolStats())}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function poolBench(plan: PoolPlan, signal: AbortSignal, log: (s: string) => void): Promise<PoolResults> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-pool-'));
  const engines: Engine[] = [];
  try {
    const pooled = await createEngine({ dataDir, pool: [{ size: plan.poolSize, profile: { limits: { memoryMb: SPEC.limits.memoryMb } } }] });
    engines.push(pooled);
    const plain = await createEngine({ dataDir });
    engines.push(plain);
    const s = { handOver: [] as number[], handOverExec: [] as number[], cold: [] as number[], coldExec: [] as number[], refill: [] as number[] };

    const handOverRound = async (keep: boolean): Promise<void> => {
      await settle();
      await poolFull(pooled, signal);
      const hitsBefore = pooled.poolStats().hits;
      const t0 = now();
      const sbx = await pooled.create(SPEC);
      const created = elapsedMs(t0);
      if (pooled.poolStats().hits !== hitsBefore + 1) throw new Error('a create on a full pool was not a hand-over');
      try {
        await execTrue(sbx);
        if (keep) s.handOverExec.push(elapsedMs(t0));
        await poolFull(pooled, signal);
        if (keep) s.refill.push(elapsedMs(t0));
      } finally {
        await sbx.kill();
      }
      if (keep) s.handOver.push(created);
    };
    const coldRound = async (keep: boolean): Promise<void> => {
      await settle();
      await poolFull(pooled, signal); // the other engine's refill is done: the host is as quiet as for a hand-over
      const t0 = now();
      const sbx = await plain.create(SPEC);
      const created = elapsedMs(t0);
      try {
        await execTrue(sbx);
        if (keep) s.coldExec.push(elapsedMs(t0));
      } finally {
        await sbx.kill();
      }
      if (keep) s.cold.push(created);
    };

    const until = Date.now() + plan.budgetMs;
    for (let i = 0; i < plan.warmup + plan.rounds && Date.now() < until && !signal.aborted; i++) {
      const keep = i >= plan.warmup;
      if (i % 2 === 0) {
        await handOverRound(keep);
        await coldRound(keep);
      } else {
        await coldRound(keep);
        await handOverRound(keep);
      }
    }
    const r: PoolResults = {
      handOver: summarize(s.handOver),
      handOverFirstExec: summarize(s.handOverExec),
      cold: summarize(s.cold),
      coldFirstExec: summarize(s.coldExec),
      refill: summarize(s.refill),
      hitRate: pooled.poolStats().hitRate,
      poolSize: plan.poolSize,
      aborted: signal.aborted,
    };
    log(`pool: hand-over p50 ${r.handOver.p50Ms.toFixed(3)} ms, cold create p50 ${r.cold.p50Ms.toFixed(2)} ms (${r.handOver.n} rounds)`);
    return r;
  } finally {
    await Promise.allSettled(engines.map((e) => e.close()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

const ms3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 1 ? 3 : 2) : '-');

export function printPoolReport(r: PoolResults, out: (line: string) => void): void {
  out(`(j) warm pool: engine.create() as a hand-over from a pool of ${r.poolSize}, next to a cold create of the same spec (ms; interleaved; the pool full and ${SETTLE_MS} ms after the last kill before each)`);
  const precise = (name: string, x: Summary): string[] => latencyRow(name, x).map((c, i) => (i >= 2 ? ms3([x.meanMs, x.p50Ms, x.p95Ms, x.p99Ms][i - 2] ?? Number.NaN) : c));
  const rows = [
    precise('hand-over (create)', r.handOver),
    latencyRow('cold create', r.cold),
    latencyRow('hand-over + first command', r.handOverFirstExec),
    latencyRow('cold create + first command', r.coldFirstExec),
    latencyRow('refill (hand-over → pool full)', r.refill),
  ];
  for (const line of table([LAT_HEAD, ...rows])) out(`  ${line}`);
  const speedup = r.cold.p50Ms / r.handOver.p50Ms;
  out(`  cold / hand-over at p50: ${Number.isFinite(speedup) ? `${f1(speedup)}×` : '-'}; hit rate ${r.hitRate === null ? '-' : `${(r.hitRate * 100).toFixed(0)} %`}${r.aborted ? ' (aborted)' : ''}`);
}

export function poolTargets(r: PoolResults): Target[] {
  return [
    {
      name: 'pool hand-over',
      goal: `p50 ≤ ${TARGET_HANDOVER_P50_MS} ms`,
      measured: `p50 ${ms3(r.handOver.p50Ms)} ms, p99 ${ms3(r.handOver.p99Ms)} ms (cold create p50 ${ms3(r.cold.p50Ms)} ms)`,
      pass: r.handOver.n > 0 && r.handOver.p50Ms <= TARGET_HANDOVER_P50_MS,
    },
  ];
}

// Alone: prints the section and its target.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const plan = process.argv.includes('--quick') ? POOL_PLAN.quick : POOL_PLAN.full;
  const ac = new AbortController();
  const watchdog = setTimeout(() => ac.abort(), plan.watchdogMs);
  watchdog.unref();
  const r = await poolBench(plan, ac.signal, (line) => void process.stderr.write(`bench: ${line}\n`));
  clearTimeout(watchdog);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  printPoolReport(r, out);
  for (const t of poolTargets(r)) out(`  ${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.goal}; ${t.measured}`);
}
