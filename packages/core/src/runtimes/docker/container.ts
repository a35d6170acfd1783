/**
 * Pure translation of a sandbox into a Docker container (the body of
 * `POST /containers/create`). The same deny-all profile as bwrap's
 * (ARCHITECTURE §3): no network, no capabilities, no_new_privs, Docker's
 * seccomp profile plus Warden's own filter, a read-only root, capped /tmp
 * and /dev/shm, rlimits, an unprivileged uid, and the agent as PID 1.
 *
 * Limits are not Docker's: the container's cgroup is made inside the
 * sandbox's (CgroupParent), whose memory, pids and CPU limits the engine set.
 *
 * Egress, as with bwrap: the sandbox's egress directory bound read-only at
 * /.warden/net and the agent relaying 127.0.0.1:3128 to the proxy socket in
 * it; the network stays `none`.
 */
import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { SANDBOX_NET_DIR, relayArgument } from '../../net/env.js';
import type { HostRootEntry } from '../bwrap/argv.js';

/** Where the launcher (which installs the seccomp filter, then execs the agent) and the filter appear inside. */
export const SANDBOX_LAUNCHER_PATH = '/.warden/launch';
export const SANDBOX_SECCOMP_PATH = '/.warden/seccomp.bpf';

/** Labels on every container Warden makes: crash recovery finds a dead engine's containers by them. */
export const LABEL_ENGINE = 'warden.engine';
export const LABEL_SANDBOX = 'warden.sandbox';

/** Docker's own masked paths (moby's default spec), which an explicit list replaces, plus what bwrap masks too. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  // They identify the host (bwrap hides them too).
  '/proc/cmdline',
  '/proc/sys/kernel/random/boot_id',
  // bwrap shows no /sys at all; an empty read-only tmpfs over it is the closest Docker comes.
  '/sys',
] as const;
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

export interface BindMount {
  readonly Type: 'bind';
  readonly Source: string;
  readonly Target: string;
  readonly ReadOnly: boolean;
  readonly BindOptions: { readonly Propagation: 'rprivate'; readonly NonRecursive?: boolean };
}

/** The subset of the Engine API's container config Warden sends (API 1.41). */
export interface ContainerSpec {
  readonly name: string;
  readonly Image: string;
  readonly Hostname: string;
  readonly User: string;
  readonly Entrypoint: readonly string[];
  readonly Cmd: readonly string[];
  readonly Env: readonly string[];
  readonly WorkingDir: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly AttachStdin: true;
  readonly AttachStdout: true;
  readonly AttachStderr: true;
  readonly OpenStdin: true;
  readonly StdinOnce: true;
  readonly Tty: false;
  readonly NetworkDisabled: true;
  readonly Healthcheck: { readonly Test: readonly ['NONE'] };
  readonly HostConfig: {
    readonly NetworkMode: 'none';
    readonly CapDrop: readonly ['ALL'];
    readonly SecurityOpt: readonly string[];
    readonly Privileged: false;
    readonly ReadonlyRootfs: true;
    readonly IpcMode: 'private';
    readonly CgroupnsMode: 'private';
    readonly CgroupParent: string;
    readonly Tmpfs: Readonly<Record<string, string>>;
    readonly Ulimits: ReadonlyArray<{ readonly Name: string; readonly Soft: number; readonly Hard: number }>;
    readonly Mounts: readonly BindMount[];
    readonly MaskedPaths: readonly string[];
    readonly ReadonlyPaths: readonly string[];
    readonly LogConfig: { readonly Type: 'none'; readonly Config: Readonly<Record<string, string>> };
    readonly RestartPolicy: { readonly Name: 'no' };
    readonly AutoRemove: false;
    readonly Init: false;
  };
}

/** The root the sandbox sees: Warden's base image with the host's /usr, or a caller's image as it is. */
export type RootPlan =
  | {
      readonly kind: 'base';
      readonly image: string;
      /** bin, sbin, lib… as found on the host: real directories are bound, symlinks are in the image. */
      readonly hostRoot: readonly HostRootEntry[];
      /** Host /etc files that exist here and are shown read-only (bwrap's ETC_PASSTHROUGH). */
      readonly etcPassthrough: readonly string[];
      /** Warden's passwd and group for this sandbox's uid. */
      readonly passwd: string;
      readonly group: string;
    }
  | { readonly kind: 'image'; readonly image: string };

export interface ContainerPlanInput {
  readonly sandboxId: string;
  readonly engineId: string;
  readonly hostname: string;
  readonly uid: number;
  readonly gid: number;
  /** `warden/eng_x/sbx_y`: the sandbox's cgroup below every hierarchy's mount. */
  readonly cgroupPath: string;
  readonly tmpBytes: number;
  readonly tmpInodes: number;
  readonly nofile: number;
  readonly fileSizeBytes: number;
  readonly root: RootPlan;
  readonly agentHostPath: string;
  readonly launcherHostPath: string;
  readonly seccompHostPath: string;
  /** Warden's /etc/hosts and an empty /etc/resolv.conf (Docker would show the host's DNS set-up). */
  readonly hostsHostPath: string;
  readonly resolvHostPath: string;
  readonly workspaceHostPath: string;
  /**
   * The sandbox's egress directory (the proxy's socket, CA files), shown read-only at
   * SANDBOX_NET_DIR; the agent then relays 127.0.0.1:3128 to the socket. The socket is
   * the sandbox uid's, 0600, which is the container's user here (no user namespace).
   * Undefined = no directory and no relay: no network at all.
   */
  readonly egressHostPath?: string;
}

