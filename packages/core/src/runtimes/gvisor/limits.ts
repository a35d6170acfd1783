/**
 * What the host cgroup of a gVisor sandbox must allow. Pure.
 *
 * `limits.pids` counts the sandbox's processes and threads; gVisor's kernel
 * enforces it (RLIMIT_NPROC of the sandbox user, spec.ts). The host cgroup
 * holds gVisor's own tasks instead: the sentry's threads, the gofer's, and on
 * the ptrace platform one stub process per address space with a thread for
 * every sentry thread that ran it. Measured on this release (runsc
 * 0.0~20221219): ~72 host tasks for an idle sandbox, and under a fork bomb
 * that fills `pids` a peak of 180 (pids 16), 663 (64), 1177 (128), 4903 (256)
 * and 5926 (512). The engine's default of 256 would not even start ten
 * concurrent shells, and a cap below the sentry's need crashes the sandbox.
 * So the cgroup gets room for the worst measured ratio with a margin; it still
 * bounds what one sandbox can take from the host's process table.
 */
import type { Limits } from '@warden/protocol';

/** Host tasks of an idle sandbox (sentry, gofer, first stubs), with a margin. */
export const HOST_TASKS_BASE = 256;
/** Host tasks per sandbox task at worst (a fork bomb at pids 256 needed ~19). */
export const HOST_TASKS_PER_PID = 24;

export function gvisorCgroupLimits(limits: Readonly<Limits>): Readonly<Limits> {
  return { ...limits, pids: HOST_TASKS_BASE + HOST_TASKS_PER_PID * limits.pids };
}
