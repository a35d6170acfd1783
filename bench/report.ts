/** The results' shape, the targets they are judged against, and the text report. */
import type { Summary } from './stats.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';

export interface ThroughputResult {
  readonly label: string;
  readonly clients: number;
  /** 0 = host spawn, no sandbox. */
  readonly sandboxes: number;
  readonly opsPerSec: number;
  readonly ops: number;
  readonly seconds: number;
}

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface Results {
  readonly machine: {
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
  };
  readonly cold: {
    /** create + exec /bin/true + kill */
    readonly warden: Summary;
    readonly wardenCreate: Summary;
    readonly wardenFirstExec: Summary;
    readonly wardenKill: Summary;
    readonly bareBwrap: Summary;
    readonly bareLaunch: Summary;
  };
  readonly warm: { readonly warden: Summary; readonly hostSpawn: Summary; readonly hostSpawnSync: Summary };
  readonly throughput: readonly ThroughputResult[];
  readonly density: {
    readonly sandboxes: number;
    readonly hostProcesses: number;
    readonly pssKbPerSandbox: number;
    readonly rssKbPerSandbox: number;
    /** What the sandboxes' memory cgroups are charged (kernel memory included); null without one. */
    readonly cgroupKbPerSandbox: number | null;
    /** Slope of V8 heap + external memory between N/2 and N sandboxes. */
    readonly nodeHeapKbPerSandbox: number;
    readonly nodeRssKbPerSandbox: number;
    readonly createPerSec: number;
    readonly killPerSec: number;
  };
  /** true when SIGINT/SIGTERM or the watchdog cut the run short. */
  readonly aborted: boolean;
  readonly targets: readonly Target[];
}


export function targetsOf(r: Omit<Results, 'targets'>): Target[] {
  const warmRatio = r.warm.warden.p50Ms / r.warm.hostSpawn.p50Ms;
  const coldRatio = r.cold.warden.p50Ms / r.cold.bareBwrap.p50Ms;
  const eight = r.throughput.filter((t) => t.clients === 8 && t.sandboxes > 0);
  const best = eight.reduce<ThroughputResult | undefined>((a, b) => (a && a.opsPerSec >= b.opsPerSec ? a : b), undefined);
  const ceiling = r.throughput.find((t) => t.label.startsWith('host sh loops'));
  const pssMb = r.density.pssKbPerSandbox / 1024;
  return [
    {
      name: 'warm /bin/true round trip',
      goal: 'p50 ≤ 1.5× host spawn p50',
      measured: `${f1(r.warm.warden.p50Ms)} ms vs ${f1(r.warm.hostSpawn.p50Ms)} ms = ${warmRatio.toFixed(2)}×`,
      pass: warmRatio <= 1.5,
    },
    {
      name: 'cold start',
      goal: 'p50 ≤ 1.5× bare bwrap p50',
      measured: `${f1(r.cold.warden.p50Ms)} ms vs ${f1(r.cold.bareBwrap.p50Ms)} ms = ${coldRatio.toFixed(2)}×`,
      pass: coldRatio <= 1.5,
    },
    {
      name: 'throughput, 8 clients',
      goal: `≥ 4000 commands/s on ${r.machine.cpus} cores`,
      measured: best
        ? `${best.opsPerSec.toFixed(0)}/s (${best.label})${ceiling ? `; this host's own ceiling is ${ceiling.opsPerSec.toFixed(0)}/s` : ''}`
        : 'not measured',
      pass: (best?.opsPerSec ?? 0) >= 4000,
    },
    {
      name: 'idle density',
      goal: '≤ 1 MiB PSS per idle sandbox',
      measured: `${pssMb.toFixed(2)} MiB over ${r.density.sandboxes} sandboxes`,
      pass: r.density.sandboxes > 0 && pssMb <= 1,
    },
  ];
}



export function printReport(r: Results, out: (line: string) => void): void {
  const m = r.machine;
  out(`Warden bench${m.quick ? ' (--quick)' : ''} — ${m.date}`);
  out(`${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, ${m.bwrap}, node ${m.node}`);
  out(`host CPU busy before the run: ${m.busyPercentAtStart.toFixed(0)}%${m.busyPercentAtStart > 10 ? ' — WARNING: other work was running; numbers are skewed' : ''}`);
  if (r.aborted) out('WARNING: the run was cut short; numbers are partial.');
  out('');
  out('(a) cold start, ms: create + exec /bin/true + kill');
  for (const l of table([
    LAT_HEAD,
    latencyRow('warden (create+exec+kill)', r.cold.warden),
    latencyRow('  of which create', r.cold.wardenCreate),
    latencyRow('  of which first exec', r.cold.wardenFirstExec),
    latencyRow('  of which kill', r.cold.wardenKill),
    latencyRow('bare bwrap /bin/true', r.cold.bareBwrap),
    latencyRow('warden-launch + bwrap /bin/true', r.cold.bareLaunch),
  ]))
    out(`  ${l}`);
  out('');
  out('(b) warm round trip, ms: /bin/true in a running sandbox vs on the host');
  for (const l of table([
    LAT_HEAD,
    latencyRow('warden exec', r.warm.warden),
    latencyRow('host spawn (await exit)', r.warm.hostSpawn),
    latencyRow('host spawnSync', r.warm.hostSpawnSync),
  ]))
    out(`  ${l}`);
  out('');
  out('(c) throughput, /bin/true per second');
  for (const l of table([['', 'ops/s', 'ops', 's'], ...r.throughput.map((t) => [t.label, t.opsPerSec.toFixed(0), String(t.ops), t.seconds.toFixed(1)])])) out(`  ${l}`);
  out('');
  const d = r.density;
  out(`(d) idle density: ${d.sandboxes} sandboxes, ${d.hostProcesses} host processes`);
  for (const l of table([
    ['', 'per sandbox'],
    ['PSS of its host processes', `${f1(d.pssKbPerSandbox)} KiB`],
    ['RSS of its host processes', `${f1(d.rssKbPerSandbox)} KiB`],
    ['charged to its memory cgroup', d.cgroupKbPerSandbox === null ? '-' : `${f1(d.cgroupKbPerSandbox)} KiB`],
    ['Node heap+external growth (N/2 → N)', `${f1(d.nodeHeapKbPerSandbox)} KiB`],
    ['Node RSS growth (N/2 → N)', `${f1(d.nodeRssKbPerSandbox)} KiB`],
  ]))
    out(`  ${l}`);
  out(`  created ${f1(d.createPerSec)}/s (8 in flight), killed ${f1(d.killPerSec)}/s (all at once)`);
  out('');
  out('Targets');
  for (const l of table(r.targets.map((t) => [t.pass ? 'PASS' : 'MISS', t.name, t.goal, t.measured]), 4)) out(`  ${l}`);
}
