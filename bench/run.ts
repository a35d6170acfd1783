/**
 * Warden benchmark (issue 7): the engine next to the bare tools it is built
 * on, measured in the same run — (a) cold start of /bin/true and python3,
 * (b) warm round trip, (c) throughput with 1/2/8/64 clients, (d) idle
 * density (bench/core.ts) — then codebase file-system costs (e,
 * bench/fs.ts), what the HTTP API adds (f, bench/api.ts), the threat
 * scanner (g, bench/scan.ts), the audit log (h, bench/audit.ts), the guard's
 * decision latency (i, bench/guard.ts), warm pools (j, bench/pool.ts),
 * runCode cells (k, bench/code.ts), the file API's read overhead (l,
 * bench/files.ts) and every runtime next to its bare tool (m,
 * bench/runtimes.ts: bwrap, gVisor, Docker), each with PASS/MISS against its
 * targets. Sections (a)–(l) run on bwrap, the default runtime.
 *
 *   node --expose-gc --import tsx bench/run.ts [--quick] [--json] [--out DIR] [--fs-only] [--api-only] [--scan-only] [--audit-only] [--guard-only] [--pool-only] [--code-only] [--files-only] [--runtimes-only]
 *
 * --quick  a minute or so in total (CI smoke); --json  results as JSON on stdout;
 * --out DIR  where results.json (the --json body) and report.txt (the printed
 * report) are written, default bench/out/ (gitignored; bench/RESULTS.md is
 * curated by hand); --X-only  only that section (several together: those
 * sections; see ONLY). Without one, everything runs: ~10 minutes in all.
 * Progress goes to stderr. Must run as root (like Warden), except --scan-only,
 * --audit-only and --guard-only (alone or together). Every count and duration
 * is bounded and a watchdog aborts the run; the engine is always closed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../packages/core/src/index.js';
import { bareProfile, type BareProfile } from './bare.js';
import { CORE_PLAN, SPEC, cold, density, tput, warm } from './core.js';
import { FS_PLAN, fsBench, fsTargets, printFsReport, type FsResults } from './fs.js';
import { API_PLAN, apiBench, apiTargets, openApiServer, printApiReport, type ApiResults, type ApiServer } from './api.js';
import { SCAN_PLAN, printScanReport, scanBench, scanTargets, type ScanResults } from './scan.js';
import { AUDIT_PLAN, auditBench, auditTargets, printAuditReport, type AuditResults } from './audit.js';
import { GUARD_PLAN, GUARD_PLAN_QUICK, guardBench, guardTargets, printGuardReport, type GuardResults } from './guard.js';
import { POOL_PLAN, poolBench, poolTargets, printPoolReport, type PoolResults } from './pool.js';
import { CODE_PLAN, CODE_PLAN_QUICK, codeBench, codeTargets, printCodeReport, type CodeResults } from './code.js';
import { FILES_PLAN, filesBench, printFilesReport, type FilesResults } from './files.js';
import { printTargets } from './format.js';
import { RUNTIME_PLAN, printRuntimesReport, runtimeTargets, runtimesBench, type RuntimeResult } from './runtimes.js';
import { startDockerd, type TestDockerd } from '../test/helpers/dockerd.js';
import { hostBusyPercent } from './host.js';
import { coreTargets, printCoreReport, printHeader, type CoreResults, type Machine, type Target } from './report.js';

/** Sections that can be picked alone (several together: those sections); without one, everything runs. */
const ONLY = { fs: '--fs-only', api: '--api-only', scan: '--scan-only', audit: '--audit-only', guard: '--guard-only', pool: '--pool-only', code: '--code-only', files: '--files-only', runtimes: '--runtimes-only' } as const;
const DEFAULT_OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

function parseArgs(argv: readonly string[]): { flags: Set<string>; outDir: string } {
  const flags = new Set<string>();
  let outDir = DEFAULT_OUT_DIR;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' || a.startsWith('--out=')) {
      const dir = a === '--out' ? argv[++i] : a.slice('--out='.length);
      if (!dir) {
        process.stderr.write('bench: --out needs a directory, e.g. --out /tmp/bench-run\n');
        process.exit(2);
      }
      outDir = resolve(dir);
    } else if (a === '--quick' || a === '--json' || Object.values<string>(ONLY).includes(a)) {
      flags.add(a);
    } else {
      process.stderr.write(`bench: unknown argument ${a}; use --quick, --json, --out DIR and/or ${Object.values(ONLY).join(', ')}\n`);
      process.exit(2);
    }
  }
  return { flags, outDir };
}

