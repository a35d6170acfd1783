/** What this host supports, per runtime, and how to fix what is missing. */
import { readFile } from 'node:fs/promises';
import { isWardenError } from '@warden/protocol';
import { placesOf, readCgroupLayout } from './limits/layout.js';
import { parseEngineConfig } from './config.js';
import { createDriver } from './runtimes/index.js';
import type { ProbeCheck } from './runtimes/driver.js';

export interface DoctorReport {
  readonly ok: boolean;
  readonly runtimes: Readonly<Record<string, { readonly ready: boolean; readonly checks: readonly ProbeCheck[] }>>;
}

export async function doctor(options: { bwrapPath?: string } = {}): Promise<DoctorReport> {
  const { bwrapPath } = parseEngineConfig(options.bwrapPath === undefined ? {} : { bwrapPath: options.bwrapPath });
  const checks = await createDriver('bwrap', { bwrapPath, stateDir: '' }).probe();
  try {
    const layout = await readCgroupLayout();
    for (const [c, p] of placesOf(layout)) checks.push({ name: `cgroup ${c}`, ok: true, detail: `${p.hierarchy} at ${p.mount}` });
  } catch (err) {
    checks.push({ name: 'cgroups', ok: false, detail: isWardenError(err) ? err.message : String(err), fix: 'mount the memory, pids and cpu controllers (v1 or v2)' });
  }
  // Needed only by codebase sandboxes, so not part of the runtime's own fail-closed probe.
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  checks.push(
    /\boverlay$/m.test(filesystems)
      ? { name: 'overlayfs', ok: true, detail: 'available (codebase workspaces)' }
      : { name: 'overlayfs', ok: false, detail: 'the kernel has no overlay filesystem: codebase sandboxes cannot start', fix: 'modprobe overlay' },
  );
  const ready = checks.every((c) => c.ok);
  return { ok: ready, runtimes: { bwrap: { ready, checks } } };
}
