/**
 * Warden benchmark: cold start, warm command round trip, throughput and idle
 * density, each next to the bare tool it is built on, codebase file-system
 * costs (bench/fs.ts), what the HTTP API adds (bench/api.ts), the threat
 * scanner's throughput and latency (bench/scan.ts), the audit log's append,
 * verify and query costs (bench/audit.ts), the guard's decision latency
 * (bench/guard.ts), plus PASS/MISS against the
 * performance targets.
 *
 *   node --expose-gc --import tsx bench/run.ts [--quick] [--json] [--fs-only] [--api-only] [--scan-only] [--audit-only] [--guard-only] [--pool-only] [--code-only]
 *
 * --quick  a few seconds in total (CI smoke); --json  results as JSON on stdout;
 * --fs-only  only section (e), codebases; --api-only  only section (f), the API;
 * --scan-only  only section (g), the scanner; --audit-only  only section (h), the
 * audit log; --guard-only  only section (i), the guard; --pool-only  only section (j),
 * warm pools; --code-only  only section (k), runCode cells (any of them together:
 * those sections).
 * Progress goes to stderr. Must run as root (like Warden), except --scan-only,
 * --audit-only and --guard-only (alone or together). Every count and duration is bounded and a watchdog aborts the run; the
 * engine is always closed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createEngine, type Engine, type Sandbox } from '../packages/core/src/index.js';
import { bareProfile, type BareProfile } from './bare.js';
import { FS_PLAN, fsBench, fsTargets, printFsReport, type FsResults } from './fs.js';
import { API_PLAN, apiBench, apiTargets, openApiServer, printApiReport, type ApiResults, type ApiServer } from './api.js';
import { SCAN_PLAN, printScanReport, scanBench, scanTargets, type ScanResults } from './scan.js';
import { AUDIT_PLAN, auditBench, auditTargets, printAuditReport, type AuditResults } from './audit.js';
import { GUARD_PLAN, GUARD_PLAN_QUICK, guardBench, guardTargets, printGuardReport, type GuardResults } from './guard.js';
import { POOL_PLAN, poolBench, poolTargets, printPoolReport, type PoolResults } from './pool.js';
import { CODE_PLAN, CODE_PLAN_QUICK, codeBench, codeTargets, printCodeReport, type CodeResults } from './code.js';
import { printTargets } from './format.js';
import { hostBusyPercent, hostShellLoops, hostSpawn, hostSpawnSync } from './host.js';
import { cgroupMemoryBytes, memoryOfUids } from './memory.js';
import { elapsedMs, now, summarize, throughput } from './stats.js';
import { printReport, targetsOf, type Results, type ThroughputResult } from './report.js';

/** Sections that can be picked alone (any of them together: those sections); without one, everything runs. */
const ONLY = { fs: '--fs-only', api: '--api-only', scan: '--scan-only', audit: '--audit-only', guard: '--guard-only', pool: '--pool-only', code: '--code-only' } as const;
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== '--quick' && a !== '--json' && !Object.values<string>(ONLY).includes(a)) {
    process.stderr.write(`bench: unknown argument ${a}; use --quick, --json and/or ${Object.values(ONLY).join(', ')}\n`);
    process.exit(2);
  }
}
const quick = args.has('--quick');
const json = args.has('--json');
const picked = (Object.keys(ONLY) as Array<keyof typeof ONLY>).filter((k) => args.has(ONLY[k]));
const all = picked.length === 0;
const RUN = { core: all, ...(Object.fromEntries(Object.keys(ONLY).map((k) => [k, all || picked.includes(k as keyof typeof ONLY)])) as Record<keyof typeof ONLY, boolean>) };
const onlyFlags = picked.map((k) => ONLY[k]).join(' ');
const FS = quick ? FS_PLAN.quick : FS_PLAN.full;
const API = quick ? API_PLAN.quick : API_PLAN.full;
const SCAN = quick ? SCAN_PLAN.quick : SCAN_PLAN.full;
const AUDIT = quick ? AUDIT_PLAN.quick : AUDIT_PLAN.full;
const GUARD = quick ? GUARD_PLAN_QUICK : GUARD_PLAN;
const POOL = quick ? POOL_PLAN.quick : POOL_PLAN.full;
const CODE = quick ? CODE_PLAN_QUICK : CODE_PLAN;
/** Section (k) runs its cells in one sandbox of its own engine; its budget bounds it. */
const CODE_WATCHDOG_MS = CODE.budgetMs * 3 + 30_000;

