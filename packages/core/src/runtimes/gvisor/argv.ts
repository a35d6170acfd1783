/**
 * Pure translation of a sandbox into the launcher and runsc command lines:
 * `warden-launch [cgroups, tmpfs, codebase mounts, rlimits] -- runsc [flags] run --bundle DIR ID`.
 *
 * Unlike under bwrap, the launcher keeps root (no --uid): runsc must start as
 * root to build its sandbox, and drops privileges itself (its sentry and gofer
 * run as host `nobody` in their own user namespaces). The launcher's other
 * work is the same: runsc starts inside the sandbox cgroups (so the sentry,
 * which holds all the sandbox's memory and threads, is limited by them), and
 * in the launcher's private mount namespace, where the capped tmpfs and the
 * codebase overlays it mounted are what runsc's gofer serves.
 */
import { codebaseArgs, stagingArgs, type CodebaseLaunch, type StagingInput } from '../launcher.js';

/**
 * runsc's global flags, each pinned even where it is this release's default:
 * - ptrace platform: kvm needs /dev/kvm and nested virtualisation, and hangs on
 *   hosts (VMs) that expose /dev/kvm without working nesting.
 * - no network at all; no cgroups of its own (the engine's are already set).
 * - `--oci-seccomp`: apply the config's seccomp profile inside the sandbox.
 * - mounts are `shared`: each write goes to the host file at once, so the
 *   engine reads a codebase delta without a flush; the root, which never
 *   changes, is cached (`exclusive`). No sentry-memory overlay hides writes.
 * - no host Unix sockets or FIFOs reachable through the mounts.
 * - logs go to stderr (the default is stdout, which is the agent's protocol pipe).
 */
export function runscGlobalArgs(stateRoot: string, egress = false): string[] {
  return [
    `--root=${stateRoot}`,
    '--platform=ptrace',
    '--network=none',
    '--ignore-cgroups',
    '--oci-seccomp',
    '--file-access=exclusive',
    '--file-access-mounts=shared',
    '--overlay2=none',
    // With egress, the agent connects to the proxy's socket in the read-only egress
    // mount; `open` allows connecting to a socket a mount shows (as bwrap does),
    // never creating one on the host.
    `--host-uds=${egress ? 'open' : 'none'}`,
    '--host-fifo=none',
    '--log-fd=2',
  ];
}

/** `runsc … run`: creates, starts and waits for the sandbox; its stdin/stdout are the agent's. */
export function runscRunArgs(stateRoot: string, bundleDir: string, sandboxId: string, egress = false): string[] {
  return [...runscGlobalArgs(stateRoot, egress), 'run', `--bundle=${bundleDir}`, sandboxId];
}

/** `runsc … delete --force`: removes what runsc keeps of a sandbox (its state files), killing it if it still runs. */
export function runscDeleteArgs(stateRoot: string, sandboxId: string): string[] {
  return [`--root=${stateRoot}`, 'delete', '--force', sandboxId];
}

export interface GvisorLaunchInput extends StagingInput {
  /** A codebase workspace, mounted by the launcher in its private mount namespace. */
  readonly codebase?: CodebaseLaunch;
  readonly runscPath: string;
}

/** argv for warden-launch, which then execs runsc with `runscArgv`. */
export function launcherArgs(l: GvisorLaunchInput, runscArgv: readonly string[]): string[] {
  const a = stagingArgs(l);
  if (l.codebase) a.push(...codebaseArgs(l.codebase));
  // The sandbox's own rlimits are in the OCI config (gVisor enforces them); on
  // runsc itself only this one: a crashing sentry must not dump the sandbox's memory.
  a.push('--rlimit', 'core:0:0');
  a.push('--', l.runscPath, ...runscArgv);
  return a;
}
