/** The shape of sections (a)–(d), the targets they are judged against, and the text report's header and those sections. */
import type { HostMemory } from './memory.js';
import type { Summary } from './stats.js';
import { LAT_RATIO_HEAD, f1, latencyRatioRow, latencyRow, ratio, table } from './format.js';

export interface ThroughputResult {
  readonly label: string;
  readonly via: 'warden' | 'host spawn' | 'host sh loops';
  readonly clients: number;
  /** 0 = on the host, no sandbox. */
  readonly sandboxes: number;
  /** limits.cpus of the sandboxes; null on the host. */
  readonly cpus: number | null;
  readonly opsPerSec: number;
  readonly ops: number;
  readonly seconds: number;
  /** CPU time per command: of every process on the host (sandboxes, kernel work on their behalf, other work), and of this Node process alone. */
  readonly hostCpuMsPerOp: number;
  readonly nodeCpuMsPerOp: number;
}

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly kernel: string;
  readonly bwrap: string;
  readonly node: string;
  readonly date: string;
  /** CPU share other processes used during 1 s before the run: other work on the host skews every number. */
  readonly busyPercentAtStart: number;
  readonly quick: boolean;
}


export interface CoreResults {
  readonly cold: {
    /** create + exec /bin/true + kill */
    readonly warden: Summary;
    readonly wardenCreate: Summary;
    readonly wardenFirstExec: Summary;
    readonly wardenKill: Summary;
    readonly bareBwrap: Summary;
    readonly bareLaunch: Summary;
    /** create + exec python3 -c pass + kill, and the exec alone */
    readonly wardenPython: Summary;
    readonly wardenPythonExec: Summary;
    /** bare bwrap, Warden's profile, running python3 -c pass */
    readonly bareBwrapPython: Summary;
  };
  readonly warm: { readonly warden: Summary; readonly hostSpawn: Summary; readonly hostSpawnSync: Summary };
  readonly throughput: readonly ThroughputResult[];
  readonly density: {
    /** What the plan asked for; `sandboxes` is what the time budget allowed. */
    readonly requested: number;
    readonly sandboxes: number;
    readonly hostProcesses: number;
    readonly pssKbPerSandbox: number;
    readonly rssKbPerSandbox: number;
    /** What the sandboxes' memory cgroups are charged (kernel memory included); null without one. */
    readonly cgroupKbPerSandbox: number | null;
    /** /proc/meminfo before the first create and with all N sandboxes (this process and other work on the host included). */
    readonly hostMemoryBefore: HostMemory;
    readonly hostMemoryAtN: HostMemory;
    /** Slope of V8 heap + external memory between N/2 and N sandboxes. */
    readonly nodeHeapKbPerSandbox: number;
    readonly nodeRssKbPerSandbox: number;
    readonly nodeFdsPerSandbox: number;
    readonly inFlight: number;
    readonly createSeconds: number;
    readonly createPerSec: number;
    readonly killPerSec: number;
  };
}

/** Issue 7's targets. */
const WARM_MAX_RATIO = 1.5;
const COLD_MAX_RATIO = 1.5;
const TPUT_MIN_OPS = 5000;
const TPUT_CLIENTS = 8;
const DENSITY_MIN = 1000;
/** 1 MB, in KiB (PSS is counted in KiB). */
const DENSITY_MAX_PSS_KB = 1e6 / 1024;

