/**
 * Warden's syscall denylist as an OCI seccomp profile, which runsc applies
 * inside the sandbox (`--oci-seccomp`): gVisor's kernel then refuses the same
 * calls bwrap's filter refuses, before they reach any of its own code. Pure.
 *
 * Facts of this gVisor release (runsc 0.0~20221219), measured: `errnoRet` is
 * ignored (SCMP_ACT_ERRNO always answers EPERM, which is what the denylist
 * wants); clone3 and the x32 and i386 ABIs are not implemented at all (ENOSYS),
 * so they need no rule; and PID 1 dies of any signal it has no handler for,
 * so signals to it are refused here (below).
 */
import { DENIED_SYSCALLS } from '../bwrap/seccomp.js';

export interface OciSeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ';
}

export interface OciSeccompRule {
  readonly names: readonly string[];
  readonly action: 'SCMP_ACT_ERRNO';
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
}

export interface OciSeccomp {
  readonly defaultAction: 'SCMP_ACT_ALLOW';
  readonly architectures: readonly string[];
  readonly syscalls: readonly OciSeccompRule[];
}

const EPERM = 1;
/** Each namespace flag of clone(2): one rule per flag, as a rule's conditions are ANDed. */
export const CLONE_NAMESPACE_FLAGS = {
  CLONE_NEWNS: 0x0002_0000,
  CLONE_NEWCGROUP: 0x0200_0000,
  CLONE_NEWUTS: 0x0400_0000,
  CLONE_NEWIPC: 0x0800_0000,
  CLONE_NEWUSER: 0x1000_0000,
  CLONE_NEWPID: 0x2000_0000,
  CLONE_NEWNET: 0x4000_0000,
} as const;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const AF_VSOCK = 40;
const AGENT_PID = 1;
/** Syscalls whose first argument is the pid (or tgid) a signal goes to. */
export const SIGNAL_BY_PID = ['kill', 'tkill', 'tgkill', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'pidfd_open'] as const;

const deny = (names: readonly string[], args?: readonly OciSeccompArg[]): OciSeccompRule => ({
  names,
  action: 'SCMP_ACT_ERRNO',
  errnoRet: EPERM,
  ...(args ? { args } : {}),
});

/** The profile for `linux.seccomp`. */
export function ociSeccomp(): OciSeccomp {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      deny(Object.keys(DENIED_SYSCALLS)),
      ...Object.values(CLONE_NAMESPACE_FLAGS).map((flag) => deny(['clone'], [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }])),
      // Keystrokes pushed into a terminal (CVE-2017-5226).
      ...[TIOCSTI, TIOCLINUX].map((req) => deny(['ioctl'], [{ index: 1, value: req, op: 'SCMP_CMP_EQ' }])),
      // gVisor has no vsock; refused here too so that no later release opens it silently.
      deny(['socket'], [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_EQ' }]),
      // Signals to PID 1, the agent. Linux ignores a signal that init has no handler
      // for when it comes from inside its pid namespace; this gVisor release does not,
      // and the agent runs as the sandbox user: `kill -9 1` would end the sandbox.
      // (pid_t is 32 bits wide: the upper half of the register is not compared.)
      deny(SIGNAL_BY_PID, [{ index: 0, value: 0xffff_ffff, valueTwo: AGENT_PID, op: 'SCMP_CMP_MASKED_EQ' }]),
    ],
  };
}
