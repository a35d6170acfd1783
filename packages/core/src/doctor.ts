/** What this host supports, per runtime, and how to fix what is missing. */
import { readFile } from 'node:fs/promises';
import { isWardenError, type RuntimeName } from '@warden/protocol';
import { placesOf, readCgroupLayout } from './limits/layout.js';
import { parseEngineConfig, type EngineOptions } from './config.js';
import { createDriver } from './runtimes/index.js';
import type { ProbeCheck } from './runtimes/driver.js';

export interface DoctorReport {
  /** Whether the default runtime can start sandboxes here. */
  readonly ok: boolean;
  readonly defaultRuntime: RuntimeName;
  readonly runtimes: Readonly<Record<RuntimeName, { readonly ready: boolean; readonly checks: readonly ProbeCheck[] }>>;
}

export type DoctorOptions = Pick<EngineOptions, 'runtime' | 'bwrapPath' | 'runscPath' | 'dockerSocket'>;

/** Checks every runtime (each one's own probe plus what all of them need from the host); starts nothing. */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const config = parseEngineConfig(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
  const host = await hostChecks();
  const probe = async (name: RuntimeName): Promise<{ ready: boolean; checks: ProbeCheck[] }> => {
    const checks = [...(await createDriver(name, { ...config, stateDir: '' }).probe()), ...host];
    return { ready: checks.every((c) => c.ok), checks };
  };
  const [bwrap, gvisor, docker] = await Promise.all([probe('bwrap'), probe('gvisor'), probe('docker')]);
  const runtimes = { bwrap, gvisor, docker };
  return { ok: runtimes[config.runtime].ready, defaultRuntime: config.runtime, runtimes };
}

async function hostChecks(): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  try {
    const layout = await readCgroupLayout();
    for (const [c, p] of placesOf(layout)) checks.push({ name: `cgroup ${c}`, ok: true, detail: `${p.hierarchy} at ${p.mount}` });
  } catch (err) {
    checks.push({ name: 'cgroups', ok: false, detail: isWardenError(err) ? err.message : String(err), fix: 'mount the memory, pids and cpu controllers (v1 or v2)' });
  }
  // Needed only by codebase sandboxes, so not part of a runtime's own fail-closed probe.
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  checks.push(
    /\boverlay$/m.test(filesystems)
      ? { name: 'overlayfs', ok: true, detail: 'available (codebase workspaces)' }
      : { name: 'overlayfs', ok: false, detail: 'the kernel has no overlay filesystem: codebase sandboxes cannot start', fix: 'modprobe overlay' },
  );
  return checks;
}
