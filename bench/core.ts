/**
 * Sections (a)–(d), the engine next to the bare tools it is built on:
 * (a) cold start (/bin/true, and python3), (b) warm round trip, (c)
 * throughput with 1, 2, 8 and 64 clients, (d) idle density. Whatever is
 * compared runs interleaved, in an order rotated every round, so drift on the
 * host hits every variant alike. Called from bench/run.ts.
 */
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Engine, Sandbox } from '../packages/core/src/index.js';
import type { BareProfile } from './bare.js';
import { hostCpuTicks, hostShellLoops, hostSpawn, hostSpawnSync } from './host.js';
import { cgroupMemoryBytes, hostMemory, memoryOfUids } from './memory.js';
import type { CoreResults, ThroughputResult } from './report.js';
import { elapsedMs, now, rotated, summarize, throughput } from './stats.js';

export interface CorePlan {
  readonly coldN: number;
  readonly coldWarmup: number;
  readonly coldBudgetMs: number;
  readonly warmN: number;
  readonly warmWarmup: number;
  readonly warmBudgetMs: number;
  /** Each throughput segment runs this long; every round runs each variant of a client count once. */
  readonly tputMs: number;
  readonly tputRounds: number;
  readonly clients: readonly number[];
  /** Idle sandboxes to hold at once, created `idleInFlight` at a time; the fill stops at `idleBudgetMs`. */
  readonly idleN: number;
  readonly idleInFlight: number;
  readonly idleBudgetMs: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const CORE_PLAN: { readonly quick: CorePlan; readonly full: CorePlan } = {
  quick: {
    coldN: 10, coldWarmup: 2, coldBudgetMs: 15_000,
    warmN: 200, warmWarmup: 20, warmBudgetMs: 5_000,
    tputMs: 300, tputRounds: 1, clients: [1, 2, 8, 64],
    idleN: 20, idleInFlight: 8, idleBudgetMs: 15_000,
    watchdogMs: 90_000,
  },
  full: {
    coldN: 150, coldWarmup: 5, coldBudgetMs: 60_000,
    warmN: 2000, warmWarmup: 100, warmBudgetMs: 30_000,
    tputMs: 1_000, tputRounds: 2, clients: [1, 2, 8, 64],
    idleN: 1000, idleInFlight: 8, idleBudgetMs: 90_000,
    watchdogMs: 300_000,
  },
};

/** Small sandboxes: the limits do not change the cost of starting one. */
export const SPEC = { limits: { memoryMb: 64 } } as const;
const TRUE = ['/bin/true'] as const;
/** Absolute: bare bwrap runs with an empty environment, so there is no PATH to search. */
export const PYTHON_PASS = ['/usr/bin/python3', '-c', 'pass'] as const;
/** Sandboxes the "spread" throughput variant uses: client c runs in sandbox c mod this. */
const SPREAD = 8;

type Log = (s: string) => void;

async function execOk(sbx: Sandbox, argv: readonly string[]): Promise<void> {
  const r = await sbx.exec(argv, { timeoutMs: 10_000 });
  if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${sbx.id} ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
}

export const execTrue = (sbx: Sandbox): Promise<void> => execOk(sbx, TRUE);

/**
 * (a) Five variants per round, in rotating order: bare bwrap and
 * warden-launch + bwrap running /bin/true, Warden's create + exec /bin/true +
 * kill, and bare bwrap and Warden running `python3 -c pass` instead.
 */
export async function cold(engine: Engine, bare: BareProfile, plan: CorePlan, signal: AbortSignal): Promise<CoreResults['cold']> {
  const s = { warden: [] as number[], create: [] as number[], exec: [] as number[], kill: [] as number[], bwrap: [] as number[], launch: [] as number[], py: [] as number[], pyExec: [] as number[], pyBwrap: [] as number[] };
  const timed = async (into: number[], keep: boolean, fn: () => Promise<void>): Promise<void> => {
    const t = now();
    await fn();
    if (keep) into.push(elapsedMs(t));
  };
  /** create + exec `argv` + kill; the parts go to `parts` when given. */
  const lifecycle = async (argv: readonly string[], keep: boolean, total: number[], exec: number[], parts?: { create: number[]; kill: number[] }): Promise<void> => {
    const t0 = now();
    const sbx = await engine.create(SPEC);
    const t1 = now();
    try {
      await execOk(sbx, argv);
    } finally {
      const t2 = now();
      await sbx.kill();
      if (keep) {
        total.push(elapsedMs(t0));
        exec.push(Number(t2 - t1) / 1e6);
        parts?.create.push(Number(t1 - t0) / 1e6);
        parts?.kill.push(elapsedMs(t2));
      }
    }
  };
  const variants: Array<(keep: boolean) => Promise<void>> = [
    (keep) => timed(s.bwrap, keep, () => bare.runBwrap()),
    (keep) => timed(s.launch, keep, () => bare.runLaunch()),
    (keep) => lifecycle(TRUE, keep, s.warden, s.exec, { create: s.create, kill: s.kill }),
    (keep) => timed(s.pyBwrap, keep, () => bare.runBwrap(PYTHON_PASS)),
    (keep) => lifecycle(PYTHON_PASS, keep, s.py, s.pyExec),
  ];
  const until = Date.now() + plan.coldBudgetMs;
  for (let i = 0; i < plan.coldWarmup + plan.coldN && Date.now() < until && !signal.aborted; i++) {
    for (const v of rotated(variants, i)) await v(i >= plan.coldWarmup);
  }
  return {
    warden: summarize(s.warden),
    wardenCreate: summarize(s.create),
    wardenFirstExec: summarize(s.exec),
    wardenKill: summarize(s.kill),
    bareBwrap: summarize(s.bwrap),
    bareLaunch: summarize(s.launch),
    wardenPython: summarize(s.py),
    wardenPythonExec: summarize(s.pyExec),
    bareBwrapPython: summarize(s.pyBwrap),
  };
}

/** (b) One command at a time, in a running sandbox and on the host; rotating order. */
export async function warm(engine: Engine, plan: CorePlan, signal: AbortSignal): Promise<CoreResults['warm']> {
  const sbx = await engine.create(SPEC);
  try {
    const s = { warden: [] as number[], spawn: [] as number[], spawnSync: [] as number[] };
    const variants: Array<[number[], () => Promise<void>]> = [
      [s.warden, () => execTrue(sbx)],
      [s.spawn, () => hostSpawn(TRUE)],
      [s.spawnSync, () => hostSpawnSync(TRUE)],
    ];
    const until = Date.now() + plan.warmBudgetMs;
    for (let i = 0; i < plan.warmWarmup + plan.warmN && Date.now() < until && !signal.aborted; i++) {
      for (const [into, fn] of rotated(variants, i)) {
        const t = now();
        await fn();
        if (i >= plan.warmWarmup) into.push(elapsedMs(t));
      }
    }
    return { warden: summarize(s.warden), hostSpawn: summarize(s.spawn), hostSpawnSync: summarize(s.spawnSync) };
  } finally {
    await sbx.kill();
  }
}

/** Runs `fn` and adds the CPU time it took: every process on the host (/proc/stat), and this process alone. */
async function withCpu<T extends { ops: number; seconds: number }>(fn: () => Promise<T>): Promise<T & { hostCpuMs: number; nodeCpuMs: number }> {
  const host0 = await hostCpuTicks();
  const node0 = process.cpuUsage();
  const r = await fn();
  const node = process.cpuUsage(node0);
  const host = await hostCpuTicks();
  // /proc/stat counts in USER_HZ: 100 per second on Linux.
  return { ...r, hostCpuMs: (host.busy - host0.busy) * 10, nodeCpuMs: (node.user + node.system) / 1000 };
}

function rates(a: { ops: number; seconds: number; hostCpuMs: number; nodeCpuMs: number }): Pick<ThroughputResult, 'ops' | 'seconds' | 'opsPerSec' | 'hostCpuMsPerOp' | 'nodeCpuMsPerOp'> {
  return {
    ops: a.ops,
    seconds: a.seconds,
    opsPerSec: a.seconds > 0 ? a.ops / a.seconds : 0,
    hostCpuMsPerOp: a.ops > 0 ? a.hostCpuMs / a.ops : Number.NaN,
    nodeCpuMsPerOp: a.ops > 0 ? a.nodeCpuMs / a.ops : Number.NaN,
  };
}

interface TputVariant {
  readonly label: string;
  readonly via: ThroughputResult['via'];
  readonly sandboxes: number;
  readonly cpus: number | null;
  readonly fn: (client: number) => Promise<void>;
}

/**
 * (c) Fixed-duration loops of sequential /bin/true per client. For each
 * client count: every client on one sandbox, clients spread over up to 8
 * sandboxes (client c on sandbox c mod 8), and the host floor (Node's
 * spawn, the same number of clients); with 8 clients also one sandbox
 * allowed every core. The variants of a client count alternate, the order
 * rotated every round, and their ops are summed over the rounds. Last, the
 * machine's own ceiling: 8 `sh` loops of /bin/true, no Node.
 */
export async function tput(engine: Engine, plan: CorePlan, signal: AbortSignal, log: Log): Promise<ThroughputResult[]> {
  const cores = availableParallelism();
  const held: Sandbox[] = [];
  try {
    const shared = await engine.create(SPEC);
    held.push(shared);
    const allCores = await engine.create({ limits: { ...SPEC.limits, cpus: cores } });
    held.push(allCores);
    const spread: Sandbox[] = [shared];
    for (let i = 1; i < SPREAD; i++) spread.push(await engine.create(SPEC));
    held.push(...spread.slice(1));
    await Promise.all(held.map(execTrue));

    const out: ThroughputResult[] = [];
    for (const clients of plan.clients) {
      const variants: TputVariant[] = [
        { label: 'warden, 1 sandbox', via: 'warden', sandboxes: 1, cpus: 1, fn: () => execTrue(shared) },
        ...(clients > 1 ? [{ label: `warden, ${Math.min(clients, SPREAD)} sandboxes`, via: 'warden' as const, sandboxes: Math.min(clients, SPREAD), cpus: 1, fn: (c: number) => execTrue(spread[c % SPREAD]!) }] : []),
        ...(clients === 8 ? [{ label: `warden, 1 sandbox (cpus=${cores})`, via: 'warden' as const, sandboxes: 1, cpus: cores, fn: () => execTrue(allCores) }] : []),
        { label: 'host spawn (floor)', via: 'host spawn', sandboxes: 0, cpus: null, fn: () => hostSpawn(TRUE) },
      ];
      const acc = variants.map(() => ({ ops: 0, seconds: 0, hostCpuMs: 0, nodeCpuMs: 0 }));
      for (let round = 0; round < plan.tputRounds && !signal.aborted; round++) {
        for (const j of rotated(variants.map((_, k) => k), round)) {
          const r = await withCpu(() => throughput(clients, plan.tputMs, variants[j]!.fn, signal));
          const a = acc[j]!;
          a.ops += r.ops;
          a.seconds += r.seconds;
          a.hostCpuMs += r.hostCpuMs;
          a.nodeCpuMs += r.nodeCpuMs;
        }
      }
      variants.forEach((v, j) => {
        const a = acc[j]!;
        out.push({ label: `${v.label}, ${clients} client${clients > 1 ? 's' : ''}`, via: v.via, clients, sandboxes: v.sandboxes, cpus: v.cpus, ...rates(a) });
        log(`throughput ${v.label}, ${clients} clients: ${(a.seconds > 0 ? a.ops / a.seconds : 0).toFixed(0)}/s`);
      });
    }
    if (!signal.aborted) {
      // Size the loops from a short calibration so they take about tputMs in all.
      const cal = await hostShellLoops(1, 300);
      const perLoop = Math.min(20_000, Math.max(50, ((plan.tputMs / 1000) * (cal.ops / cal.seconds) * cores) / 8));
      const r = await withCpu(() => hostShellLoops(8, perLoop));
      out.push({ label: 'host sh loops ×8, no Node (machine ceiling)', via: 'host sh loops', clients: 8, sandboxes: 0, cpus: null, ...rates(r) });
      log(`throughput host sh loops ×8: ${(r.ops / r.seconds).toFixed(0)}/s`);
    }
    return out;
  } finally {
    await Promise.allSettled(held.map((s) => s.kill()));
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage();
}

/**
 * (d) N idle sandboxes: what they cost the host (PSS of their processes,
 * their memory cgroups, and the host's used memory before and with them),
 * and what they cost this process. Node's growth is the slope between N/2
 * and N sandboxes, so one-off allocations (and V8 dropping cold bytecode) do
 * not count as per-sandbox. Creates run `idleInFlight` at a time, as a
 * server would see them, and stop at the time budget.
 */
export async function density(engine: Engine, plan: CorePlan, signal: AbortSignal, log: Log): Promise<CoreResults['density']> {
  if (engine.config.maxSandboxes < plan.idleN) throw new Error(`the engine allows ${engine.config.maxSandboxes} sandboxes (maxSandboxes), the plan holds ${plan.idleN}`);
  if (engine.config.uidRange.count < plan.idleN) throw new Error(`the engine's uid range has ${engine.config.uidRange.count} uids, the plan holds ${plan.idleN} sandboxes`);
  const sandboxes: Sandbox[] = [];
  const until = Date.now() + plan.idleBudgetMs;
  const fill = async (count: number): Promise<void> => {
    let started = sandboxes.length;
    await Promise.all(
      Array.from({ length: plan.idleInFlight }, async () => {
        while (started < count && Date.now() < until && !signal.aborted) {
          started++;
          sandboxes.push(await engine.create(SPEC));
        }
      }),
    );
  };
  try {
    const cgDir = engine.cgroupDirs.find((d) => d.includes('/memory'));
    await settledMemory();
    const hostBefore = await hostMemory();
    const half = Math.floor(plan.idleN / 2);
    const t0 = now();
    await fill(half);
    const createHalfSec = elapsedMs(t0) / 1000;
    const atHalf = { n: sandboxes.length, mem: await settledMemory(), fds: (await readdir('/proc/self/fd')).length };
    log(`density: ${atHalf.n} sandboxes in ${createHalfSec.toFixed(1)} s`);
    const t1 = now();
    await fill(plan.idleN);
    const createSec = createHalfSec + elapsedMs(t1) / 1000;
    const atFull = { n: sandboxes.length, mem: await settledMemory(), fds: (await readdir('/proc/self/fd')).length };
    const hostAtN = await hostMemory();
    log(`density: ${atFull.n} sandboxes in ${createSec.toFixed(1)} s`);
    const live = [...sandboxes];
    const n = live.length;
    const mem = await memoryOfUids(new Set(live.map((s) => s.info().hostUid)));
    const cgBytes = cgDir ? await cgroupMemoryBytes(cgDir) : undefined;
    const added = Math.max(1, atFull.n - atHalf.n);
    const t2 = now();
    await Promise.all(live.map((s) => s.kill()));
    const killSec = elapsedMs(t2) / 1000;
    sandboxes.length = 0;
    return {
      requested: plan.idleN,
      sandboxes: n,
      hostProcesses: mem.processes,
      pssKbPerSandbox: mem.pssKb / n,
      rssKbPerSandbox: mem.rssKb / n,
      cgroupKbPerSandbox: cgBytes === undefined ? null : cgBytes / 1024 / n,
      hostMemoryBefore: hostBefore,
      hostMemoryAtN: hostAtN,
      nodeHeapKbPerSandbox: (atFull.mem.heapUsed + atFull.mem.external - atHalf.mem.heapUsed - atHalf.mem.external) / 1024 / added,
      nodeRssKbPerSandbox: (atFull.mem.rss - atHalf.mem.rss) / 1024 / added,
      nodeFdsPerSandbox: (atFull.fds - atHalf.fds) / added,
      inFlight: plan.idleInFlight,
      createSeconds: createSec,
      createPerSec: n / createSec,
      killPerSec: n / killSec,
    };
  } finally {
    await Promise.allSettled(sandboxes.map((s) => s.kill()));
  }
}
