/**
 * Runs the serialised seccomp program in a small classic-BPF interpreter on
 * synthetic `struct seccomp_data`, the way the kernel would, and checks the
 * verdicts. The interpreter is strict: an opcode the kernel would not accept
 * from us, or a jump out of the program, fails the test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DENIED_SYSCALLS, seccompBytes, seccompProgram } from './seccomp.js';

// <linux/filter.h> and <linux/seccomp.h>, written out independently of the builder.
const LD_W_ABS = 0x20;
const JMP_JEQ_K = 0x15;
const JMP_JGE_K = 0x35;
const JMP_JSET_K = 0x45;
const JMP_JA = 0x05;
const RET_K = 0x06;
const SECCOMP_RET_KILL_PROCESS = 0x8000_0000;
const SECCOMP_RET_ALLOW = 0x7fff_0000;
const errno = (e: number): number => 0x0005_0000 | e;
const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;
const AUDIT_ARCH_X86_64 = 0xc000_003e;
const AUDIT_ARCH_I386 = 0x4000_0003;
const AUDIT_ARCH_AARCH64 = 0xc000_00b7;
const X32_SYSCALL_BIT = 0x4000_0000;

// x86_64 syscall numbers used below.
const NR = { read: 0, write: 1, openat: 257, ioctl: 16, socket: 41, clone: 56, fork: 57, execve: 59, clone3: 435, ptrace: 101, unshare: 272 };

interface SeccompData {
  nr: number;
  arch?: number;
  args?: readonly bigint[];
}

/** struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; } */
function seccompData({ nr, arch = AUDIT_ARCH_X86_64, args = [] }: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(nr >>> 0, 0);
  b.writeUInt32LE(arch >>> 0, 4);
  b.writeBigUInt64LE(0x4000_1000n, 8);
  args.forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function parse(bytes: Buffer): Insn[] {
  expect(bytes.length % 8).toBe(0);
  return Array.from({ length: bytes.length / 8 }, (_, i) => ({
    code: bytes.readUInt16LE(i * 8),
    jt: bytes.readUInt8(i * 8 + 2),
    jf: bytes.readUInt8(i * 8 + 3),
    k: bytes.readUInt32LE(i * 8 + 4),
  }));
}

/** Classic BPF as seccomp runs it: accumulator A, forward jumps only. */
function run(prog: readonly Insn[], data: Buffer): number {
  let a = 0;
  for (let pc = 0; ; ) {
    const insn = prog[pc];
    if (insn === undefined) throw new Error(`pc ${pc} ran off the end of a ${prog.length}-instruction program`);
    const next = (cond: boolean): number => pc + 1 + (cond ? insn.jt : insn.jf);
    switch (insn.code) {
      case LD_W_ABS:
        if (insn.k % 4 !== 0 || insn.k + 4 > 64) throw new Error(`load at ${insn.k} is outside seccomp_data`);
        a = data.readUInt32LE(insn.k);
        pc++;
        break;
      case JMP_JEQ_K:
        pc = next(a === insn.k);
        break;
      case JMP_JGE_K:
        pc = next(a >= insn.k);
        break;
      case JMP_JSET_K:
        pc = next((a & insn.k) !== 0);
        break;
      case JMP_JA:
        pc += 1 + insn.k;
        break;
      case RET_K:
        return insn.k;
      default:
        throw new Error(`unexpected opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
}

const program = parse(seccompBytes());
const verdict = (d: SeccompData): number => run(program, seccompData(d));

// CLONE_* flags from <linux/sched.h>
const CLONE_NS = {
  CLONE_NEWNS: 0x0002_0000,
  CLONE_NEWCGROUP: 0x0200_0000,
  CLONE_NEWUTS: 0x0400_0000,
  CLONE_NEWIPC: 0x0800_0000,
  CLONE_NEWUSER: 0x1000_0000,
  CLONE_NEWPID: 0x2000_0000,
  CLONE_NEWNET: 0x4000_0000,
};
const SIGCHLD = 17;
/** What glibc's pthread_create passes. */
const THREAD_FLAGS = 0x003d_0f00;
/** What glibc's fork passes: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD. */
const FORK_FLAGS = 0x0120_0000 | SIGCHLD;

describe('seccomp program', () => {
  it('is well formed: known opcodes, every jump target inside the program, ends in RET, fits the kernel limit', () => {
    expect(program.length).toBeGreaterThan(0);
    expect(program.length).toBeLessThanOrEqual(4096);
    program.forEach((insn, pc) => {
      expect([LD_W_ABS, JMP_JEQ_K, JMP_JGE_K, JMP_JSET_K, RET_K], `opcode at ${pc}`).toContain(insn.code);
      if (insn.code === JMP_JEQ_K || insn.code === JMP_JGE_K || insn.code === JMP_JSET_K) {
        expect(pc + 1 + insn.jt, `jt of ${pc}`).toBeLessThan(program.length);
        expect(pc + 1 + insn.jf, `jf of ${pc}`).toBeLessThan(program.length);
      }
    });
    expect(program.at(-1)!.code).toBe(RET_K);
  });

  it('serialises exactly the instructions seccompProgram builds', () => {
    expect(program.map((i) => [i.code, i.jt, i.jf, i.k])).toEqual(seccompProgram().map(([c, jt, jf, k]) => [c, jt, jf, k >>> 0]));
  });

  it('checks the architecture before anything else', () => {
    expect(program[0]).toMatchObject({ code: LD_W_ABS, k: 4 });
  });

  it.each([
    ['i386 (int 0x80)', AUDIT_ARCH_I386],
    ['aarch64', AUDIT_ARCH_AARCH64],
    ['zero', 0],
  ])('kills the process for a syscall from another architecture: %s', (_name, arch) => {
    for (const nr of [NR.read, NR.ptrace, NR.clone]) expect(verdict({ nr, arch })).toBe(SECCOMP_RET_KILL_PROCESS);
  });

  it.each(Object.entries(DENIED_SYSCALLS))('denies %s (%i) with EPERM', (_name, nr) => {
    expect(verdict({ nr, args: [1n, 2n, 3n] })).toBe(errno(EPERM));
  });

  it('denies every x32 syscall with EPERM, including ones x86_64 allows', () => {
    for (const nr of [NR.read, NR.write, NR.ptrace, NR.clone, 512, 547]) expect(verdict({ nr: X32_SYSCALL_BIT | nr })).toBe(errno(EPERM));
  });

  it('answers clone3 with ENOSYS so libc falls back to clone', () => {
    expect(verdict({ nr: NR.clone3 })).toBe(errno(ENOSYS));
  });

  it.each(Object.entries(CLONE_NS))('denies clone with %s', (_name, flag) => {
    expect(verdict({ nr: NR.clone, args: [BigInt(flag | SIGCHLD)] })).toBe(errno(EPERM));
    expect(verdict({ nr: NR.clone, args: [BigInt(flag | THREAD_FLAGS)] })).toBe(errno(EPERM));
  });

  it.each([
    ['fork-style', FORK_FLAGS],
    ['thread-style', THREAD_FLAGS],
    ['vfork-style', 0x4100 | SIGCHLD],
    ['zero', 0],
  ])('allows a plain %s clone', (_name, flags) => {
    expect(verdict({ nr: NR.clone, args: [BigInt(flags)] })).toBe(SECCOMP_RET_ALLOW);
  });

  it.each([
    ['TIOCSTI', 0x5412n],
    ['TIOCLINUX', 0x541cn],
    // The kernel takes cmd as an unsigned int: upper bits cannot smuggle it past.
    ['TIOCSTI with junk in the upper 32 bits', 0xdead_beef_0000_5412n],
  ])('denies ioctl %s with EPERM', (_name, cmd) => {
    expect(verdict({ nr: NR.ioctl, args: [0n, cmd] })).toBe(errno(EPERM));
  });

  it.each([
    ['TCGETS', 0x5401n],
    ['FIONREAD', 0x541bn],
    ['TIOCGWINSZ', 0x5413n],
  ])('allows ioctl %s', (_name, cmd) => {
    expect(verdict({ nr: NR.ioctl, args: [1n, cmd] })).toBe(SECCOMP_RET_ALLOW);
  });

  it('answers socket(AF_VSOCK) with EAFNOSUPPORT, even with junk in the upper bits', () => {
    expect(verdict({ nr: NR.socket, args: [40n, 1n, 0n] })).toBe(errno(EAFNOSUPPORT));
    expect(verdict({ nr: NR.socket, args: [0xffff_ffff_0000_0028n, 1n, 0n] })).toBe(errno(EAFNOSUPPORT));
  });

  it.each([
    ['AF_UNIX', 1n],
    ['AF_INET', 2n],
    ['AF_INET6', 10n],
    ['AF_NETLINK', 16n],
  ])('allows socket(%s)', (_name, family) => {
    expect(verdict({ nr: NR.socket, args: [family, 1n, 0n] })).toBe(SECCOMP_RET_ALLOW);
  });

  it.each(['read', 'write', 'openat', 'execve', 'fork'] as const)('allows %s', (name) => {
    expect(verdict({ nr: NR[name], args: [3n, 0n, 4096n] })).toBe(SECCOMP_RET_ALLOW);
  });

  it('gives every x86_64 syscall number exactly the verdict the policy names', () => {
    const denied = new Set(Object.values(DENIED_SYSCALLS));
    for (let nr = 0; nr < 600; nr++) {
      const expected = denied.has(nr) ? errno(EPERM) : nr === NR.clone3 ? errno(ENOSYS) : SECCOMP_RET_ALLOW;
      expect(verdict({ nr }), `syscall ${nr}`).toBe(expected);
    }
  });

  // The kernel's own numbering as an oracle, where the headers are installed.
  const UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  it.skipIf(!existsSync(UNISTD))('uses the x86_64 syscall numbers of <asm/unistd_64.h>', () => {
    const table = new Map([...readFileSync(UNISTD, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    for (const [name, nr] of [...Object.entries(DENIED_SYSCALLS), ...Object.entries(NR)]) expect(table.get(name), name).toBe(nr);
  });

  it('denies the namespace and mount escapes a sandbox must never reach', () => {
    for (const name of ['unshare', 'setns', 'mount', 'pivot_root', 'ptrace', 'bpf', 'io_uring_setup', 'open_by_handle_at', 'keyctl', 'userfaultfd']) {
      expect(DENIED_SYSCALLS, name).toHaveProperty(name);
    }
  });
});
