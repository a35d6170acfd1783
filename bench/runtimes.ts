/**
 * Section (m), per runtime next to its bare tool in the same run: cold
 * create + /bin/true + destroy (bare: bwrap, `runsc do`, `docker run --rm`),
 * warm round trip in a running sandbox (bare: `docker exec` into Warden's own
 * container, and a host spawn), throughput with 8 clients on one sandbox,
 * and idle memory per sandbox (PSS of every host process it costs: those in
 * its cgroups, plus a Docker container's containerd shim). A runtime this
 * host cannot run is reported as such, never silently left out. Docker is
 * measured on a private dockerd started for the run (no bridge), like the
 * tests do, unless one already answers.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Engine, Sandbox } from '../packages/core/src/index.js';
import type { RuntimeName } from '../packages/protocol/src/index.js';
import type { BareProfile } from './bare.js';
import { execTrue } from './core.js';
import { LAT_RATIO_HEAD, f1, latencyRatioRow, latencyRow, ratio, table } from './format.js';
import { hostSpawn } from './host.js';
import type { Target } from './report.js';
import { elapsedMs, now, rotated, summarize, throughput, type Summary } from './stats.js';

const run = promisify(execFile);
type Log = (s: string) => void;

export interface RuntimePlan {
  readonly coldN: number;
  readonly warmN: number;
  readonly tputMs: number;
  readonly idleN: number;
  /** Per runtime; a runtime's measurements stop at it. */
  readonly budgetMs: number;
  readonly watchdogMs: number;
}

export const RUNTIME_PLAN: { readonly quick: RuntimePlan; readonly full: RuntimePlan } = {
  quick: { coldN: 5, warmN: 50, tputMs: 500, idleN: 4, budgetMs: 30_000, watchdogMs: 180_000 },
  full: { coldN: 40, warmN: 500, tputMs: 2_000, idleN: 20, budgetMs: 120_000, watchdogMs: 600_000 },
};

const SPEC = { limits: { memoryMb: 256 } } as const;
const TRUE = ['/bin/true'] as const;
/** Debian's docker CLI (docker.io), matching its dockerd; another client may sit earlier on PATH. */
const DOCKER_CLI = '/usr/bin/docker';

export interface RuntimeResult {
  readonly runtime: RuntimeName;
  /** Why it was not measured, when it was not. */
  readonly unavailable?: string;
  readonly cold?: { readonly warden: Summary; readonly bare: Summary; readonly bareName: string };
  readonly warm?: { readonly warden: Summary; readonly hostSpawn: Summary; readonly dockerExec?: Summary };
  readonly throughput8?: { readonly opsPerSec: number };
  readonly idle?: { readonly sandboxes: number; readonly pssKbPerSandbox: number; readonly processesPerSandbox: number };
}

export interface RuntimeBenchDeps {
  readonly bare: BareProfile;
  readonly runscPath: string;
  readonly dockerSocket: string | undefined;
}

export async function runtimesBench(engine: Engine, deps: RuntimeBenchDeps, plan: RuntimePlan, signal: AbortSignal, log: Log): Promise<RuntimeResult[]> {
  const out: RuntimeResult[] = [];
  for (const runtime of ['bwrap', 'gvisor', 'docker'] as const) {
    if (signal.aborted) break;
    log(`(m) ${runtime}…`);
    try {
      out.push(await oneRuntime(engine, runtime, deps, plan, signal));
    } catch (err) {
      const why = (err as Error).message.split('\n')[0] ?? String(err);
      log(`(m) ${runtime} not measured: ${why}`);
      out.push({ runtime, unavailable: why });
    }
  }
  return out;
}

