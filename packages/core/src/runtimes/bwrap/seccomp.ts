/**
 * Builds Warden's seccomp filter as a classic BPF program (x86_64), the format
 * bwrap's `--seccomp FD` loads. Pure: returns bytes. A denylist on top of the
 * namespace and capability isolation: it closes kernel attack surface and
 * operations a sandbox never needs.
 */
import { WardenError } from '@warden/protocol';

// <linux/filter.h>
const BPF_LD = 0x00, BPF_JMP = 0x05, BPF_RET = 0x06;
const BPF_W = 0x00, BPF_ABS = 0x20, BPF_JEQ = 0x10, BPF_JGE = 0x30, BPF_JSET = 0x40, BPF_K = 0x00;
// <linux/seccomp.h>
const RET_KILL_PROCESS = 0x8000_0000;
const RET_ERRNO = 0x0005_0000;
const RET_ALLOW = 0x7fff_0000;
const AUDIT_ARCH_X86_64 = 0xc000_003e;
const X32_SYSCALL_BIT = 0x4000_0000;
const EPERM = 1, ENOSYS = 38, EAFNOSUPPORT = 97;

/** x86_64 syscall numbers denied with EPERM, and why. */
export const DENIED_SYSCALLS: Readonly<Record<string, number>> = {
  // debugging / memory of other processes
  ptrace: 101, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312, pidfd_getfd: 438,
  // large kernel attack surface with a history of escapes
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, bpf: 321, perf_event_open: 298, userfaultfd: 323,
  // kernel keyrings are not namespaced
  keyctl: 250, add_key: 248, request_key: 249,
  // mounts and namespaces
  mount: 165, umount2: 166, pivot_root: 155, chroot: 161, unshare: 272, setns: 308,
  fsopen: 430, fsconfig: 431, fsmount: 432, move_mount: 429, open_tree: 428, fspick: 433, mount_setattr: 442,
  // host administration
  kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313, delete_module: 176,
  reboot: 169, swapon: 167, swapoff: 168, acct: 163, syslog: 103, quotactl: 179, quotactl_fd: 443,
  settimeofday: 164, clock_settime: 227, clock_adjtime: 305, adjtimex: 159, iopl: 172, ioperm: 173,
  lookup_dcookie: 212, vhangup: 153, nfsservctl: 180,
  // file handles bypass path-based checks (the "shocker" escape)
  open_by_handle_at: 304, name_to_handle_at: 303,
};

const SYS_CLONE = 56, SYS_CLONE3 = 435, SYS_IOCTL = 16, SYS_SOCKET = 41;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */
const CLONE_NS_FLAGS = 0x7e02_0000;
const TIOCSTI = 0x5412, TIOCLINUX = 0x541c;
const AF_VSOCK = 40;

// struct seccomp_data offsets
const OFF_NR = 0, OFF_ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;

type Insn = [code: number, jt: number, jf: number, k: number];
const ld = (off: number): Insn => [BPF_LD | BPF_W | BPF_ABS, 0, 0, off];
const ret = (k: number): Insn => [BPF_RET | BPF_K, 0, 0, k];
const jeq = (k: number, jt: number, jf: number): Insn => [BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k];

/** The filter as BPF instructions (exported for tests). */
export function seccompProgram(): Insn[] {
  const p: Insn[] = [];
  // Any other ABI (i386 via int 0x80) is killed outright.
  p.push(ld(OFF_ARCH), jeq(AUDIT_ARCH_X86_64, 1, 0), ret(RET_KILL_PROCESS));
  p.push(ld(OFF_NR));
  // x32 ABI numbers alias x86_64 ones with a high bit: refuse them all.
  p.push([BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_SYSCALL_BIT], ret(RET_ERRNO | EPERM));
  for (const nr of Object.values(DENIED_SYSCALLS)) p.push(jeq(nr, 0, 1), ret(RET_ERRNO | EPERM));
  // clone3 passes flags in memory BPF cannot read: ENOSYS makes libc fall back to clone.
  p.push(jeq(SYS_CLONE3, 0, 1), ret(RET_ERRNO | ENOSYS));
  // clone with any namespace flag.
  p.push(jeq(SYS_CLONE, 0, 4), ld(argLow(0)), [BPF_JMP | BPF_JSET | BPF_K, 0, 1, CLONE_NS_FLAGS], ret(RET_ERRNO | EPERM), ret(RET_ALLOW));
  // ioctl(TIOCSTI/TIOCLINUX): injecting keystrokes into a terminal (CVE-2017-5226).
  p.push(jeq(SYS_IOCTL, 0, 5), ld(argLow(1)), jeq(TIOCSTI, 1, 0), jeq(TIOCLINUX, 0, 1), ret(RET_ERRNO | EPERM), ret(RET_ALLOW));
  // AF_VSOCK reaches the hypervisor's agents on a VM.
  p.push(jeq(SYS_SOCKET, 0, 3), ld(argLow(0)), jeq(AF_VSOCK, 0, 1), ret(RET_ERRNO | EAFNOSUPPORT));
  p.push(ret(RET_ALLOW));
  if (p.length > 4096) throw new WardenError('E_INTERNAL', 'seccomp program too long');
  return p;
}

/** Serialises the program as `struct sock_filter[]` (little-endian). */
export function seccompBytes(program: Insn[] = seccompProgram()): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}
