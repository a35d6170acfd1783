/**
 * Threat: a sandbox allocates memory until the host swaps or its OOM killer
 * picks a host process.
 * Oracle: the sandbox's memory cgroup on the host (its OOM counter rose, its
 * peak stayed under the limit), the host can still start processes, and the
 * sandbox's agent survives. Twin: an allocation under the limit succeeds and
 * is not reported as `oom`.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../helpers/host.js';
import { counters, expectHostAndSandboxHealthy, runOnHost, sandboxCgroupFile, useEngine } from './harness.js';

const h = useEngine();
const MEMORY_MB = 64;
const MiB = 1024 * 1024;

/** Allocates and touches $1 MiB (bytes multiplication writes every page). */
const ALLOC = 'import sys; b = b"x" * (int(sys.argv[1]) << 20); print(len(b) >> 20, "MiB")';

describe('a memory bomb is stopped by the memory limit', () => {
  it('allocating 512 MiB under a 64 MiB limit is reported as oom and the host stays healthy', async () => {
    await using sbx = await h.create({ limits: { memoryMb: MEMORY_MB } });
    const oomKills = async (): Promise<number> => {
      const text = await sandboxCgroupFile(h.engine, sbx, 'memory.oom_control').catch(() => sandboxCgroupFile(h.engine, sbx, 'memory.events'));
      return counters(text).oom_kill ?? 0;
    };
    expect(await oomKills()).toBe(0);

    const r = await sbx.exec(['python3', '-c', ALLOC, '512'], { timeoutMs: 30_000 });

    expect(r.reason).toBe('oom');
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('');
    expect(await oomKills()).toBeGreaterThan(0);
    const peak = await sandboxCgroupFile(h.engine, sbx, 'memory.max_usage_in_bytes').catch(() => sandboxCgroupFile(h.engine, sbx, 'memory.peak'));
    expect(Number(peak.trim())).toBeLessThanOrEqual(MEMORY_MB * MiB);
    if (testRuntime() === 'gvisor') {
      // gVisor's sentry holds all the sandbox's memory: the OOM kill ends the whole sandbox, and says why.
      expect(await sbx.ended).toMatch(/^out of memory/);
      expect(sbx.info()).toMatchObject({ state: 'closed' });
      const host = await runOnHost(['sh', '-c', 'true; echo ok']);
      expect(host.stdout).toBe('ok\n');
      return;
    }
    // The host still runs programs, and the sandbox (its agent) still answers.
    await expectHostAndSandboxHealthy(sbx, 'true');
  });

  it('twin: the same allocation of 16 MiB under the same limit succeeds', async () => {
    await using sbx = await h.create({ limits: { memoryMb: MEMORY_MB } });

    const r = await sbx.exec(['python3', '-c', ALLOC, '16'], { timeoutMs: 30_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('16 MiB\n');
    expect(
      counters(await sandboxCgroupFile(h.engine, sbx, 'memory.oom_control').catch(() => sandboxCgroupFile(h.engine, sbx, 'memory.events'))).oom_kill ?? 0,
    ).toBe(0);
  });
});