async function oneRuntime(engine: Engine, runtime: RuntimeName, deps: RuntimeBenchDeps, plan: RuntimePlan, signal: AbortSignal): Promise<RuntimeResult> {
  const spec = { ...SPEC, runtime };
  // The first create also probes the runtime (and builds Docker's base image): not a sample.
  const first = await engine.create(spec);
  await execTrue(first);
  const docker = runtime === 'docker' ? await dockerFacts(first.id, deps.dockerSocket) : undefined;
  await first.kill();
  const bareName = runtime === 'bwrap' ? 'bwrap /bin/true' : runtime === 'gvisor' ? 'runsc do /bin/true' : 'docker run --rm /bin/true';
  const bare = (): Promise<void> =>
    runtime === 'bwrap'
      ? deps.bare.runBwrap(TRUE)
      : runtime === 'gvisor'
        ? run(deps.runscPath, ['--platform=ptrace', '--network=none', 'do', '/bin/true']).then(() => undefined)
        : run(DOCKER_CLI, ['-H', `unix://${docker!.socket}`, 'run', '--rm', '--network', 'none', '-v', '/usr:/usr:ro', docker!.image, '/bin/true']).then(() => undefined);
  // Cold gets half of the runtime's budget, warm a quarter; throughput and idle memory are bounded by their plans.
  const coldUntil = Date.now() + plan.budgetMs / 2;

  // Cold: create + /bin/true + kill, against the bare tool, in rotating order.
  const s = { warden: [] as number[], bare: [] as number[] };
  const cold: Array<() => Promise<void>> = [
    async () => {
      const t = now();
      const sbx = await engine.create(spec);
      try {
        await execTrue(sbx);
      } finally {
        await sbx.kill();
      }
      s.warden.push(elapsedMs(t));
    },
    async () => {
      const t = now();
      await bare();
      s.bare.push(elapsedMs(t));
    },
  ];
  for (let i = 0; i < plan.coldN && Date.now() < coldUntil && !signal.aborted; i++) for (const v of rotated(cold, i)) await v();

  // Warm: one command at a time in a running sandbox; Docker's own exec into the same container.
  const sbx = await engine.create(spec);
  try {
    const w = { warden: [] as number[], spawn: [] as number[], dockerExec: [] as number[] };
    const container = runtime === 'docker' ? (await dockerFacts(sbx.id, deps.dockerSocket)).container : undefined;
    const warm: Array<[number[], () => Promise<void>]> = [
      [w.warden, () => execTrue(sbx)],
      [w.spawn, () => hostSpawn(TRUE)],
      ...(container ? ([[w.dockerExec, () => run(DOCKER_CLI, ['-H', `unix://${docker!.socket}`, 'exec', container, '/bin/true']).then(() => undefined)]] as Array<[number[], () => Promise<void>]>) : []),
    ];
    const warmUntil = Date.now() + plan.budgetMs / 4;
    for (let i = 0; i < plan.warmN && Date.now() < warmUntil && !signal.aborted; i++) {
      for (const [into, fn] of rotated(warm, i)) {
        // docker exec takes ~50 ms: a tenth of the samples keeps its share of the budget small.
        if (into === w.dockerExec && i % 10 !== 0) continue;
        const t = now();
        await fn();
        into.push(elapsedMs(t));
      }
    }
    const t8 = await throughput(8, plan.tputMs, () => execTrue(sbx), signal);
    const idle = await idleMemory(engine, spec, plan.idleN, deps.dockerSocket);
    return {
      runtime,
      cold: { warden: summarize(s.warden), bare: summarize(s.bare), bareName },
      warm: { warden: summarize(w.warden), hostSpawn: summarize(w.spawn), ...(container ? { dockerExec: summarize(w.dockerExec) } : {}) },
      throughput8: { opsPerSec: t8.seconds > 0 ? t8.ops / t8.seconds : 0 },
      idle,
    };
  } finally {
    await sbx.kill();
  }
}

/** Warden's container of a docker sandbox, the base image it runs, and the engine's socket. */
async function dockerFacts(sandboxId: string, socket: string | undefined): Promise<{ socket: string; container: string; image: string }> {
  const sock = socket ?? '/var/run/docker.sock';
  const H = ['-H', `unix://${sock}`];
  const container = (await run(DOCKER_CLI, [...H, 'ps', '-q', '--no-trunc', '--filter', `label=warden.sandbox=${sandboxId}`])).stdout.trim();
  if (!container) throw new Error(`no container labelled warden.sandbox=${sandboxId} on ${sock}`);
  const image = (await run(DOCKER_CLI, [...H, 'inspect', '--format', '{{.Image}}', container])).stdout.trim();
  return { socket: sock, container, image };
}