const { flags: args, outDir } = parseArgs(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const picked = (Object.keys(ONLY) as Array<keyof typeof ONLY>).filter((k) => args.has(ONLY[k]));
const all = picked.length === 0;
const RUN = { core: all, ...(Object.fromEntries(Object.keys(ONLY).map((k) => [k, all || picked.includes(k as keyof typeof ONLY)])) as Record<keyof typeof ONLY, boolean>) };
const onlyFlags = picked.map((k) => ONLY[k]).join(' ');
const CORE = quick ? CORE_PLAN.quick : CORE_PLAN.full;
const FS = quick ? FS_PLAN.quick : FS_PLAN.full;
const API = quick ? API_PLAN.quick : API_PLAN.full;
const SCAN = quick ? SCAN_PLAN.quick : SCAN_PLAN.full;
const AUDIT = quick ? AUDIT_PLAN.quick : AUDIT_PLAN.full;
const GUARD = quick ? GUARD_PLAN_QUICK : GUARD_PLAN;
const POOL = quick ? POOL_PLAN.quick : POOL_PLAN.full;
const CODE = quick ? CODE_PLAN_QUICK : CODE_PLAN;
const FILES = quick ? FILES_PLAN.quick : FILES_PLAN.full;
const RUNTIMES_M = quick ? RUNTIME_PLAN.quick : RUNTIME_PLAN.full;
/** Section (k) runs its cells in one sandbox of its own engine; its budget bounds it. */
const CODE_WATCHDOG_MS = CODE.budgetMs * 3 + 30_000;
/** Room above the density plan for the other sandboxes a section holds (default maxSandboxes is exactly 1000). */
const ENGINE_MAX_SANDBOXES = CORE.idleN + 100;

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function machine(bwrapPath: string, busyPercent: number): Machine {
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

/** Wall time of each section that ran, in seconds, in the order they ran. */
type Durations = Record<string, number>;

/** Runs one section: logs its name, records its wall time, collects garbage after it. */
async function timedSection<T>(durations: Durations, name: string, fn: () => Promise<T>): Promise<T> {
  log(`${name}…`);
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    durations[name] = (Date.now() - t0) / 1000;
    gc();
  }
}

const fmtSeconds = (s: number): string => (s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

async function main(): Promise<number> {
  const t0 = Date.now();
  if ((RUN.core || RUN.fs || RUN.api || RUN.pool || RUN.code || RUN.files || RUN.runtimes) && process.getuid?.() !== 0) {
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
  const watchdogMs =
    (RUN.core ? CORE.watchdogMs : 0) +
    (RUN.fs ? FS.watchdogMs : 0) +
    (RUN.api ? API.watchdogMs : 0) +
    (RUN.scan ? SCAN.watchdogMs : 0) +
    (RUN.audit ? AUDIT.watchdogMs : 0) +
    (RUN.guard ? GUARD.watchdogMs : 0) +
    (RUN.pool ? POOL.watchdogMs : 0) +
    (RUN.code ? CODE_WATCHDOG_MS : 0) +
    (RUN.files ? FILES.watchdogMs : 0) +
    (RUN.runtimes ? RUNTIMES_M.watchdogMs : 0);
  const watchdog = setTimeout(stop(`watchdog (${watchdogMs} ms)`), watchdogMs);
  watchdog.unref();

  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-'));
  let engine: Engine | undefined;
  let bare: BareProfile | undefined;
  // Section (f) brings its own server (with its own engine and data dir), started when it runs.
  let api: ApiServer | undefined;
  // Section (m) measures Docker on the engine that answers, or a private dockerd started for the run.
  let dockerd: TestDockerd | undefined;
  const durations: Durations = {};
  try {
    let bwrapPath: string;
    if (RUN.runtimes) {
      dockerd = await startDockerd().catch((err: unknown) => {
        log(`no Docker Engine for (m): ${(err as Error).message.split('\n')[0] ?? ''}`);
        return undefined;
      });
    }
    if (RUN.core || RUN.fs || RUN.files || RUN.code || RUN.runtimes) {
      engine = await createEngine({ dataDir, maxSandboxes: ENGINE_MAX_SANDBOXES, ...(dockerd ? { dockerSocket: dockerd.socketPath } : {}) });
      bwrapPath = engine.config.bwrapPath;
    } else if (RUN.api) {
      api = await openApiServer();
      bwrapPath = api.server.engine.config.bwrapPath;
    } else {
      // The scanner, the audit log and the guard need no engine; bwrap is only looked up for the machine line.
      bwrapPath = 'bwrap';
    }
    const m = machine(bwrapPath, await hostBusyPercent(1000));
    log(`${quick ? 'quick' : 'full'}${onlyFlags ? ` ${onlyFlags}` : ''} run on ${m.cpus} cpus, ${m.kernel}, ${m.bwrap}, node ${m.node}; host CPUs ${m.busyPercentAtStart.toFixed(0)}% busy before it`);

    let core: CoreResults | undefined;
    if (RUN.core && engine) {
      const eng = engine;
      bare = await bareProfile(eng.config.bwrapPath);
      const b = bare;
      const c = await timedSection(durations, '(a) cold start', () => cold(eng, b, CORE, ac.signal));
      const w = await timedSection(durations, '(b) warm round trip', () => warm(eng, CORE, ac.signal));
      const t = await timedSection(durations, '(c) throughput', () => tput(eng, CORE, ac.signal, log));
      const d = await timedSection(durations, '(d) idle density', () => density(eng, CORE, ac.signal, log));
      core = { cold: c, warm: w, throughput: t, density: d };
    }
    let e: FsResults | undefined;
    if (RUN.fs && engine && !ac.signal.aborted) {
      const eng = engine;
      e = await timedSection(durations, '(e) codebases', () => fsBench(eng, FS, ac.signal, log));
    }
    let l: FilesResults | undefined;
    if (RUN.files && engine && !ac.signal.aborted) {
      const eng = engine;
      l = await timedSection(durations, '(l) file API', () => filesBench(eng, SPEC, FILES, ac.signal, log));
    }
    let f: ApiResults | undefined;
    if (RUN.api && !ac.signal.aborted) {
      f = await timedSection(durations, '(f) API', async () => apiBench((api ??= await openApiServer()), API, ac.signal, log));
    }
    let g: ScanResults | undefined;
    if (RUN.scan && !ac.signal.aborted) {
      g = await timedSection(durations, '(g) scanner', () => scanBench(SCAN, ac.signal, log));
    }
    let h: AuditResults | undefined;
    if (RUN.audit && !ac.signal.aborted) {
      h = await timedSection(durations, '(h) audit log', () => auditBench(AUDIT, ac.signal, log));
    }
    let i: GuardResults | undefined;
    if (RUN.guard && !ac.signal.aborted) {
      i = await timedSection(durations, '(i) guard', () => guardBench(GUARD, ac.signal, log));
    }
    let k: CodeResults | undefined;
    if (RUN.code && engine && !ac.signal.aborted) {
      const eng = engine;
      k = await timedSection(durations, '(k) runCode', async () => {
        await using sbx = await eng.create(SPEC);
        return await codeBench(sbx, CODE, ac.signal, log); // await: `sbx` is disposed when this function returns
      });
    }
    let j: PoolResults | undefined;
    if (RUN.pool && !ac.signal.aborted) {
      j = await timedSection(durations, '(j) warm pools', () => poolBench(POOL, ac.signal, log));
    }

    let mResults: RuntimeResult[] | undefined;
    if (RUN.runtimes && engine && !ac.signal.aborted) {
      const eng = engine;
      bare ??= await bareProfile(eng.config.bwrapPath);
      const deps = { bare, runscPath: eng.config.runscPath, dockerSocket: dockerd?.socketPath };
      mResults = await timedSection(durations, '(m) runtimes', () => runtimesBench(eng, deps, RUNTIMES_M, ac.signal, log));
    }

    const aborted = ac.signal.aborted;
    const sectionTargets: Array<[string, Target[]]> = [
      ['a–d', core ? coreTargets(core, m) : []],
      ['e', e ? fsTargets(e) : []],
      ['f', f ? apiTargets(f) : []],
      ['g', g ? scanTargets(g) : []],
      ['h', h ? auditTargets(h) : []],
      ['i', i ? guardTargets(i) : []],
      ['j', j ? poolTargets(j) : []],
      ['k', k ? codeTargets(k) : []],
      ['m', mResults ? runtimeTargets(mResults) : []],
    ];
    const targets = sectionTargets.flatMap(([, t]) => t);
    const totalSeconds = (Date.now() - t0) / 1000;
    const body = { machine: m, ...core, runtimes: mResults, fs: e, api: f, scan: g, audit: h, guard: i, pool: j, code: k, files: l, targets, sectionSeconds: durations, totalSeconds, aborted };

    const lines: string[] = [];
    const out = (line: string): void => void lines.push(line);
    printHeader(m, onlyFlags, aborted, out);
    const printed: Array<[string, (() => void) | undefined]> = [
      ['a–d', core && (() => printCoreReport(core, out))],
      ['e', e && (() => printFsReport(e, out))],
      ['f', f && (() => printApiReport(f, out))],
      ['g', g && (() => printScanReport(g, out))],
      ['h', h && (() => printAuditReport(h, out))],
      ['i', i && (() => printGuardReport(i, out))],
      ['j', j && (() => printPoolReport(j, out))],
      ['k', k && (() => printCodeReport(k, out))],
      ['l', l && (() => printFilesReport(l, out))],
      ['m', mResults && (() => printRuntimesReport(mResults, out))],
    ];
    for (const [section, print] of printed) {
      if (!print) continue;
      out('');
      print();
      const t = sectionTargets.find(([s]) => s === section)?.[1] ?? [];
      if (t.length > 0) printTargets(section, t, out);
    }
    out('');
    out(`Time: ${Object.entries(durations).map(([name, s]) => `${name} ${fmtSeconds(s)}`).join(', ')}; ${fmtSeconds(totalSeconds)} in all`);

    const text = `${lines.join('\n')}\n`;
    const jsonText = `${JSON.stringify(body, null, 2)}\n`;
    process.stdout.write(json ? jsonText : text);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'results.json'), jsonText);
    await writeFile(join(outDir, 'report.txt'), text);
    log(`wrote ${join(outDir, 'results.json')} and ${join(outDir, 'report.txt')}`);
    return aborted ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await api?.close().catch((err: unknown) => log(`closing the API server failed: ${String(err)}`));
    await engine?.close();
    await dockerd?.stop().catch((err: unknown) => log(`stopping dockerd failed: ${String(err)}`));
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
