/**
 * Threat: a fork bomb exhausts the host's process table.
 * Oracle: the sandbox's pids cgroup on the host (it hit its cap and never
 * went past it), the host can still start processes, and every bomb process
 * is gone afterwards. Twin: below the cap, processes start and the host sees
 * them counted.
 */
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { eventually, gvisorPids, processesOwnedBy, testRuntime } from '../helpers/host.js';
import { counters, expectHostAndSandboxHealthy, hostAlive, sandboxCgroupFile, sandboxHostPids, useEngine } from './harness.js';

const h = useEngine();
const PIDS = 64;

/**
 * gVisor: limits.pids is enforced by its kernel (the sandbox user's RLIMIT_NPROC), while the host
 * cgroup holds gVisor's own threads under a larger cap (see runtimes/gvisor/limits.ts). The bomb is
 * stopped inside, at limits.pids tasks, without the host cgroup ever refusing a task (which would
 * crash the sentry); the timeout ends it; the host and the sandbox stay healthy.
 */
async function gvisorBomb(sbx: Sandbox): Promise<void> {
  const hostMax = Number((await sandboxCgroupFile(h.engine, sbx, 'pids.max')).trim());
  expect(hostMax).toBeGreaterThan(PIDS);
  const bomb = sbx.spawn(['bash', '-c', ':(){ :|:& };: ; exec sleep 60'], { timeoutMs: 4000 });
  let peak = 0;
  let hostPeak = 0;
  await eventually(
    async () => {
      peak = Math.max(peak, (await gvisorPids(h.engine, sbx)).length);
      hostPeak = Math.max(hostPeak, Number(await sandboxCgroupFile(h.engine, sbx, 'pids.current')));
      return peak >= PIDS - 2;
    },
    4000,
    'the bomb to fill limits.pids',
  );
  const r = await bomb.wait();

  expect(r.reason).toBe('timeout');
  expect(r.stderr).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
  expect(peak).toBeLessThanOrEqual(PIDS);
  expect(hostPeak).toBeLessThanOrEqual(hostMax);
  expect(counters(await sandboxCgroupFile(h.engine, sbx, 'pids.events')).max ?? 0).toBe(0);
  // The timeout killed the whole bomb: the agent is alone again.
  await eventually(async () => (await gvisorPids(h.engine, sbx)).length === 1, 5000, 'the bomb processes to die');
  await expectHostAndSandboxHealthy(sbx, 'for i in 1 2 3 4 5 6 7 8; do /bin/true & done; wait');
}

describe('a fork bomb is stopped by the pids limit', () => {
  it('bash fork bomb hits pids.max, times out, and leaves the host healthy', async () => {
    await using sbx = await h.create({ limits: { pids: PIDS } });
    if (testRuntime() === 'gvisor') {
      await gvisorBomb(sbx);
      return;
    }
    const uid = sbx.info().hostUid;
    const baseline = (await processesOwnedBy(new Set([uid]))).length; // bwrap + the agent
    const pidsEvents = async (): Promise<number> => counters(await sandboxCgroupFile(h.engine, sbx, 'pids.events')).max ?? 0;
    expect(await pidsEvents()).toBe(0);

    // `exec sleep` needs no fork, so the main process outlives the bomb until the timeout.
    const bomb = sbx.spawn(['bash', '-c', ':(){ :|:& };: ; exec sleep 60'], { timeoutMs: 4000 });
    let peak = 0;
    await eventually(
      async () => {
        peak = Math.max(peak, Number(await sandboxCgroupFile(h.engine, sbx, 'pids.current')));
        return (await pidsEvents()) > 0;
      },
      4000,
      'the bomb to hit pids.max',
    );
    const r = await bomb.wait();

    expect(r.reason).toBe('timeout');
    expect(r.exitCode).toBeNull();
    expect(peak).toBeLessThanOrEqual(PIDS);
    expect(Number((await sandboxCgroupFile(h.engine, sbx, 'pids.max')).trim())).toBe(PIDS);
    // The timeout killed the whole bomb, not just the main process.
    await eventually(async () => (await processesOwnedBy(new Set([uid]))).length === baseline, 5000, 'the bomb processes to die');
    // The host still forks, and the sandbox still serves commands.
    await expectHostAndSandboxHealthy(sbx, 'for i in 1 2 3 4 5 6 7 8; do /bin/true & done; wait');
  });

  it('a bomb left running in the background dies with its sandbox', async () => {
    const sbx = await h.create({ limits: { pids: PIDS } });
    const uid = sbx.info().hostUid;
    const gvisor = testRuntime() === 'gvisor';
    // The main process returns at once; the bomb keeps going on its own.
    const r = await sbx.exec(['bash', '-c', ':(){ :|:& };:'], { timeoutMs: 10_000 });
    expect(r.reason).toBe('exited');
    // (gVisor: without the main process, bash's fork retries give up against limits.pids within
    // moments and the bomb burns out by itself; what is left of it goes with the sandbox.)
    if (!gvisor) await eventually(async () => (counters(await sandboxCgroupFile(h.engine, sbx, 'pids.events')).max ?? 0) > 0, 5000, 'the bomb to hit pids.max');
    const hostPids = gvisor ? await sandboxHostPids(h.engine, sbx) : [];

    await sbx.kill();

    await eventually(async () => (await processesOwnedBy(new Set([uid]))).length === 0, 5000, 'every sandbox process to die');
    // gVisor: its host processes (runsc, gofer, sentry, stubs) are gone too.
    if (gvisor) await eventually(async () => !(await Promise.all(hostPids.map(hostAlive))).some(Boolean), 5000, 'every host process of the sandbox to die');
    expect(sbx.state).toBe('closed');
  });

  it('twin: below the limit, processes start and the host counts them', async () => {
    await using sbx = await h.create({ limits: { pids: PIDS } });
    // gVisor counts the sandbox's tasks in its own kernel, where limits.pids applies.
    const count = async (): Promise<number> => (testRuntime() === 'gvisor' ? (await gvisorPids(h.engine, sbx)).length : Number(await sandboxCgroupFile(h.engine, sbx, 'pids.current')));
    const before = await count();

    const p = sbx.spawn(['sh', '-c', 'for i in $(seq 1 40); do sleep 600 & done; echo started; wait'], { timeoutMs: 20_000 });
    await eventually(async () => (await count()) >= before + 41, 5000, '40 sleeps in the cgroup');

    expect(counters(await sandboxCgroupFile(h.engine, sbx, 'pids.events')).max ?? 0).toBe(0);
    p.kill();
    const r = await p.wait();
    expect(r.reason).toBe('signaled');
    expect(r.stdout).toBe('started\n');
  });
});
