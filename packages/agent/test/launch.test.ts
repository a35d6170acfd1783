/**
 * The launcher's modes for runtimes whose sandbox is not its child (Docker):
 * `--seccomp FILE` (installs a filter before exec, as bwrap does for its
 * sandboxes), `--no-pdeathsig`, and `--host-ns` (mounts in the caller's
 * namespace, then exits). The kernel is the oracle: the errno a filtered
 * syscall returns, and /proc/self/mountinfo.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launcherBinaryPath } from '../paths.mjs';

const dir = mkdtempSync(join(tmpdir(), 'warden-launch-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A classic BPF program: unshare (x86_64 nr 272) → EPERM, everything else allowed. */
function denyUnshare(): Buffer {
  const insns: Array<[number, number, number, number]> = [
    [0x20, 0, 0, 0], // ld [nr]
    [0x15, 0, 1, 272], // jeq unshare
    [0x06, 0, 0, 0x0005_0001], // ret ERRNO(EPERM)
    [0x06, 0, 0, 0x7fff_0000], // ret ALLOW
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

const launch = (args: readonly string[]) => spawnSync(launcherBinaryPath, args, { encoding: 'utf8', env: {} });
const mountedAt = (p: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
const asRoot = process.getuid?.() === 0;

describe('warden-launch --seccomp', () => {
  const filter = join(dir, 'deny-unshare.bpf');
  writeFileSync(filter, denyUnshare());

  it('installs the filter before exec: the program gets EPERM from a denied syscall', () => {
    const r = launch(['--no-pdeathsig', '--seccomp', filter, '--', '/usr/bin/unshare', '--user', 'true']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/unshare failed: Operation not permitted/);
    // Twin: without the filter the same program succeeds.
    const twin = launch(['--no-pdeathsig', '--', '/usr/bin/unshare', '--user', 'true']);
    expect(twin.status, twin.stderr).toBe(0);
    // And the filter sticks: no_new_privs and seccomp mode 2 in the program.
    const status = launch(['--no-pdeathsig', '--seccomp', filter, '--', '/bin/cat', '/proc/self/status']).stdout;
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), /non-empty struct sock_filter array/],
    ['a partial instruction', Buffer.alloc(12), /non-empty struct sock_filter array/],
    ['a program over 4096 instructions', Buffer.alloc(4097 * 8), /too long/],
  ])('refuses %s with exit 125 and runs nothing', (_what, bytes, message) => {
    const bad = join(dir, `bad-${bytes.length}.bpf`);
    writeFileSync(bad, bytes);
    const r = launch(['--no-pdeathsig', '--seccomp', bad, '--', '/bin/echo', 'ran']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(launch(['--seccomp', join(dir, 'missing.bpf'), '--', '/bin/echo', 'ran'])).toMatchObject({ status: 125, stdout: '' });
  });
});

describe.skipIf(!asRoot)('warden-launch --host-ns (needs root)', () => {
  it('mounts in the caller’s namespace and exits 0 without a program; the mount stays until unmounted', () => {
    const target = join(dir, 'delta');
    execFileSync('mkdir', ['-p', target]);
    const r = launch(['--host-ns', '--delta', `${target}:1048576:64`]);
    expect(r.status, r.stderr).toBe(0);
    try {
      expect(mountedAt(target)).toBe(true);
      const opts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === target) ?? '';
      expect(opts).toMatch(/ - tmpfs tmpfs .*size=1024k,nr_inodes=64,mode=700/);
    } finally {
      execFileSync('umount', [target]);
    }
    // Twin: without --host-ns the same mount lives in a private namespace that died with the launcher.
    const twin = launch(['--delta', `${target}:1048576:64`, '--', '/bin/true']);
    expect(twin.status, twin.stderr).toBe(0);
    expect(mountedAt(target)).toBe(false);
  });

  it('still needs a program without --host-ns, and fails a bad mount with 125', () => {
    const none = launch(['--rlimit', 'core:0:0']);
    expect(none.status).toBe(125);
    expect(none.stderr).toMatch(/missing program after --/);
    const r = launch(['--host-ns', '--delta', `${join(dir, 'does-not-exist')}:1048576:64`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/mount delta tmpfs on/);
  });
});
