/**
 * Threat: sandboxed code reaches kernel attack surface it never needs —
 * ptrace, new namespaces, mounts, keyrings, io_uring, bpf-adjacent calls —
 * the usual first step of a container escape.
 * Oracle: the errno the kernel returns. Twin: the very same probe, run on the
 * host by an unprivileged uid without Warden's filter, gets past the syscall
 * entry (success or an argument error, never EPERM), so EPERM inside is the
 * filter's doing; and an allowed syscall works inside.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../helpers/host.js';
import { runOnHost, useEngine } from './harness.js';

const h = useEngine();
const NOBODY = 65534;
const EPERM = 1;
const ENOSYS = 38;

/**
 * Calls each syscall with arguments that make it fail harmlessly (bad
 * pointers, bad fds, a pid that does not exist) or succeed without effect,
 * and prints {name: errno (0 on success)} as JSON. clone(CLONE_NEWUSER) runs
 * first: after unshare(CLONE_NEWUSER) this process could no longer make one.
 */
const PY_SYSCALLS = `
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if nr == 56 and r == 0:
        os._exit(0)  # the child of a successful clone
    if nr == 56 and r > 0:
        os.waitpid(r, 0)
    return 0 if r >= 0 else ctypes.get_errno()
NOPID = 0x7ffffff0
out = {}
out['clone(CLONE_NEWUSER)'] = call(56, 0x10000000 | 17, 0, 0, 0, 0)
out['ptrace'] = call(101, 2, NOPID, 0, 0)
out['process_vm_readv'] = call(310, NOPID, 0, 0, 0, 0, 0)
out['mount'] = call(165, 1, 1, 1, 0, 0)
out['chroot'] = call(161, 0)
out['setns'] = call(308, -1, 0)
out['keyctl'] = call(250, 0, -3, 0)
out['add_key'] = call(248, 0, 0, 0, 0, 0)
out['io_uring_setup'] = call(425, 1, 0)
out['perf_event_open'] = call(298, 0, 0, -1, -1, 0)
out['open_by_handle_at'] = call(304, -1, 0, 0)
out['unshare(CLONE_NEWUSER)'] = call(272, 0x10000000)
print(json.dumps(out))
`;

describe('the seccomp filter blocks escape-prone syscalls', () => {
  it('every denied syscall fails with EPERM inside, and gets past the entry on the host without the filter', async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['python3', '-c', PY_SYSCALLS], { timeoutMs: 10_000 });
    const host = await runOnHost(['/usr/bin/python3', '-c', PY_SYSCALLS], { uid: NOBODY });

    expect(r.reason).toBe('exited');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(host.code, host.stderr).toBe(0);
    const inside = JSON.parse(r.stdout) as Record<string, number>;
    const outside = JSON.parse(host.stdout) as Record<string, number>;
    expect(Object.keys(inside)).toHaveLength(12);
    for (const [name, errno] of Object.entries(inside)) {
      expect(errno, `${name} inside`).toBe(EPERM);
      expect(outside[name], `${name} on the host (twin)`).not.toBe(EPERM);
    }
  });

  it('`unshare -r` (a user namespace, the usual way to regain root) fails inside and works on the host', async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['unshare', '-r', 'id', '-u'], { timeoutMs: 10_000 });
    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stdout).toBe('');

    const host = await runOnHost(['/usr/bin/unshare', '-r', 'id', '-u'], { uid: NOBODY });
    expect(host.code, host.stderr).toBe(0);
    expect(host.stdout).toBe('0\n');
  });

  it('clone3 returns ENOSYS (so libc falls back to the filtered clone) and allowed syscalls work', async () => {
    await using sbx = await h.create();
    const probe = `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
ctypes.set_errno(0)
r = libc.syscall(ctypes.c_long(435), ctypes.c_long(0), ctypes.c_long(0))
print('clone3', ctypes.get_errno() if r < 0 else 0)
print('getppid', libc.syscall(ctypes.c_long(110)) == os.getppid())
pid = os.fork()
if pid == 0:
    os._exit(7)
print('fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;
    const r = await sbx.exec(['python3', '-c', probe], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`clone3 ${ENOSYS}\ngetppid True\nfork 7\n`);
  });

  it('the i386 syscall ABI (int 0x80, which the x86_64 filter rules would not match) kills the process; x32 numbers get EPERM', async () => {
    await using sbx = await h.create();
    const gvisor = testRuntime() === 'gvisor';
    // int 0x80 with eax=20: getpid in the i386 table. Works on the host (the twin).
    const i386 = `
import ctypes, mmap, os
buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3]))  # mov eax, 20; int 0x80; ret
fn = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
print('i386 getpid', fn() == os.getpid(), flush=True)
`;
    const x32 = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(ctypes.c_long(0x40000000 | 39))  # x32 getpid
print('x32', ctypes.get_errno() if r < 0 else 0)
`;

    const r = await sbx.exec(['python3', '-c', i386], { timeoutMs: 10_000 });
    if (gvisor) {
      // gVisor's kernel has no i386 ABI at all: the call fails (ENOSYS) and getpid never runs.
      expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'i386 getpid False\n' });
    } else {
      expect(r.reason).toBe('signaled');
      expect(r.signal).toBe('SIGSYS');
      expect(r.stdout).toBe('');
    }
    const host = await runOnHost(['/usr/bin/python3', '-c', i386], { uid: NOBODY });
    expect(host.code, host.stderr).toBe(0);
    expect(host.stdout).toBe('i386 getpid True\n');

    const x = await sbx.exec(['python3', '-c', x32], { timeoutMs: 10_000 });
    expect(x.reason).toBe('exited');
    expect(x.exitCode, x.stderr).toBe(0);
    // gVisor has no x32 ABI either: ENOSYS, the call reaches nothing.
    expect(x.stdout).toBe(`x32 ${gvisor ? ENOSYS : EPERM}\n`);
    const hostX = await runOnHost(['/usr/bin/python3', '-c', x32], { uid: NOBODY });
    expect(hostX.code, hostX.stderr).toBe(0);
    expect(hostX.stdout).not.toBe(`x32 ${EPERM}\n`);
  });
});
