/**
 * Threat: sandboxed code holds (or regains) Linux capabilities, runs without
 * no_new_privs (setuid binaries would elevate), or without the seccomp filter.
 * Oracle: /proc/<pid>/status of every sandbox process, read inside and on the
 * host. Twin: the same probe and parser report the capabilities of a root
 * process on the host.
 */
import { readFile, readlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { processesOwnedBy, testRuntime } from '../helpers/host.js';
import { runOnHost, sandboxHostPids, statusFields, useEngine } from './harness.js';

const h = useEngine();
const CAP_SETS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'] as const;
const ZERO = '0000000000000000';

/** Prints the status of every process visible and of `cat` itself, separated by "--" lines. */
const STATUS_ALL = 'for f in /proc/[0-9]*/status /proc/self/status; do cat "$f" && echo --; done';

/** PR_GET_NO_NEW_PRIVS, and the errnos of PR_CAP_AMBIENT_IS_SET for every capability (0 where set). */
const GVISOR_PRCTL = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print('no_new_privs', libc.prctl(39, 0, 0, 0, 0))
def ambient(cap):
    ctypes.set_errno(0)
    return ctypes.get_errno() if libc.prctl(47, 1, cap, 0, 0) < 0 else 0
print('ambient', sorted({ambient(c) for c in range(41)}))
`;

const parseAll = (stdout: string): Array<Record<string, string>> =>
  stdout
    .split('--\n')
    .filter((b) => b.trim())
    .map(statusFields);

describe('sandbox processes hold no privileges', () => {
  it('every process inside has empty capability sets, NoNewPrivs 1 and Seccomp 2', async () => {
    await using sbx = await h.create();
    const bg = sbx.spawn(['sleep', '600']);
    await bg.started();

    const r = await sbx.exec(['sh', '-c', STATUS_ALL], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    const procs = parseAll(r.stdout);
    // The agent (PID 1), sleep, the shell and cat at least.
    expect(procs.map((p) => p.Name)).toEqual(expect.arrayContaining(['agent', 'sleep', 'sh', 'cat']));
    // gVisor's /proc shows neither CapAmb nor NoNewPrivs: its kernel is asked below instead.
    const gvisor = testRuntime() === 'gvisor';
    for (const p of procs) {
      const where = `pid ${p.Pid} (${p.Name})`;
      for (const set of CAP_SETS) if (!(gvisor && set === 'CapAmb')) expect(p[set], `${where} ${set}`).toBe(ZERO);
      if (!gvisor) expect(p.NoNewPrivs, where).toBe('1');
      expect(p.Seccomp, where).toBe('2');
    }
    if (gvisor) {
      // no_new_privs (inherited from the agent, it cannot be unset) and no ambient capabilities (gVisor has none: EINVAL).
      const k = await sbx.exec(['python3', '-c', GVISOR_PRCTL], { timeoutMs: 10_000 });
      expect(k.stdout, k.stderr).toBe('no_new_privs 1\nambient [22]\n');
    }
    bg.kill();
    await bg.wait();
  });

  it("the host's view agrees: no process of the sandbox uid has a capability, all run with no_new_privs", async () => {
    await using sbx = await h.create();
    const uid = sbx.info().hostUid;
    if (testRuntime() === 'gvisor') {
      await expectGvisorHostView(sbx, uid);
      return;
    }

    const pids = await processesOwnedBy(new Set([uid]));

    expect(pids.length).toBeGreaterThanOrEqual(testRuntime() === 'docker' ? 1 : 2); // bwrap and the agent (docker: the agent; the shim runs as root)
    let inside = 0;
    for (const pid of pids) {
      const s = statusFields(await readFile(`/proc/${pid}/status`, 'utf8'));
      const where = `host pid ${pid} (${s.Name})`;
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb'] as const) expect(s[set], `${where} ${set}`).toBe(ZERO);
      expect(s.NoNewPrivs, where).toBe('1');
      // Inside the sandbox's pid namespace (NSpid has two entries): no bounding set, filtered.
      if ((s.NSpid ?? '').split(/\s+/).length > 1) {
        inside++;
        expect(s.CapBnd, where).toBe(ZERO);
        expect(s.Seccomp, where).toBe('2');
      }
    }
    // The branch above must have run (the agent at least), or the bounding-set check checked nothing.
    expect(inside, 'processes seen inside the sandbox pid namespace').toBeGreaterThanOrEqual(1);
  });

  /**
   * gVisor: nothing runs as the sandbox uid on the host. Its host processes are
   * `runsc run` (root, in the host's user namespace; it runs no sandbox code)
   * and the gofer, sentry and ptrace stubs (which run the sandbox's machine
   * code): unprivileged, each in a user namespace of its own (what capabilities
   * they hold are over that namespace only), no_new_privs, seccomp-filtered.
   */
  async function expectGvisorHostView(sbx: Sandbox, uid: number): Promise<void> {
    expect(await processesOwnedBy(new Set([uid]))).toEqual([]);
    const hostUserNs = await readlink('/proc/self/ns/user');
    const pids = await sandboxHostPids(h.engine, sbx);
    let runsc = 0;
    let isolated = 0;
    for (const pid of pids) {
      const s = statusFields(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
      if (!s.Name) continue; // exited meanwhile
      const where = `host pid ${pid} (${s.Name})`;
      expect(s.NoNewPrivs, where).toBe('1');
      if ((await readlink(`/proc/${pid}/ns/user`)) === hostUserNs) {
        runsc++;
        expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').slice(0, 1)[0], where).toMatch(/runsc$/);
      } else {
        isolated++;
        expect(s.Uid?.split(/\s+/).every((u) => u !== '0' && u !== String(uid)), `${where} Uid ${s.Uid}`).toBe(true);
        expect(s.Seccomp, where).toBe('2');
      }
    }
    expect(runsc, 'runsc run, the one host process in the host user namespace').toBe(1);
    expect(isolated, 'gofer, sentry and stubs').toBeGreaterThanOrEqual(3);
  }

  it('twin: the same probe reports the capabilities of a root shell on the host', async () => {
    const r = await runOnHost(['sh', '-c', STATUS_ALL]);

    expect(r.code).toBe(0);
    const self = parseAll(r.stdout).at(-1);
    expect(self?.Name).toBe('cat');
    expect(self?.CapEff).not.toBe(ZERO);
    expect(self?.CapBnd).not.toBe(ZERO);
    expect(self?.Seccomp).toBe('0');
  });
});
