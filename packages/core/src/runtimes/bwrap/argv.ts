/**
 * Pure translation of a sandbox into bwrap and launcher argv. The profile is
 * deny-all (ARCHITECTURE §3): every namespace, no capabilities, empty
 * environment, read-only root made of /usr and a few /etc files, private
 * capped /tmp and /dev/shm, the workspace, the agent, and a seccomp filter.
 */

import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { codebaseArgs, stagingArgs, type CodebaseLaunch, type StagingInput } from '../launcher.js';
import { SANDBOX_NET_DIR, relayArgument } from '../../net/env.js';

export { SANDBOX_AGENT_PATH };
/** uid/gid the sandbox user has inside its user namespace (host uid differs). */
export const SANDBOX_INNER_ID = 1000;
/** Descriptor the seccomp program is passed on. */
export const SECCOMP_FD = 3;

/** Host /etc files that programs need and that reveal nothing private. */
export const ETC_PASSTHROUGH = [
  '/etc/ld.so.cache',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/mime.types',
  '/etc/nsswitch.conf',
] as const;

/** Host /proc files hidden behind /dev/null: they identify the host. */
export const PROC_MASKED = ['/proc/cmdline', '/proc/sys/kernel/random/boot_id'] as const;

export interface HostRootEntry {
  /** Top-level name, e.g. "lib64". */
  readonly name: string;
  /** Set when the host entry is a symlink (merged /usr): its target. */
  readonly symlinkTo?: string;
}

export interface BwrapPlanInput {
  readonly hostname: string;
  readonly agentHostPath: string;
  readonly workspaceHostPath: string;
  readonly stageTmp: string;
  readonly stageShm: string;
  /** Directory with Warden's passwd, group and hosts files. */
  readonly etcDir: string;
  /** bin, sbin, lib, lib32, lib64, libx32 as found on the host. */
  readonly hostRoot: readonly HostRootEntry[];
  /** Entries of PROC_MASKED that exist on this host. */
  readonly procMasked: readonly string[];
  /** Egress directory (the proxy's socket), shown read-only at SANDBOX_NET_DIR; the agent relays to it. */
  readonly egressDir?: string;
}

export function bwrapArgs(p: BwrapPlanInput): string[] {
  const a: string[] = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--as-pid-1',
    '--cap-drop', 'ALL',
    '--clearenv',
    '--uid', String(SANDBOX_INNER_ID),
    '--gid', String(SANDBOX_INNER_ID),
    '--hostname', p.hostname,
    '--ro-bind', '/usr', '/usr',
  ];
  for (const e of p.hostRoot) {
    if (e.symlinkTo !== undefined) a.push('--symlink', e.symlinkTo, `/${e.name}`);
    else a.push('--ro-bind', `/${e.name}`, `/${e.name}`);
  }
  a.push('--dir', '/etc');
  for (const f of ETC_PASSTHROUGH) a.push('--ro-bind-try', f, f);
  for (const f of ['passwd', 'group', 'hosts']) a.push('--ro-bind', `${p.etcDir}/${f}`, `/etc/${f}`);
  a.push('--proc', '/proc');
  for (const f of p.procMasked) a.push('--ro-bind', '/dev/null', f);
  a.push(
    '--dev', '/dev',
    '--bind', p.stageTmp, '/tmp',
    '--bind', p.stageShm, '/dev/shm',
    '--bind', p.workspaceHostPath, SANDBOX_WORKSPACE,
    '--dir', '/.warden',
    '--ro-bind', p.agentHostPath, SANDBOX_AGENT_PATH,
  );
  if (p.egressDir !== undefined) a.push('--ro-bind', p.egressDir, SANDBOX_NET_DIR);
  a.push(
    '--remount-ro', '/',
    '--seccomp', String(SECCOMP_FD),
    '--chdir', SANDBOX_WORKSPACE,
    '--',
    SANDBOX_AGENT_PATH,
  );
  if (p.egressDir !== undefined) a.push('--relay', relayArgument());
  return a;
}

export interface LaunchPlanInput extends StagingInput {
  readonly uid: number;
  readonly gid: number;
  readonly nofile: number;
  readonly fileSizeBytes: number;
  readonly bwrapPath: string;
  /** A codebase workspace, mounted by the launcher in its private mount namespace. */
  readonly codebase?: CodebaseLaunch;
}

/** argv for warden-launch, which then execs bwrap with `bwrapArgs`. */
export function launcherArgs(l: LaunchPlanInput, bwrap: readonly string[]): string[] {
  // The launcher reads --uid/--gid in a first pass, wherever they stand.
  const a: string[] = [...stagingArgs(l), '--uid', String(l.uid), '--gid', String(l.gid)];
  if (l.codebase) a.push(...codebaseArgs(l.codebase));
  a.push(
    '--rlimit', `nofile:${l.nofile}:${l.nofile}`,
    '--rlimit', `fsize:${l.fileSizeBytes}:${l.fileSizeBytes}`,
    '--rlimit', 'core:0:0',
  );
  a.push('--', l.bwrapPath, ...bwrap);
  return a;
}

/** /etc/passwd, /etc/group and /etc/hosts as the sandbox sees them. */
export function etcFiles(): Record<'passwd' | 'group' | 'hosts', string> {
  const id = SANDBOX_INNER_ID;
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${id}:${id}:sandbox:${SANDBOX_WORKSPACE}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${id}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  };
}
