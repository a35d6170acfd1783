/**
 * Host-side memory accounting of sandboxes: PSS of every host process whose
 * real uid belongs to a sandbox (bwrap's outer process and the agent), read
 * from /proc/PID/smaps_rollup. PSS splits shared pages among their users, so
 * the sum is what N sandboxes really cost in RAM (kernel objects aside).
 * The kernel's share shows in the host-wide figures of /proc/meminfo.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface UidMemory {
  readonly processes: number;
  readonly pssKb: number;
  readonly rssKb: number;
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export async function memoryOfUids(uids: ReadonlySet<number>): Promise<UidMemory> {
  let processes = 0;
  let pssKb = 0;
  let rssKb = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (!m || !uids.has(Number(m[1]))) continue;
    const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8').catch(() => '');
    if (!rollup) continue; // exited meanwhile
    processes++;
    pssKb += field(rollup, 'Pss');
    rssKb += field(rollup, 'Rss');
  }
  return { processes, pssKb, rssKb };
}

/** Bytes charged to a cgroup-v1 memory directory (includes kernel memory and page cache). */
export async function cgroupMemoryBytes(dir: string): Promise<number | undefined> {
  for (const file of ['memory.usage_in_bytes', 'memory.current']) {
    const text = await readFile(`${dir}/${file}`, 'utf8').catch(() => '');
    if (text) return Number(text.trim());
  }
  return undefined;
}

/** Host-wide memory from /proc/meminfo, KiB. */
export interface HostMemory {
  /** MemTotal − MemAvailable: what the host has in use (kernel, page tables and memory it cannot reclaim included). */
  readonly usedKb: number;
  /** Kernel objects that cannot be reclaimed (namespaces, cgroups, inodes, sockets…). */
  readonly slabUnreclaimKb: number;
  readonly pageTablesKb: number;
  readonly kernelStackKb: number;
  /** tmpfs and shared memory. */
  readonly shmemKb: number;
}

export async function hostMemory(): Promise<HostMemory> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { usedKb: kb('MemTotal') - kb('MemAvailable'), slabUnreclaimKb: kb('SUnreclaim'), pageTablesKb: kb('PageTables'), kernelStackKb: kb('KernelStack'), shmemKb: kb('Shmem') };
}
