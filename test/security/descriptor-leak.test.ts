/**
 * Threat: a file descriptor the server, launcher or bwrap held (a host
 * directory, the state dir, the seccomp program) leaks into the sandbox; an
 * inherited directory fd lets openat() walk the host filesystem from inside.
 * Oracle: the host's /proc/<pid>/fd of every process the sandbox's uid runs
 * (gVisor, whose processes live in its own kernel: that kernel's /proc, read
 * from outside the agent).
 * Twin: a file the sandboxed process does open shows up in the same view.
 */
import { readdir, readlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { eventually, processesOwnedBy, runscExec, testRuntime } from '../helpers/host.js';
import { hostCmdline, hostPidsMatching, useEngine } from './harness.js';

const h = useEngine();

/** Everything a sandbox process may legitimately hold: pipes, sockets, anonymous inodes, /dev/null. */
const HARMLESS = /^(pipe:\[\d+\]|socket:\[\d+\]|anon_inode:.*|\/dev\/null)$/;

/**
 * gVisor: its processes' descriptors are in its kernel, not the host's: every
 * process's targets as its /proc shows them, read by a process runsc starts
 * beside the agent. `{pid: [targets]}`, the lister left out.
 */
const GVISOR_FDS = `
import json, os
out = {}
for p in os.listdir('/proc'):
    if p.isdigit() and int(p) != os.getpid():
        fds = []
        for fd in os.listdir(f'/proc/{p}/fd'):
            try:
                fds.append(os.readlink(f'/proc/{p}/fd/{fd}'))
            except OSError:
                pass
        out[p] = fds
print(json.dumps(out))
`;

async function gvisorFds(sbx: Sandbox): Promise<Record<string, string[]>> {
  return JSON.parse(await runscExec(h.engine, sbx, ['/usr/bin/python3', '-c', GVISOR_FDS])) as Record<string, string[]>;
}

async function hostFds(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    if (target !== undefined) out.push(target);
  }
  return out;
}

describe('no descriptor leaks into a sandbox', () => {
  it('a sandboxed process inherits only stdin, stdout and stderr', async () => {
    await using sbx = await h.create();

    // ls opens the directory it lists: that one is fd 3.
    const r = await sbx.exec(['sh', '-c', 'exec ls /proc/self/fd'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);
  });

  it('the host sees no host file or directory open in any process of the sandbox uid', async () => {
    await using sbx = await h.create();
    const uid = sbx.info().hostUid;
    const p = sbx.spawn(['sleep', '600']);
    await p.started();
    if (testRuntime() === 'gvisor') {
      const all = await gvisorFds(sbx);
      expect(Object.keys(all).length).toBeGreaterThanOrEqual(2); // the agent, sleep
      for (const [pid, targets] of Object.entries(all)) {
        // The agent's protocol pipes are the host's (runsc's stdio): gVisor names them host:[N]. Nothing else may be.
        for (const target of targets) expect(target, `pid ${pid}`).toMatch(pid === '1' ? new RegExp(`${HARMLESS.source}|^host:\\[\\d+\\]$`) : HARMLESS);
      }
      p.kill();
      await p.wait();
      return;
    }
    await eventually(async () => (await hostPidsMatching(uid, 'sleep 600')).length === 1, 5000, 'the sleeper on the host');

    const pids = await processesOwnedBy(new Set([uid]));
    expect(pids.length).toBeGreaterThanOrEqual(testRuntime() === 'docker' ? 2 : 3); // bwrap, agent, sleep (docker: no bwrap)
    for (const pid of pids) {
      for (const target of await hostFds(pid)) expect(target, `host pid ${pid}`).toMatch(HARMLESS);
    }
    p.kill();
    await p.wait();
  });

  it('twin: a file the sandboxed process opens shows up in the same host view', async () => {
    await using sbx = await h.create();
    const uid = sbx.info().hostUid;
    const p = sbx.spawn(['sh', '-c', 'echo x > /workspace/f && exec sleep 600 3</workspace/f']);
    await p.started();
    if (testRuntime() === 'gvisor') {
      let targets: string[] = [];
      await eventually(async () => (targets = (await gvisorFds(sbx))[String(await p.started())] ?? []).includes('/workspace/f'), 5000, 'the sleeper to hold the file');
      expect(targets.filter((t) => !HARMLESS.test(t))).toEqual(['/workspace/f']);
      p.kill();
      await p.wait();
      return;
    }
    let pid = 0;
    await eventually(
      async () => {
        // The sleep itself, not the shell (whose command line names it too) before its exec.
        for (const candidate of await hostPidsMatching(uid, 'sleep 600')) if ((await hostCmdline(candidate)).startsWith('sleep ')) pid = candidate;
        return pid > 0;
      },
      5000,
      'the sleeper on the host',
    );

    const targets = await hostFds(pid);
    expect(targets).toContain('/workspace/f');
    expect(targets.filter((t) => !HARMLESS.test(t))).toEqual(['/workspace/f']);
    p.kill();
    await p.wait();
  });
});
