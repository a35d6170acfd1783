/**
 * Pure translation of a sandbox into the OCI runtime config (config.json) that
 * runsc runs. The profile matches bwrap's (ARCHITECTURE §3): read-only root of
 * host /usr and a few /etc files, private capped /tmp and /dev/shm (tmpfs the
 * launcher mounted), the workspace, the agent as the only process, no
 * capabilities, no new privileges, rlimits, Warden's syscall denylist.
 *
 * Identity: the sandbox user is uid/gid 1000 inside, like under bwrap, and a
 * user namespace maps it to the sandbox's host uid/gid, so every file it
 * creates in the workspace is owned by that host uid. runsc runs its gofer
 * (the process that touches host files) in that namespace as the mapped root,
 * which is host `nobody`: it holds capabilities over files of the sandbox's
 * uid and `nobody` only, and reaches root-owned files (/usr, codebase views)
 * like any other user. Cgroups are not the config's business: runsc runs
 * inside the sandbox cgroup the launcher joined, and `linux.cgroupsPath` is
 * left out so that it makes none of its own.
 */
import type { Limits } from '@warden/protocol';
import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { SANDBOX_INNER_ID } from '../bwrap/argv.js';
import { SANDBOX_NET_DIR, relayArgument } from '../../net/env.js';
import type { HostLayout } from './rootfs.js';
import { ociSeccomp, type OciSeccomp } from './seccomp.js';

/** Host identity of the sandbox's root inside (the gofer runs as it): owns nothing on the host. */
export const HOST_NOBODY = 65534;

export interface OciMount {
  readonly destination: string;
  readonly type: 'bind' | 'proc' | 'tmpfs';
  readonly source: string;
  readonly options?: readonly string[];
}

export interface OciIdMapping {
  readonly containerID: number;
  readonly hostID: number;
  readonly size: number;
}

export interface OciRlimit {
  readonly type: 'RLIMIT_NOFILE' | 'RLIMIT_FSIZE' | 'RLIMIT_CORE' | 'RLIMIT_NPROC';
  readonly soft: number;
  readonly hard: number;
}

/** The subset of the OCI runtime spec (1.0) that Warden writes. */
export interface OciSpec {
  readonly ociVersion: string;
  readonly process: {
    readonly terminal: false;
    readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] };
    readonly args: readonly string[];
    readonly env: readonly string[];
    readonly cwd: string;
    readonly capabilities: Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', readonly string[]>;
    readonly noNewPrivileges: true;
    readonly rlimits: readonly OciRlimit[];
  };
  readonly root: { readonly path: string; readonly readonly: true };
  readonly hostname: string;
  readonly mounts: readonly OciMount[];
  readonly linux: {
    readonly namespaces: ReadonlyArray<{ readonly type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'user' }>;
    readonly uidMappings: readonly OciIdMapping[];
    readonly gidMappings: readonly OciIdMapping[];
    readonly seccomp: OciSeccomp;
  };
}

export interface GvisorSpecInput {
  readonly hostname: string;
  /** The sandbox's host uid/gid (unprivileged, never 0). */
  readonly hostUid: number;
  readonly hostGid: number;
  readonly limits: Pick<Readonly<Limits>, 'nofile' | 'fileSizeMb' | 'pids'>;
  /** Absolute host path of the shared read-only root (rootfs.ts). */
  readonly rootfs: string;
  readonly layout: HostLayout;
  /** Host directory shown at /workspace (for a codebase, the launcher's mount of it). */
  readonly workspaceHostPath: string;
  /** Host directories the launcher mounted capped tmpfs on. */
  readonly stageTmp: string;
  readonly stageShm: string;
  /** The egress directory (the proxy's socket), shown read-only at SANDBOX_NET_DIR; the agent relays 127.0.0.1:3128 to it. */
  readonly egressDir?: string;
}

const MiB = 1024 * 1024;
const RO = ['rbind', 'ro', 'nosuid', 'nodev'] as const;
const RW = ['rbind', 'rw', 'nosuid', 'nodev'] as const;

const bind = (source: string, destination: string, options: readonly string[]): OciMount => ({ destination, type: 'bind', source, options });

export function ociSpec(i: GvisorSpecInput): OciSpec {
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    // gVisor mounts its own sysfs unless the config mounts /sys: an empty read-only
    // tmpfs shows what bwrap shows (nothing; programs fall back to /proc).
    { destination: '/sys', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec', 'size=4k', 'mode=555'] },
    bind('/usr', '/usr', RO),
  ];
  for (const e of i.layout.root) if (e.symlinkTo === undefined) mounts.push(bind(`/${e.name}`, `/${e.name}`, RO));
  for (const e of i.layout.etc) if (e.kind !== 'symlink') mounts.push(bind(e.path, e.path, RO));
  mounts.push(bind(i.stageTmp, '/tmp', RW), bind(i.stageShm, '/dev/shm', RW), bind(i.workspaceHostPath, SANDBOX_WORKSPACE, RW));
  if (i.egressDir !== undefined) mounts.push(bind(i.egressDir, SANDBOX_NET_DIR, RO));

  const fileSize = i.limits.fileSizeMb * MiB;
  const idMap = (host: number): OciIdMapping[] => [
    { containerID: 0, hostID: HOST_NOBODY, size: 1 },
    { containerID: SANDBOX_INNER_ID, hostID: host, size: 1 },
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: SANDBOX_INNER_ID, gid: SANDBOX_INNER_ID, additionalGids: [] },
      args: i.egressDir === undefined ? [SANDBOX_AGENT_PATH] : [SANDBOX_AGENT_PATH, '--relay', relayArgument()],
      // The agent gives every process its environment; it inherits nothing.
      env: [],
      cwd: SANDBOX_WORKSPACE,
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: i.limits.nofile, hard: i.limits.nofile },
        { type: 'RLIMIT_FSIZE', soft: fileSize, hard: fileSize },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        // Tasks of the sandbox user, counted by gVisor's kernel: as it is the
        // sandbox's own kernel and every sandboxed process runs as that user,
        // this is limits.pids for the whole sandbox (the host cgroup counts
        // gVisor's threads, not the sandbox's processes).
        { type: 'RLIMIT_NPROC', soft: i.limits.pids, hard: i.limits.pids },
      ],
    },
    root: { path: i.rootfs, readonly: true },
    hostname: i.hostname,
    mounts,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
      uidMappings: idMap(i.hostUid),
      gidMappings: idMap(i.hostGid),
      seccomp: ociSeccomp(),
    },
  };
}