const PLAN = quick
  ? { coldN: 10, coldWarmup: 2, coldBudgetMs: 15_000, warmN: 200, warmWarmup: 20, warmBudgetMs: 5_000, tputMs: 500, clients: [1, 2, 8], idleN: 20, watchdogMs: 60_000 }
  : { coldN: 150, coldWarmup: 5, coldBudgetMs: 45_000, warmN: 2000, warmWarmup: 100, warmBudgetMs: 30_000, tputMs: 3_000, clients: [1, 2, 8], idleN: 200, watchdogMs: 170_000 };

/** Small sandboxes: the limits do not change the cost of starting one. */
const SPEC = { limits: { memoryMb: 64 } } as const;
const TRUE = ['/bin/true'] as const;

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function execTrue(sbx: Sandbox): Promise<void> {
  const r = await sbx.exec(TRUE, { timeoutMs: 10_000 });
  if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`/bin/true in ${sbx.id} ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
}

function machine(bwrapPath: string, busyPercent: number): Results['machine'] {
  const bwrap = (() => {
    try {
      return execFileSync(bwrapPath, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    bwrap,
    node: process.version,
    date: new Date().toISOString(),
    busyPercentAtStart: busyPercent,
    quick,
  };
}

/** (a) Interleaved, so drift in host state hits every variant alike. */
async function cold(engine: Engine, bare: BareProfile, signal: AbortSignal): Promise<Results['cold']> {
  const s = { warden: [] as number[], create: [] as number[], exec: [] as number[], kill: [] as number[], bwrap: [] as number[], launch: [] as number[] };
  const until = Date.now() + PLAN.coldBudgetMs;
  for (let i = 0; i < PLAN.coldWarmup + PLAN.coldN && Date.now() < until && !signal.aborted; i++) {
    const keep = i >= PLAN.coldWarmup;
    let t = now();
    await bare.runBwrap();
    if (keep) s.bwrap.push(elapsedMs(t));

    t = now();
    await bare.runLaunch();
    if (keep) s.launch.push(elapsedMs(t));

    const t0 = now();
    const sbx = await engine.create(SPEC);
    const t1 = now();
    try {
      await execTrue(sbx);
    } finally {
      const t2 = now();
      await sbx.kill();
      if (keep) {
        s.warden.push(elapsedMs(t0));
        s.create.push(Number(t1 - t0) / 1e6);
        s.exec.push(Number(t2 - t1) / 1e6);
        s.kill.push(elapsedMs(t2));
      }
    }
  }
  return {
    warden: summarize(s.warden),
    wardenCreate: summarize(s.create),
    wardenFirstExec: summarize(s.exec),
    wardenKill: summarize(s.kill),
    bareBwrap: summarize(s.bwrap),
    bareLaunch: summarize(s.launch),
  };
}

/** (b) One command at a time; interleaved with the host floor. */
async function warm(engine: Engine, signal: AbortSignal): Promise<Results['warm']> {
  const sbx = await engine.create(SPEC);
  try {
    const s = { warden: [] as number[], spawn: [] as number[], spawnSync: [] as number[] };
    const until = Date.now() + PLAN.warmBudgetMs;
    for (let i = 0; i < PLAN.warmWarmup + PLAN.warmN && Date.now() < until && !signal.aborted; i++) {
      const keep = i >= PLAN.warmWarmup;
      let t = now();
      await execTrue(sbx);
      if (keep) s.warden.push(elapsedMs(t));
      t = now();
      await hostSpawn(TRUE);
      if (keep) s.spawn.push(elapsedMs(t));
      t = now();
      await hostSpawnSync(TRUE);
      if (keep) s.spawnSync.push(elapsedMs(t));
    }
    return { warden: summarize(s.warden), hostSpawn: summarize(s.spawn), hostSpawnSync: summarize(s.spawnSync) };
  } finally {
    await sbx.kill();
  }
}

/** (c) Fixed-duration loops of sequential /bin/true per client. */
async function tput(engine: Engine, signal: AbortSignal): Promise<Results['throughput']> {
  const out: ThroughputResult[] = [];
  const record = (label: string, clients: number, sandboxes: number, r: { ops: number; seconds: number }): void => {
    out.push({ label, clients, sandboxes, ops: r.ops, seconds: r.seconds, opsPerSec: r.ops / r.seconds });
    log(`throughput ${label}: ${(r.ops / r.seconds).toFixed(0)}/s`);
  };
  // The default spec (limits.cpus = 1) first, then the same sandbox allowed every core.
  for (const cpuLimit of [undefined, availableParallelism()]) {
    const shared = await engine.create(cpuLimit === undefined ? SPEC : { limits: { ...SPEC.limits, cpus: cpuLimit } });
    try {
      await execTrue(shared);
      for (const clients of cpuLimit === undefined ? PLAN.clients : [8]) {
        const r = await throughput(clients, PLAN.tputMs, () => execTrue(shared), signal);
        record(`warden, ${clients} client${clients > 1 ? 's' : ''}, 1 sandbox${cpuLimit === undefined ? '' : ` (cpus=${cpuLimit})`}`, clients, 1, r);
      }
    } finally {
      await shared.kill();
    }
  }
  const many: Sandbox[] = [];
  try {
    for (let i = 0; i < 8; i++) many.push(await engine.create(SPEC));
    await Promise.all(many.map(execTrue));
    record('warden, 8 clients, 8 sandboxes', 8, 8, await throughput(8, PLAN.tputMs, (c) => execTrue(many[c]!), signal));
  } finally {
    await Promise.allSettled(many.map((s) => s.kill()));
  }
  for (const clients of [1, 8]) {
    record(`host spawn, ${clients} client${clients > 1 ? 's' : ''}`, clients, 0, await throughput(clients, PLAN.tputMs, () => hostSpawn(TRUE), signal));
  }
  if (!signal.aborted) {
    // Size the loops from a short calibration so they take about tputMs in all.
    const cal = await hostShellLoops(1, 300);
    const perLoop = Math.min(20_000, Math.max(50, ((PLAN.tputMs / 1000) * (cal.ops / cal.seconds) * availableParallelism()) / 8));
    record('host sh loops ×8, no Node (machine ceiling)', 8, 0, await hostShellLoops(8, perLoop));
  }
  return out;
}

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage();
}

/**
 * (d) N idle sandboxes: what they cost the host, and what they cost this
 * process. Node's growth is the slope between N/2 and N sandboxes, so one-off
 * allocations (and V8 dropping cold bytecode) do not count as per-sandbox.
 */
async function density(engine: Engine, signal: AbortSignal): Promise<Results['density']> {
  const sandboxes: Sandbox[] = [];
  // A few creates in flight at once, as a server would see them.
  const fill = async (count: number): Promise<void> => {
    let started = sandboxes.length;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (started < count && !signal.aborted) {
          started++;
          sandboxes.push(await engine.create(SPEC));
        }
      }),
    );
  };
  try {
    const cgDir = engine.cgroupDirs.find((d) => d.includes('/memory'));
    const half = Math.floor(PLAN.idleN / 2);
    const t0 = now();
    await fill(half);
    const createHalfSec = elapsedMs(t0) / 1000;
    const atHalf = { n: sandboxes.length, mem: await settledMemory() };
    const t1 = now();
    await fill(PLAN.idleN);
    const createSec = createHalfSec + elapsedMs(t1) / 1000;
    const atFull = { n: sandboxes.length, mem: await settledMemory() };
    const live = [...sandboxes];
    const n = live.length;
    const uids = new Set(live.map((s) => s.info().hostUid));
    const mem = await memoryOfUids(uids);
    const cgBytes = cgDir ? await cgroupMemoryBytes(cgDir) : undefined;
    const added = Math.max(1, atFull.n - atHalf.n);
    const t2 = now();
    await Promise.all(live.map((s) => s.kill()));
    const killSec = elapsedMs(t2) / 1000;
    sandboxes.length = 0;
    return {
      sandboxes: n,
      hostProcesses: mem.processes,
      pssKbPerSandbox: mem.pssKb / n,
      rssKbPerSandbox: mem.rssKb / n,
      cgroupKbPerSandbox: cgBytes === undefined ? null : cgBytes / 1024 / n,
      nodeHeapKbPerSandbox: (atFull.mem.heapUsed + atFull.mem.external - atHalf.mem.heapUsed - atHalf.mem.external) / 1024 / added,
      nodeRssKbPerSandbox: (atFull.mem.rss - atHalf.mem.rss) / 1024 / added,
      createPerSec: n / createSec,
      killPerSec: n / killSec,
    };
  } finally {
    await Promise.allSettled(sandboxes.map((s) => s.kill()));
  }
}

function printHeader(m: Results['machine'], aborted: boolean, out: (line: string) => void): void {
  out(`Warden bench${quick ? ' (--quick)' : ''}, ${onlyFlags} — ${m.date}`);
  out(`${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, ${m.bwrap}, node ${m.node}`);
  out(`host CPU busy before the run: ${m.busyPercentAtStart.toFixed(0)}%${m.busyPercentAtStart > 10 ? ' — WARNING: other work was running; numbers are skewed' : ''}`);
  if (aborted) out('WARNING: the run was cut short; numbers are partial.');
}

async function main(): Promise<number> {
  if ((RUN.core || RUN.fs || RUN.api || RUN.pool || RUN.code) && process.getuid?.() !== 0) {
    log('must run as root (Warden needs root for cgroups and per-sandbox uids)');
    return 2;
  }
  const ac = new AbortController();
  const stop = (why: string) => () => {
    log(`stopping: ${why}`);
    ac.abort();
  };
  process.once('SIGINT', stop('SIGINT'));
  process.once('SIGTERM', stop('SIGTERM'));
  const watchdogMs = (RUN.core ? PLAN.watchdogMs : 0) + (RUN.fs ? FS.watchdogMs : 0) + (RUN.api ? API.watchdogMs : 0) + (RUN.scan ? SCAN.watchdogMs : 0) + (RUN.audit ? AUDIT.watchdogMs : 0) + (RUN.guard ? GUARD.watchdogMs : 0) + (RUN.pool ? POOL.watchdogMs : 0) + (RUN.code ? CODE_WATCHDOG_MS : 0);
  const watchdog = setTimeout(stop(`watchdog (${watchdogMs} ms)`), watchdogMs);
  watchdog.unref();

  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-'));
  let engine: Engine | undefined;
  let bare: BareProfile | undefined;
  // Section (f) brings its own server (with its own engine and data dir), started when it runs.
  let api: ApiServer | undefined;
  try {
    let bwrapPath: string;
    if (RUN.core || RUN.fs) {
      engine = await createEngine({ dataDir });
      bwrapPath = engine.config.bwrapPath;
    } else if (RUN.api) {
      api = await openApiServer();
      bwrapPath = api.server.engine.config.bwrapPath;
    } else {
      // The scanner and the audit log need no engine; bwrap is only looked up for the machine line.
      bwrapPath = 'bwrap';
    }
    const m = machine(bwrapPath, await hostBusyPercent(1000));
    log(`${quick ? 'quick' : 'full'}${onlyFlags ? ` ${onlyFlags}` : ''} run on ${m.cpus} cpus, ${m.kernel}, ${m.bwrap}, node ${m.node}`);

    let core: Pick<Results, 'cold' | 'warm' | 'throughput' | 'density'> | undefined;
    if (RUN.core && engine) {
      bare = await bareProfile(engine.config.bwrapPath);
      log('(a) cold start…');
      const c = await cold(engine, bare, ac.signal);
      gc();
      log('(b) warm round trip…');
      const w = await warm(engine, ac.signal);
      gc();
      log('(c) throughput…');
      const t = await tput(engine, ac.signal);
      gc();
      log(`(d) idle density (${PLAN.idleN} sandboxes)…`);
      const d = await density(engine, ac.signal);
      gc();
      core = { cold: c, warm: w, throughput: t, density: d };
    }
    let e: FsResults | undefined;
    if (RUN.fs && engine) {
      log('(e) codebases…');
      e = await fsBench(engine, FS, ac.signal, log);
      gc();
    }
    let f: ApiResults | undefined;
    if (RUN.api && !ac.signal.aborted) {
      api ??= await openApiServer();
      f = await apiBench(api, API, ac.signal, log);
      gc();
    }
    let g: ScanResults | undefined;
    if (RUN.scan && !ac.signal.aborted) {
      log('(g) scanner…');
      g = await scanBench(SCAN, ac.signal, log);
      gc();
    }
    let h: AuditResults | undefined;
    if (RUN.audit && !ac.signal.aborted) {
      log('(h) audit log…');
      h = await auditBench(AUDIT, ac.signal, log);
      gc();
    }
    let i: GuardResults | undefined;
    if (RUN.guard && !ac.signal.aborted) {
      log('(i) guard…');
      i = await guardBench(GUARD, ac.signal, log);
      gc();
    }
    let k: CodeResults | undefined;
    if (RUN.code && !ac.signal.aborted) {
      log('(k) runCode cells…');
      const codeEngine = engine ?? (await createEngine({ dataDir }));
      try {
        await using sbx = await codeEngine.create(SPEC);
        k = await codeBench(sbx, CODE, ac.signal, log);
      } finally {
        if (codeEngine !== engine) await codeEngine.close();
      }
      gc();
    }
    let j: PoolResults | undefined;
    if (RUN.pool && !ac.signal.aborted) {
      log('(j) warm pools…');
      j = await poolBench(POOL, ac.signal, log);
      gc();
    }

    const aborted = ac.signal.aborted;
    const partial: Omit<Results, 'targets'> | undefined = core && { machine: m, ...core, aborted };
    const coreT = partial ? targetsOf(partial) : [];
    const fsT = e ? fsTargets(e) : [];
    const apiT = f ? apiTargets(f) : [];
    const scanT = g ? scanTargets(g) : [];
    const auditT = h ? auditTargets(h) : [];
    const guardT = i ? guardTargets(i) : [];
    const poolT = j ? poolTargets(j) : [];
    const codeT = k ? codeTargets(k) : [];
    const targets = [...coreT, ...fsT, ...apiT, ...scanT, ...auditT, ...guardT, ...poolT, ...codeT];
    if (json) {
      const body = partial
        ? { ...partial, targets, fs: e, api: f, scan: g, audit: h, guard: i, pool: j, code: k }
        : { machine: m, ...(e ? { fs: e } : {}), ...(f ? { api: f } : {}), ...(g ? { scan: g } : {}), ...(h ? { audit: h } : {}), ...(i ? { guard: i } : {}), ...(j ? { pool: j } : {}), ...(k ? { code: k } : {}), targets, aborted };
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      const out = (line: string): void => void process.stdout.write(`${line}\n`);
      // printReport ends with the targets of (a)–(d); sections (e) to (h) follow with their own.
      if (partial) printReport({ ...partial, targets: coreT }, out);
      else printHeader(m, aborted, out);
      if (e) {
        out('');
        printFsReport(e, out);
        printTargets('e', fsT, out);
      }
      if (f) {
        out('');
        printApiReport(f, out);
        printTargets('f', apiT, out);
      }
      if (g) {
        out('');
        printScanReport(g, out);
        printTargets('g', scanT, out);
      }
      if (h) {
        out('');
        printAuditReport(h, out);
        printTargets('h', auditT, out);
      }
      if (i) {
        out('');
        printGuardReport(i, out);
        printTargets('i', guardT, out);
      }
      if (j) {
        out('');
        printPoolReport(j, out);
        printTargets('j', poolT, out);
      }
      if (k) {
        out('');
        printCodeReport(k, out);
        printTargets('k', codeT, out);
      }
    }
    return aborted ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await api?.close().catch((err: unknown) => log(`closing the API server failed: ${String(err)}`));
    await engine?.close();
    await bare?.[Symbol.asyncDispose]();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