export function coreTargets(r: CoreResults, m: Machine): Target[] {
  const warmRatio = r.warm.warden.p50Ms / r.warm.hostSpawn.p50Ms;
  const coldRatio = r.cold.warden.p50Ms / r.cold.bareBwrap.p50Ms;
  const atTarget = r.throughput.filter((t) => t.clients === TPUT_CLIENTS);
  const best = atTarget.filter((t) => t.via === 'warden').reduce<ThroughputResult | undefined>((a, b) => (a && a.opsPerSec >= b.opsPerSec ? a : b), undefined);
  const floor = atTarget.find((t) => t.via === 'host spawn');
  const ceiling = atTarget.find((t) => t.via === 'host sh loops');
  const d = r.density;
  return [
    {
      name: 'warm /bin/true round trip (b)',
      goal: `p50 ≤ ${WARM_MAX_RATIO}× host spawn p50`,
      measured: `${f1(r.warm.warden.p50Ms)} ms vs ${f1(r.warm.hostSpawn.p50Ms)} ms = ${warmRatio.toFixed(2)}×`,
      pass: r.warm.warden.n > 0 && warmRatio <= WARM_MAX_RATIO,
    },
    {
      name: 'cold start (a)',
      goal: `p50 ≤ ${COLD_MAX_RATIO}× bare bwrap p50`,
      measured: `${f1(r.cold.warden.p50Ms)} ms vs ${f1(r.cold.bareBwrap.p50Ms)} ms = ${coldRatio.toFixed(2)}×`,
      pass: r.cold.warden.n > 0 && coldRatio <= COLD_MAX_RATIO,
    },
    {
      name: `throughput, ${TPUT_CLIENTS} clients (c)`,
      goal: `≥ ${TPUT_MIN_OPS} commands/s on ${m.cpus} cores`,
      measured: best
        ? `${best.opsPerSec.toFixed(0)}/s (${best.label})${floor ? `; host spawn floor ${floor.opsPerSec.toFixed(0)}/s` : ''}${ceiling ? `; this host's own ceiling (sh loops, no Node) ${ceiling.opsPerSec.toFixed(0)}/s` : ''}`
        : 'not measured',
      pass: (best?.opsPerSec ?? 0) >= TPUT_MIN_OPS,
    },
    {
      name: 'idle density (d)',
      goal: `≥ ${DENSITY_MIN} idle sandboxes at ≤ 1 MB PSS each`,
      measured: `${d.sandboxes} sandboxes${d.sandboxes < d.requested ? ` of ${d.requested} asked (time budget)` : ''}${d.requested < DENSITY_MIN ? ` (${m.quick ? '--quick' : 'plan'} holds ${d.requested})` : ''}, ${f1(d.pssKbPerSandbox)} KiB PSS each; host memory ${signed(hostGrowthKb(d, 'usedKb'))} KiB each`,
      pass: d.sandboxes >= DENSITY_MIN && d.pssKbPerSandbox <= DENSITY_MAX_PSS_KB,
    },
  ];
}

export function printHeader(m: Machine, flags: string, aborted: boolean, out: (line: string) => void): void {
  out(`Warden bench${m.quick ? ' (--quick)' : ''}${flags ? `, ${flags}` : ''} — ${m.date}`);
  out(`${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, ${m.bwrap}, node ${m.node}`);
  out(`host CPU busy before the run: ${m.busyPercentAtStart.toFixed(0)}%${m.busyPercentAtStart > 10 ? ' — WARNING: other work was running; numbers are skewed' : ''}`);
  out('sections (a)–(l) run on bwrap, the default runtime; (m) compares bwrap, gVisor and Docker with their bare tools');
  if (aborted) out('WARNING: the run was cut short; numbers are partial.');
}

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${f1(x)}`;
const MiB = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`;

/** Growth of one /proc/meminfo figure from before the first create to N sandboxes, per sandbox. */
const hostGrowthKb = (d: CoreResults['density'], key: keyof HostMemory): number => (d.sandboxes > 0 ? (d.hostMemoryAtN[key] - d.hostMemoryBefore[key]) / d.sandboxes : Number.NaN);

