/**
 * Threat: sandboxed code holds (or regains) Linux capabilities, runs without
 * no_new_privs (setuid binaries would elevate), or without the seccomp filter.
 * Oracle: /proc/<pid>/status of every sandbox process, read inside and on the
 * host. Twin: the same probe and parser report the capabilities of a root
 * process on the host.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { processesOwnedBy } from '../helpers/host.js';
import { runOnHost, statusFields, useEngine } from './harness.js';

const h = useEngine();
const CAP_SETS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'] as const;
const ZERO = '0000000000000000';

/** Prints the status of every process visible and of `cat` itself, separated by "--" lines. */
const STATUS_ALL = 'for f in /proc/[0-9]*/status /proc/self/status; do cat "$f" && echo --; done';

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
    for (const p of procs) {
      const where = `pid ${p.Pid} (${p.Name})`;
      for (const set of CAP_SETS) expect(p[set], `${where} ${set}`).toBe(ZERO);
      expect(p.NoNewPrivs, where).toBe('1');
      expect(p.Seccomp, where).toBe('2');
    }
    bg.kill();
    await bg.wait();
  });

  it("the host's view agrees: no process of the sandbox uid has a capability, all run with no_new_privs", async () => {
    await using sbx = await h.create();
    const uid = sbx.info().hostUid;

    const pids = await processesOwnedBy(new Set([uid]));

    expect(pids.length).toBeGreaterThanOrEqual(2); // bwrap and the agent
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
