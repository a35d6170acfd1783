import { describe, expect, it } from 'vitest';
import type { CgroupLayout } from './layout.js';
import { CPU_PERIOD_US, parseCounter, planCgroup, type CgroupLimits } from './plan.js';

const MiB = 1024 * 1024;
const REL = 'warden/eng_a/sbx_b';
const limits: CgroupLimits = { memoryMb: 512, swapMb: 0, pids: 256, cpus: 1.5 };

const V1: CgroupLayout = {
  memory: { hierarchy: 'v1', mount: '/sys/fs/cgroup/memory' },
  pids: { hierarchy: 'v1', mount: '/sys/fs/cgroup/pids' },
  cpu: { hierarchy: 'v1', mount: '/sys/fs/cgroup/cpu,cpuacct' },
};
const V2: CgroupLayout = {
  memory: { hierarchy: 'v2', mount: '/sys/fs/cgroup' },
  pids: { hierarchy: 'v2', mount: '/sys/fs/cgroup' },
  cpu: { hierarchy: 'v2', mount: '/sys/fs/cgroup' },
};
/** Memory on the unified hierarchy, pids and cpu on v1. */
const MIXED: CgroupLayout = {
  memory: { hierarchy: 'v2', mount: '/sys/fs/cgroup/unified' },
  pids: { hierarchy: 'v1', mount: '/sys/fs/cgroup/pids' },
  cpu: { hierarchy: 'v1', mount: '/sys/fs/cgroup/cpu' },
};

const dirOf = (plan: ReturnType<typeof planCgroup>, mount: string) => plan.dirs.find((d) => d.mount === mount)!;

describe('planCgroup on cgroup v1', () => {
  const plan = planCgroup(V1, REL, limits);

  it('makes one directory per hierarchy, under the sandbox path', () => {
    expect(plan.dirs.map((d) => [d.hierarchy, d.dir, d.controllers])).toEqual([
      ['v1', `/sys/fs/cgroup/memory/${REL}`, ['memory']],
      ['v1', `/sys/fs/cgroup/pids/${REL}`, ['pids']],
      ['v1', `/sys/fs/cgroup/cpu,cpuacct/${REL}`, ['cpu']],
    ]);
  });

  it('limits memory with memory.limit_in_bytes, keeps the sandbox out of swap, and caps memsw where the kernel has it', () => {
    const mem = dirOf(plan, V1.memory.mount);
    expect(mem.writes).toEqual([
      ['memory.limit_in_bytes', String(512 * MiB)],
      ['memory.swappiness', '0'],
    ]);
    expect(mem.optionalWrites).toEqual([['memory.memsw.limit_in_bytes', String(512 * MiB)]]);
  });

  it('lets memsw be memory plus swap when swap is allowed, and leaves swappiness alone', () => {
    const mem = dirOf(planCgroup(V1, REL, { ...limits, swapMb: 128 }), V1.memory.mount);
    expect(mem.writes).toEqual([['memory.limit_in_bytes', String(512 * MiB)]]);
    expect(mem.optionalWrites).toEqual([['memory.memsw.limit_in_bytes', String(640 * MiB)]]);
  });

  it('writes pids.max', () => {
    expect(dirOf(plan, V1.pids.mount).writes).toEqual([['pids.max', '256']]);
  });

  it('writes the CFS period before the quota (1.5 cpus = 150 ms per 100 ms)', () => {
    expect(dirOf(plan, V1.cpu.mount).writes).toEqual([
      ['cpu.cfs_period_us', String(CPU_PERIOD_US)],
      ['cpu.cfs_quota_us', '150000'],
    ]);
  });

  it('reads OOM kills from memory.oom_control', () => {
    expect(plan.oom).toEqual({ file: `/sys/fs/cgroup/memory/${REL}/memory.oom_control`, key: 'oom_kill' });
  });
});