/** Sections (a)–(d); the caller prints the header before and the targets after. */
export function printCoreReport(r: CoreResults, out: (line: string) => void): void {
  const c = r.cold;
  out('(a) cold start, ms: create + exec + kill, next to bare bwrap with the same profile; the variants interleaved in rotating order');
  out('    ratios: /bin/true rows ÷ bare bwrap /bin/true, python3 rows ÷ bare bwrap python3');
  for (const l of table([
    LAT_RATIO_HEAD,
    latencyRatioRow('warden, /bin/true (create+exec+kill)', c.warden, c.bareBwrap),
    latencyRow('  of which create', c.wardenCreate),
    latencyRow('  of which first exec', c.wardenFirstExec),
    latencyRow('  of which kill', c.wardenKill),
    latencyRatioRow('warden-launch + bwrap /bin/true', c.bareLaunch, c.bareBwrap),
    latencyRatioRow('bare bwrap /bin/true', c.bareBwrap, c.bareBwrap),
    latencyRatioRow('warden, python3 -c pass (create+exec+kill)', c.wardenPython, c.bareBwrapPython),
    latencyRow('  of which exec', c.wardenPythonExec),
    latencyRatioRow('bare bwrap python3 -c pass', c.bareBwrapPython, c.bareBwrapPython),
  ]))
    out(`  ${l}`);
  out('');
  out('(b) warm round trip, ms: /bin/true in a running sandbox vs on the host; interleaved in rotating order; ratios ÷ host spawn');
  for (const l of table([
    LAT_RATIO_HEAD,
    latencyRatioRow('warden exec', r.warm.warden, r.warm.hostSpawn),
    latencyRatioRow('host spawn (await exit)', r.warm.hostSpawn, r.warm.hostSpawn),
    latencyRatioRow('host spawnSync', r.warm.hostSpawnSync, r.warm.hostSpawn),
  ]))
    out(`  ${l}`);
  out('');
  out('(c) throughput, /bin/true per second, each client one command after another; per client count the variants alternate, order rotated each round');
  out('    vs floor = ops/s ÷ host spawn (Node, no sandbox) with the same number of clients; CPU ms/op: host = all CPUs, every process; Node = this process');
  const rows: string[][] = [['', 'ops/s', 'ops', 's', 'vs floor', 'host CPU ms/op', 'Node CPU ms/op']];
  for (const t of r.throughput) {
    const floor = r.throughput.find((x) => x.via === 'host spawn' && x.clients === t.clients);
    rows.push([t.label, t.opsPerSec.toFixed(0), String(t.ops), t.seconds.toFixed(1), floor ? ratio(t.opsPerSec, floor.opsPerSec) : '-', f1(t.hostCpuMsPerOp), f1(t.nodeCpuMsPerOp)]);
  }
  for (const l of table(rows)) out(`  ${l}`);
  out('');
  const d = r.density;
  out(`(d) idle density: ${d.sandboxes} sandboxes${d.sandboxes < d.requested ? ` (of ${d.requested}: the time budget ran out)` : ''}, ${d.hostProcesses} host processes`);
  for (const l of table([
    ['', 'per sandbox'],
    ['PSS of its host processes', `${f1(d.pssKbPerSandbox)} KiB`],
    ['RSS of its host processes', `${f1(d.rssKbPerSandbox)} KiB`],
    ['charged to its memory cgroup', d.cgroupKbPerSandbox === null ? '-' : `${f1(d.cgroupKbPerSandbox)} KiB`],
    ['host memory used (MemTotal − MemAvailable), growth', `${f1(hostGrowthKb(d, 'usedKb'))} KiB`],
    ['  of which unreclaimable slab (SUnreclaim)', `${f1(hostGrowthKb(d, 'slabUnreclaimKb'))} KiB`],
    ['  of which page tables', `${f1(hostGrowthKb(d, 'pageTablesKb'))} KiB`],
    ['  of which kernel stacks', `${f1(hostGrowthKb(d, 'kernelStackKb'))} KiB`],
    ['  of which tmpfs/shmem', `${f1(hostGrowthKb(d, 'shmemKb'))} KiB`],
    ['Node heap+external growth (N/2 → N)', `${f1(d.nodeHeapKbPerSandbox)} KiB`],
    ['Node RSS growth (N/2 → N)', `${f1(d.nodeRssKbPerSandbox)} KiB`],
    ['Node open fds (N/2 → N)', f1(d.nodeFdsPerSandbox)],
  ]))
    out(`  ${l}`);
  out(`  host memory used: ${MiB(d.hostMemoryBefore.usedKb)} before, ${MiB(d.hostMemoryAtN.usedKb)} with ${d.sandboxes} sandboxes (this process and the kernel included)`);
  out(`  created ${f1(d.createPerSec)}/s (${d.inFlight} in flight, ${f1(d.createSeconds)} s in all), killed ${f1(d.killPerSec)}/s (all at once)`);
}
