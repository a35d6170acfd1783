/**
 * The container's cgroups, as Docker's cgroupfs driver makes them under
 * CgroupParent: `<mount>/<sandbox cgroup>/<container id>` in every mounted
 * hierarchy. Two things follow:
 *
 * - cgroup v1 counts OOM kills (memory.oom_control) and refused forks
 *   (pids.events) in the cgroup of the process concerned, not in its
 *   ancestors. So the agent is moved from the container's cgroup up into the
 *   sandbox's own, in the engine's v1 hierarchies, before any command runs:
 *   the engine's counters and limits then see every sandbox process, as
 *   with bwrap. (v2 counts hierarchically; nothing is moved there.) Docker's
 *   other hierarchies (devices, blkio…) keep the container's cgroup: its
 *   device rules stay in force.
 * - the cgroupfs driver leaves the parent directories it made in the
 *   hierarchies the engine does not use; the driver removes them.
 */
import { readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WardenError } from '@warden/protocol';
import { parseMountinfo } from '../../limits/layout.js';

export interface CgroupMount {
  readonly mount: string;
  readonly hierarchy: 'v1' | 'v2';
}

/** Every cgroup hierarchy mounted here (pure: from /proc/self/mountinfo text). */
export function cgroupMountsOf(mountinfo: string): CgroupMount[] {
  return parseMountinfo(mountinfo)
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({ mount: m.point, hierarchy: m.fstype === 'cgroup' ? 'v1' : 'v2' }));
}

export async function cgroupMounts(): Promise<CgroupMount[]> {
  return cgroupMountsOf(await readFile('/proc/self/mountinfo', 'utf8'));
}

/**
 * `<mount>/<rel>` in each hierarchy the engine does not use (the engine's are
 * the directories of `procsFiles`): where Docker made directories the engine
 * will not remove.
 */
export function foreignDirs(mounts: readonly CgroupMount[], rel: string, procsFiles: readonly string[]): string[] {
  const engine = new Set(procsFiles.map((f) => dirname(f)));
  return mounts.map((m) => `${m.mount}/${rel}`).filter((d) => !engine.has(d));
}

/**
 * Moves the processes of the container's cgroup (`<dir>/<containerId>`) into
 * the sandbox's (`<dir>`) in each v1 hierarchy of the engine; returns the pids
 * found. Called once the container runs and before the agent is given work,
 * so it moves the agent alone; its children are born in the sandbox cgroup.
 */
export async function adoptIntoSandboxCgroups(procsFiles: readonly string[], mounts: readonly CgroupMount[], containerId: string): Promise<number[]> {
  const v1 = mounts.filter((m) => m.hierarchy === 'v1').map((m) => `${m.mount}/`);
  const pids = new Set<number>();
  for (const procs of procsFiles) {
    const dir = dirname(procs);
    if (!v1.some((prefix) => dir.startsWith(prefix))) continue;
    const inner = `${dir}/${containerId}/cgroup.procs`;
    let text: string;
    try {
      text = await readFile(inner, 'utf8');
    } catch (err) {
      throw new WardenError('E_SANDBOX_START_FAILED', `Docker did not put the container in a cgroup under the sandbox's (${inner}: ${(err as NodeJS.ErrnoException).code ?? String(err)}). Is dockerd using the cgroupfs driver (dockerd --exec-opt native.cgroupdriver=cgroupfs)?`, { cause: err });
    }
    for (const p of text.split('\n').filter(Boolean).map(Number)) {
      // One write per process: cgroup.procs takes one pid at a time.
      await writeFile(procs, String(p));
      pids.add(p);
    }
  }
  return [...pids];
}

/** Removes `dir` and every cgroup below it, children first ([] when it is gone). EBUSY is retried briefly. */
export async function removeCgroupTree(dir: string, deadlineMs = 5000): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(`${dir}/${e.name}`, deadlineMs);
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY: the container's last process is still leaving.
      if (code !== 'EBUSY' || Date.now() > until) throw new WardenError('E_INTERNAL', `Could not remove cgroup ${dir}: ${code ?? String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