describe('planCgroup on cgroup v2', () => {
  const plan = planCgroup(V2, REL, limits);

  it('makes a single directory carrying every controller', () => {
    expect(plan.dirs).toHaveLength(1);
    expect(plan.dirs[0]).toMatchObject({ hierarchy: 'v2', dir: `/sys/fs/cgroup/${REL}`, controllers: ['memory', 'pids', 'cpu'] });
  });

  it('writes memory.max, memory.swap.max, pids.max and cpu.max, with no v1-only files', () => {
    expect(plan.dirs[0]!.writes).toEqual([
      ['memory.max', String(512 * MiB)],
      ['memory.swap.max', '0'],
      ['pids.max', '256'],
      ['cpu.max', `150000 ${CPU_PERIOD_US}`],
    ]);
    expect(plan.dirs[0]!.optionalWrites).toEqual([]);
  });

  it('allows swap through memory.swap.max', () => {
    expect(planCgroup(V2, REL, { ...limits, swapMb: 64 }).dirs[0]!.writes).toContainEqual(['memory.swap.max', String(64 * MiB)]);
  });

  it('reads OOM kills from memory.events', () => {
    expect(plan.oom).toEqual({ file: `/sys/fs/cgroup/${REL}/memory.events`, key: 'oom_kill' });
  });
});

describe('planCgroup on a hybrid host', () => {
  const plan = planCgroup(MIXED, REL, limits);

  it('uses each hierarchy’s own files', () => {
    expect(dirOf(plan, '/sys/fs/cgroup/unified').writes).toEqual([
      ['memory.max', String(512 * MiB)],
      ['memory.swap.max', '0'],
    ]);
    expect(dirOf(plan, '/sys/fs/cgroup/pids').writes).toEqual([['pids.max', '256']]);
    expect(dirOf(plan, '/sys/fs/cgroup/cpu').writes).toEqual([
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', '150000'],
    ]);
    expect(plan.oom.file).toBe(`/sys/fs/cgroup/unified/${REL}/memory.events`);
  });

  it('groups v1 controllers co-mounted on one hierarchy into one directory', () => {
    const shared: CgroupLayout = { ...V1, pids: { hierarchy: 'v1', mount: V1.memory.mount } };
    const p = planCgroup(shared, REL, limits);
    expect(p.dirs).toHaveLength(2);
    const mem = dirOf(p, V1.memory.mount);
    expect(mem.controllers).toEqual(['memory', 'pids']);
    expect(mem.writes.map(([f]) => f)).toEqual(['memory.limit_in_bytes', 'memory.swappiness', 'pids.max']);
  });
});

describe('cpu quota', () => {
  it.each([
    [1, 100_000],
    [0.5, 50_000],
    [2.25, 225_000],
    [0.01, 1000],
    // The kernel refuses quotas under 1 ms.
    [0.004, 1000],
  ])('%f cpus → quota %i µs', (cpus, quota) => {
    expect(dirOf(planCgroup(V2, REL, { ...limits, cpus }), '/sys/fs/cgroup').writes).toContainEqual(['cpu.max', `${quota} 100000`]);
    expect(dirOf(planCgroup(V1, REL, { ...limits, cpus }), V1.cpu.mount).writes).toContainEqual(['cpu.cfs_quota_us', String(quota)]);
  });
});

describe('parseCounter', () => {
  it('reads oom_kill from memory.events (v2)', () => {
    expect(parseCounter('low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n', 'oom_kill')).toBe(2);
  });

  it('reads oom_kill from memory.oom_control (v1) without confusing it with oom_kill_disable', () => {
    expect(parseCounter('oom_kill_disable 1\nunder_oom 0\noom_kill 3\n', 'oom_kill')).toBe(3);
  });

  it('reads 0 when the key is absent (older kernels)', () => {
    expect(parseCounter('oom_kill_disable 0\nunder_oom 0\n', 'oom_kill')).toBe(0);
  });
});