/** N idle sandboxes of a runtime; the PSS of every host process each one costs. */
async function idleMemory(engine: Engine, spec: { runtime: RuntimeName }, n: number, dockerSocket: string | undefined): Promise<RuntimeResult['idle']> {
  const held: Sandbox[] = [];
  try {
    for (let i = 0; i < n; i++) held.push(await engine.create(spec));
    await Promise.all(held.map(execTrue));
    const memDir = engine.cgroupDirs.find((d) => d.includes('memory'));
    let pssKb = 0;
    let processes = 0;
    for (const sbx of held) {
      const pids = new Set<number>();
      if (memDir) for (const pid of await cgroupPids(`${memDir}/${sbx.id}`)) pids.add(pid);
      if (spec.runtime === 'docker') for (const pid of await shimPids((await dockerFacts(sbx.id, dockerSocket)).container)) pids.add(pid);
      for (const pid of pids) {
        const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
        if (!rollup) continue;
        processes++;
        pssKb += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
      }
    }
    return { sandboxes: held.length, pssKbPerSandbox: pssKb / held.length, processesPerSandbox: processes / held.length };
  } finally {
    await Promise.allSettled(held.map((s) => s.kill()));
  }
}

/** Every pid in a cgroup directory and the cgroups below it (Docker nests its own). */
async function cgroupPids(dir: string): Promise<number[]> {
  const out: number[] = [];
  const procs = await readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => '');
  for (const l of procs.split('\n')) if (l) out.push(Number(l));
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) out.push(...(await cgroupPids(`${dir}/${e.name}`)));
  return out;
}

/** The containerd shim that holds a container (outside its cgroup, but there because of it). */
async function shimPids(containerId: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('containerd-shim') && cmd.includes(containerId)) out.push(Number(name));
  }
  return out;
}

export function runtimeTargets(results: readonly RuntimeResult[]): Target[] {
  const t: Target[] = [];
  const g = results.find((r) => r.runtime === 'gvisor');
  if (g?.cold) {
    const x = g.cold.warden.p50Ms / g.cold.bare.p50Ms;
    t.push({ pass: x <= 1.2, name: 'gVisor cold create+true+destroy vs bare runsc do', goal: '≤ 1.2× (p50)', measured: `${x.toFixed(2)}× (${f1(g.cold.warden.p50Ms)} vs ${f1(g.cold.bare.p50Ms)} ms)` });
  }
  const d = results.find((r) => r.runtime === 'docker');
  if (d?.warm?.dockerExec) {
    const x = d.warm.warden.p50Ms / d.warm.dockerExec.p50Ms;
    t.push({ pass: x <= 0.1, name: 'Docker warm round trip vs docker exec', goal: '≤ 0.1× (far below, p50)', measured: `${x.toFixed(3)}× (${f1(d.warm.warden.p50Ms)} vs ${f1(d.warm.dockerExec.p50Ms)} ms)` });
  }
  for (const r of results) if (r.unavailable) t.push({ pass: false, name: `${r.runtime} measured`, goal: 'runs on this host', measured: r.unavailable });
  return t;
}

export function printRuntimesReport(results: readonly RuntimeResult[], out: (line: string) => void): void {
  out('(m) Runtimes, each next to its bare tool in the same run (ms)');
  for (const r of results) {
    out('');
    if (r.unavailable || !r.cold || !r.warm) {
      out(`  ${r.runtime}: not measured — ${r.unavailable ?? 'incomplete'}`);
      continue;
    }
    const rows: string[][] = [
      LAT_RATIO_HEAD,
      latencyRatioRow(`${r.runtime}: create + /bin/true + destroy`, r.cold.warden, r.cold.bare),
      latencyRow(`bare ${r.cold.bareName}`, r.cold.bare),
      latencyRatioRow(`${r.runtime}: warm round trip (/bin/true)`, r.warm.warden, r.warm.hostSpawn),
      latencyRow('host spawn /bin/true', r.warm.hostSpawn),
      ...(r.warm.dockerExec ? [latencyRow('docker exec /bin/true (same container)', r.warm.dockerExec)] : []),
    ];
    for (const l of table(rows)) out(`  ${l}`);
    out(`  throughput, 8 clients on one sandbox: ${r.throughput8 ? r.throughput8.opsPerSec.toFixed(0) : '-'} commands/s`);
    if (r.idle) out(`  idle: ${r.idle.sandboxes} sandboxes, ${(r.idle.pssKbPerSandbox / 1024).toFixed(1)} MiB PSS and ${r.idle.processesPerSandbox.toFixed(1)} host processes each`);
    if (r.warm.dockerExec) out(`  warm round trip vs docker exec: ${ratio(r.warm.warden.p50Ms, r.warm.dockerExec.p50Ms)} (p50)`);
  }
}