/** /etc/passwd and /etc/group of a sandbox on the base image: the sandbox user is its host uid (no user namespace here). */
export function sandboxEtc(uid: number, gid: number): { passwd: string; group: string } {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${uid}:${gid}:sandbox:${SANDBOX_WORKSPACE}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${gid}:\nnogroup:x:65534:\n`,
  };
}

const ro = (source: string, target: string, recursive = false): BindMount => ({
  Type: 'bind',
  Source: source,
  Target: target,
  ReadOnly: true,
  // Not recursive: a mount below a host directory is not shown (and so not shown writable: Docker 20.10 makes only the top mount read-only).
  BindOptions: recursive ? { Propagation: 'rprivate' } : { Propagation: 'rprivate', NonRecursive: true },
});

/** The container of one sandbox. Throws on a root uid/gid: a sandbox never runs as root. */
export function containerSpec(p: ContainerPlanInput): ContainerSpec {
  if (!Number.isInteger(p.uid) || !Number.isInteger(p.gid) || p.uid <= 0 || p.gid <= 0) {
    throw new RangeError(`a sandbox runs as an unprivileged uid/gid, got ${p.uid}:${p.gid}`);
  }
  if (p.cgroupPath.startsWith('/') || p.cgroupPath.split('/').includes('..')) throw new RangeError(`cgroupPath must be relative and plain, got ${p.cgroupPath}`);
  const mounts: BindMount[] = [];
  if (p.root.kind === 'base') {
    mounts.push(ro('/usr', '/usr'));
    for (const e of p.root.hostRoot) if (e.symlinkTo === undefined) mounts.push(ro(`/${e.name}`, `/${e.name}`));
    for (const f of p.root.etcPassthrough) mounts.push(ro(f, f));
    mounts.push(ro(p.root.passwd, '/etc/passwd'), ro(p.root.group, '/etc/group'));
  }
  mounts.push(
    ro(p.hostsHostPath, '/etc/hosts'),
    ro(p.resolvHostPath, '/etc/resolv.conf'),
    ro(p.agentHostPath, SANDBOX_AGENT_PATH),
    ro(p.launcherHostPath, SANDBOX_LAUNCHER_PATH),
    ro(p.seccompHostPath, SANDBOX_SECCOMP_PATH),
    // Recursive: a codebase workspace is a bind with overlays mounted on its directories.
    { Type: 'bind', Source: p.workspaceHostPath, Target: SANDBOX_WORKSPACE, ReadOnly: false, BindOptions: { Propagation: 'rprivate' } },
  );
  // The directory, not the socket: the proxy makes and removes the socket as the policy changes.
  if (p.egressHostPath !== undefined) mounts.push(ro(p.egressHostPath, SANDBOX_NET_DIR));
  // exec: bwrap's /tmp allows it too (Docker's tmpfs default is noexec).
  const tmpfs = `rw,exec,nosuid,nodev,size=${p.tmpBytes},nr_inodes=${p.tmpInodes},mode=1777,uid=${p.uid},gid=${p.gid}`;
  return {
    name: `warden-${p.sandboxId}`,
    Image: p.root.image,
    Hostname: p.hostname,
    User: `${p.uid}:${p.gid}`,
    // The launcher runs as the sandbox uid: it only installs Warden's seccomp filter (the same program
    // bwrap loads) on top of Docker's profile, then execs the agent. No parent-death signal: the
    // parent is the container shim, and the engine ends the container through the API.
    Entrypoint: [
      SANDBOX_LAUNCHER_PATH,
      '--no-pdeathsig',
      '--seccomp',
      SANDBOX_SECCOMP_PATH,
      '--',
      SANDBOX_AGENT_PATH,
      ...(p.egressHostPath === undefined ? [] : ['--relay', relayArgument()]),
    ],
    Cmd: [],
    Env: [],
    WorkingDir: SANDBOX_WORKSPACE,
    Labels: { [LABEL_ENGINE]: p.engineId, [LABEL_SANDBOX]: p.sandboxId },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // The engine's attach is the only one: when it goes (the engine died), Docker closes the
    // agent's stdin, and the agent ends the sandbox (bwrap's sandboxes die with their parent too).
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    // An image's HEALTHCHECK would run commands in the sandbox behind the agent's back.
    Healthcheck: { Test: ['NONE'] },
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      // Docker's default seccomp profile stays on (it is applied unless replaced).
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      ReadonlyRootfs: true,
      IpcMode: 'private',
      CgroupnsMode: 'private',
      CgroupParent: `/${p.cgroupPath}`,
      Tmpfs: { '/tmp': tmpfs, '/dev/shm': tmpfs },
      Ulimits: [
        { Name: 'nofile', Soft: p.nofile, Hard: p.nofile },
        { Name: 'fsize', Soft: p.fileSizeBytes, Hard: p.fileSizeBytes },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      Mounts: mounts,
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyPaths: [...READONLY_PATHS],
      // The protocol carries file contents: nothing of it may land in a log on the host.
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      Init: false,
    },
  };
}
