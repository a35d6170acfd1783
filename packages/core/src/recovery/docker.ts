/**
 * What a dead engine left with the Docker Engine: its containers (dockerd
 * owns them, so they outlive the engine's process) and the cgroup
 * directories Docker's cgroupfs driver made for them in hierarchies the
 * engine itself does not use (devices, blkio…).
 */
import { access } from 'node:fs/promises';
import { DockerClient, apiFailure } from '../runtimes/docker/client.js';
import { cgroupMounts } from '../runtimes/docker/cgroups.js';
import { LABEL_ENGINE } from '../runtimes/docker/container.js';
import { readDockerRecord } from '../runtimes/docker/record.js';
import type { CgroupRoot } from './record.js';

/**
 * Removes (force: kills first) every container labelled with the engine's
 * id, in the Docker Engine its record names; returns their ids. An engine
 * that never started a docker sandbox has no record: nothing to do. A daemon
 * that no longer answers has no running containers (without live-restore,
 * dockerd's stop ends them); their processes, if any, are in the engine's
 * cgroups and die with them.
 */
export async function removeEngineContainers(stateDir: string, engineId: string): Promise<string[]> {
  const record = await readDockerRecord(`${stateDir}/docker`);
  if (!record) return [];
  const client = new DockerClient(record.socketPath);
  try {
    let ids: string[];
    try {
      ids = await client.containersLabelled(LABEL_ENGINE, engineId);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') return [];
      throw apiFailure('list the containers of a dead engine', record.socketPath, err);
    }
    for (const id of ids) await client.remove(id);
    return ids;
  } finally {
    client.close();
  }
}

/** `<mount>/warden/<engineId>` in every cgroup hierarchy not among `known` that has it. */
export async function otherCgroupRoots(engineId: string, known: readonly CgroupRoot[]): Promise<CgroupRoot[]> {
  const seen = new Set(known.map((r) => r.dir));
  const out: CgroupRoot[] = [];
  for (const m of await cgroupMounts()) {
    const dir = `${m.mount}/warden/${engineId}`;
    if (seen.has(dir) || !(await access(dir).then(() => true, () => false))) continue;
    seen.add(dir);
    out.push({ dir, hierarchy: m.hierarchy, freezer: false });
  }
  return out;
}
