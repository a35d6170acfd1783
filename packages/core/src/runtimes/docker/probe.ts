/** Checks that a Docker Engine answers on the socket and can run Warden's containers here. */
import { stat } from 'node:fs/promises';
import { isWardenError } from '@warden/protocol';
import type { ProbeCheck } from '../driver.js';
import { builtChecks, rootCheck } from '../launcher.js';
import type { DockerClient } from './client.js';

const PROBE_TIMEOUT_MS = 5000;


const START_FIX = 'apt-get install -y docker.io, then start it (systemctl start docker, or dockerd --bridge=none &), or set dockerSocket (DOCKER_HOST=unix://PATH) to a running engine';

export async function probeDocker(client: DockerClient, agentPath: string, launcherPath: string): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  const socket = client.socketPath;
  const st = await stat(socket).catch(() => undefined);
  checks.push(
    st?.isSocket()
      ? { name: 'docker socket', ok: true, detail: socket }
      : { name: 'docker socket', ok: false, detail: st ? `${socket} is not a socket` : `no ${socket}`, fix: START_FIX },
  );
  if (st?.isSocket()) {
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      const v = await client.version(signal);
      checks.push({ name: 'docker engine', ok: true, detail: `Docker Engine ${v.version} (API ${v.apiVersion}) at ${socket}` });
      const info = await client.info(signal);
      checks.push(
        info.cgroupDriver === 'cgroupfs'
          ? { name: 'docker cgroups', ok: true, detail: `cgroupfs driver, cgroup v${info.cgroupVersion}: containers go inside the sandbox's cgroup` }
          : {
              name: 'docker cgroups',
              ok: false,
              detail: `the engine uses the ${info.cgroupDriver || 'unknown'} cgroup driver; Warden needs cgroupfs to place containers inside its sandbox cgroups`,
              fix: 'start dockerd with --exec-opt native.cgroupdriver=cgroupfs (or "exec-opts": ["native.cgroupdriver=cgroupfs"] in /etc/docker/daemon.json)',
            },
      );
      const seccomp = info.securityOptions.some((o) => o.startsWith('name=seccomp'));
      checks.push(
        seccomp
          ? { name: 'docker seccomp', ok: true, detail: "Docker's seccomp profile is on (Warden's filter is added inside)" }
          : { name: 'docker seccomp', ok: false, detail: 'the engine runs containers without seccomp', fix: 'use a dockerd built with seccomp support (Debian: docker.io)' },
      );
    } catch (err) {
      checks.push({
        name: 'docker engine',
        ok: false,
        detail: `nothing answers on ${socket}: ${isWardenError(err) ? err.message : (err as Error).message}`,
        fix: START_FIX,
      });
    }
  }
  checks.push(rootCheck('cgroups, per-sandbox uids and workspace mounts'));
  checks.push(...(await builtChecks(agentPath, launcherPath)));
  return checks;
}
