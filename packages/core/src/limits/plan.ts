/**
 * Turns limits into the cgroup directories and control-file writes that
 * enforce them, for v1 and v2 alike. Pure: unit-tested for both layouts.
 */
import { placesOf, type CgroupLayout, type Controller } from './layout.js';

export interface CgroupLimits {
  readonly memoryMb: number;
  readonly swapMb: number;
  readonly pids: number;
  readonly cpus: number;
}

export interface CgroupDirPlan {
  readonly hierarchy: 'v1' | 'v2';
  readonly mount: string;
  /** Absolute directory of the sandbox's cgroup in this hierarchy. */
  readonly dir: string;
  readonly controllers: readonly Controller[];
  /** Files to write, in order, relative to `dir`. */
  readonly writes: ReadonlyArray<readonly [file: string, value: string]>;
  /** Writes for v1 swap accounting that only exist when the kernel has it. */
  readonly optionalWrites: ReadonlyArray<readonly [file: string, value: string]>;
}

export interface CgroupPlan {
  readonly dirs: readonly CgroupDirPlan[];
  /** How to stop and resume every process of the sandbox, when the host can. */
  readonly freezer?: { readonly file: string; readonly hierarchy: 'v1' | 'v2' };
  /** Where to read the OOM-kill counter, and how. */
  readonly oom: { readonly file: string; readonly key: 'oom_kill' };
}

const MiB = 1024 * 1024;
export const CPU_PERIOD_US = 100_000;

/** `relPath` is the sandbox's path under each hierarchy, e.g. warden/eng_x/sbx_y. */
export function planCgroup(layout: CgroupLayout, relPath: string, limits: CgroupLimits): CgroupPlan {
  const byMount = new Map<string, { hierarchy: 'v1' | 'v2'; controllers: Controller[] }>();
  for (const [c, place] of placesOf(layout)) {
    const entry = byMount.get(place.mount) ?? { hierarchy: place.hierarchy, controllers: [] };
    entry.controllers.push(c);
    byMount.set(place.mount, entry);
  }
  const memBytes = limits.memoryMb * MiB;
  const quota = Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
  const dirs: CgroupDirPlan[] = [];
  let oomFile = '';
  let freezer: CgroupPlan['freezer'];
  for (const [mount, { hierarchy, controllers }] of byMount) {
    const dir = `${mount}/${relPath}`;
    const writes: Array<readonly [string, string]> = [];
    const optionalWrites: Array<readonly [string, string]> = [];
    for (const c of controllers) {
      if (c === 'freezer') {
        freezer = { file: `${dir}/${hierarchy === 'v1' ? 'freezer.state' : 'cgroup.freeze'}`, hierarchy };
        continue;
      }
      if (hierarchy === 'v1') {
        if (c === 'memory') {
          writes.push(['memory.limit_in_bytes', String(memBytes)]);
          // memsw = memory + swap; without swap accounting, keep the sandbox out of swap.
          optionalWrites.push(['memory.memsw.limit_in_bytes', String(memBytes + limits.swapMb * MiB)]);
          if (limits.swapMb === 0) writes.push(['memory.swappiness', '0']);
          oomFile = `${dir}/memory.oom_control`;
        } else if (c === 'pids') {
          writes.push(['pids.max', String(limits.pids)]);
        } else {
          writes.push(['cpu.cfs_period_us', String(CPU_PERIOD_US)], ['cpu.cfs_quota_us', String(quota)]);
        }
      } else if (c === 'memory') {
        writes.push(['memory.max', String(memBytes)], ['memory.swap.max', String(limits.swapMb * MiB)]);
        oomFile = `${dir}/memory.events`;
      } else if (c === 'pids') {
        writes.push(['pids.max', String(limits.pids)]);
      } else {
        writes.push(['cpu.max', `${quota} ${CPU_PERIOD_US}`]);
      }
    }
    dirs.push({ hierarchy, mount, dir, controllers, writes, optionalWrites });
  }
  return { dirs, oom: { file: oomFile, key: 'oom_kill' }, ...(freezer ? { freezer } : {}) };
}

/** Reads `key N` out of memory.oom_control / memory.events text. */
export function parseCounter(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return 0;
}
