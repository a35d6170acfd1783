/** Checks that a Docker Engine answers on the socket and can run Warden's containers here. */
import { access, constants, stat } from 'node:fs/promises';
import { isWardenError } from '@warden/protocol';
import type { ProbeCheck } from '../driver.js';
import type { DockerClient } from './client.js';

const PROBE_TIMEOUT_MS = 5000;

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

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
  checks.push(
    process.getuid?.() === 0
      ? { name: 'root', ok: true, detail: 'running as root (needed for cgroups, per-sandbox uids and workspace mounts)' }
      : { name: 'root', ok: false, detail: `running as uid ${process.getuid?.() ?? '?'}`, fix: 'run Warden as root' },
  );
  for (const [name, path] of [
    ['agent', agentPath],
    ['launcher', launcherPath],
  ] as const) {
    checks.push(
      (await executable(path))
        ? { name, ok: true, detail: path }
        : { name, ok: false, detail: `${path} is missing`, fix: 'npm run build (builds the native agent and launcher)' },
    );
  }
  return checks;
}
