import { readFileSync, statSync } from 'node:fs';
import { isWardenError } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import { CONTROLLERS, decideLayout, parseMountinfo, readCgroupLayout } from './layout.js';

/** Hybrid, as on this development machine: every controller on v1, an almost empty v2 at /sys/fs/cgroup/unified. */
const HYBRID = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_V2 = new Map([['/sys/fs/cgroup/unified', ['hugetlb']]]);

/** v1 only, systemd legacy layout (CentOS 7 style) with optional fields and cpu,cpuacct co-mounted. */
const V1_ONLY = `25 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64,noquota
22 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
23 22 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
26 22 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 master:3 - cgroup cgroup rw,cpu,cpuacct
27 22 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
28 22 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
29 22 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset
`;

/** v2 only (Debian 12, Fedora): one unified hierarchy at /sys/fs/cgroup. */
const V2_ONLY = `21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
27 21 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const V2_ALL = new Map([['/sys/fs/cgroup', ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']]]);

function expectUnsupported(fn: () => unknown, missing: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isWardenError(caught), `threw ${String(caught)}`).toBe(true);
  expect(caught).toMatchObject({ code: 'E_LIMIT_UNSUPPORTED', details: { missing } });
  for (const c of missing) expect((caught as Error).message).toContain(c);
  expect((caught as Error).message).toMatch(/warden doctor/);
}

describe('parseMountinfo', () => {
  it('reads mount point, filesystem type and super options, whatever the number of optional fields', () => {
    const mounts = parseMountinfo(V1_ONLY);
    expect(mounts).toHaveLength(7);
    expect(mounts[0]).toEqual({ point: '/', fstype: 'xfs', superOptions: ['rw', 'attr2', 'inode64', 'noquota'] });
    expect(mounts.find((m) => m.point === '/sys/fs/cgroup/cpu,cpuacct')).toEqual({ point: '/sys/fs/cgroup/cpu,cpuacct', fstype: 'cgroup', superOptions: ['rw', 'cpu', 'cpuacct'] });
    expect(parseMountinfo(HYBRID).find((m) => m.fstype === 'cgroup2')).toEqual({ point: '/sys/fs/cgroup/unified', fstype: 'cgroup2', superOptions: ['rw'] });
  });

  it('decodes escaped spaces in mount points', () => {
    const [m] = parseMountinfo('40 31 0:99 / /mnt/my\\040cgroups rw - cgroup cgroup rw,memory\n');
    expect(m!.point).toBe('/mnt/my cgroups');
  });

  it('skips blank and malformed lines', () => {
    expect(parseMountinfo('\n\ngarbage without separator\n27 1 254:0 / / rw - ext4 /dev/vda rw\n')).toHaveLength(1);
  });

  it('agrees with /proc/self/mounts on this host (the real format, checked against a second kernel view)', () => {
    const fromInfo = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => `${m.point} ${m.fstype}`);
    const fromMounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .map(([, point, fstype]) => `${point!.replace(/\\040/g, ' ')} ${fstype}`);
    expect(fromInfo.sort()).toEqual(fromMounts.sort());
    expect(fromInfo).toContain(fromMounts.find((m) => m.startsWith('/ '))!);
  });
});

describe('decideLayout', () => {
  it('hybrid (this machine): memory, pids and cpu on their own v1 hierarchies', () => {
    expect(decideLayout(parseMountinfo(HYBRID), HYBRID_V2)).toEqual({
      memory: { hierarchy: 'v1', mount: '/sys/fs/cgroup/memory' },
      pids: { hierarchy: 'v1', mount: '/sys/fs/cgroup/pids' },
      cpu: { hierarchy: 'v1', mount: '/sys/fs/cgroup/cpu' },
      // the fixture has no v1 freezer line: cgroup v2's cgroup.freeze serves
      freezer: { hierarchy: 'v2', mount: '/sys/fs/cgroup/unified' },
    });
  });

  it('the freezer: the v1 hierarchy when mounted, else cgroup v2 (cgroup.freeze), else none', () => {
    expect(decideLayout(parseMountinfo(V2_ONLY), V2_ALL).freezer).toEqual({ hierarchy: 'v2', mount: '/sys/fs/cgroup' });
    expect(decideLayout(parseMountinfo(V1_ONLY), new Map()).freezer).toBeUndefined();
    const withFreezer = `${V1_ONLY}\n40 30 0:40 / /sys/fs/cgroup/freezer rw,relatime shared:20 - cgroup cgroup rw,freezer`;
    expect(decideLayout(parseMountinfo(withFreezer), new Map()).freezer).toEqual({ hierarchy: 'v1', mount: '/sys/fs/cgroup/freezer' });
  });

  it('v1 only: finds cpu on a co-mounted cpu,cpuacct hierarchy, and ignores name=systemd', () => {
    expect(decideLayout(parseMountinfo(V1_ONLY), new Map())).toEqual({
      memory: { hierarchy: 'v1', mount: '/sys/fs/cgroup/memory' },
      pids: { hierarchy: 'v1', mount: '/sys/fs/cgroup/pids' },
      cpu: { hierarchy: 'v1', mount: '/sys/fs/cgroup/cpu,cpuacct' },
    });
  });

  it('v2 only: every controller on the unified hierarchy', () => {
    const layout = decideLayout(parseMountinfo(V2_ONLY), V2_ALL);
    for (const c of CONTROLLERS) expect(layout[c]).toEqual({ hierarchy: 'v2', mount: '/sys/fs/cgroup' });
  });

  it('hybrid with memory moved to v2: decides per controller', () => {
    const mounts = parseMountinfo(HYBRID.split('\n').filter((l) => !l.includes('/sys/fs/cgroup/memory')).join('\n'));
    const layout = decideLayout(mounts, new Map([['/sys/fs/cgroup/unified', ['memory']]]));
    expect(layout.memory).toEqual({ hierarchy: 'v2', mount: '/sys/fs/cgroup/unified' });
    expect(layout.pids).toEqual({ hierarchy: 'v1', mount: '/sys/fs/cgroup/pids' });
  });

  it('returns a frozen layout', () => {
    expect(Object.isFrozen(decideLayout(parseMountinfo(V2_ONLY), V2_ALL))).toBe(true);
  });

  it('refuses with E_LIMIT_UNSUPPORTED when v2 lacks a controller and v1 does not have it', () => {
    expectUnsupported(() => decideLayout(parseMountinfo(V2_ONLY), new Map([['/sys/fs/cgroup', ['cpu', 'memory', 'io']]])), ['pids']);
  });

  it('does not take cpuset or cpuacct for cpu', () => {
    const mounts = parseMountinfo(HYBRID.split('\n').filter((l) => !l.includes('/sys/fs/cgroup/cpu ')).join('\n'));
    expectUnsupported(() => decideLayout(mounts, HYBRID_V2), ['cpu']);
  });

  it('refuses with every missing controller named when there are no cgroups at all', () => {
    expectUnsupported(() => decideLayout(parseMountinfo('27 1 254:0 / / rw - ext4 /dev/vda rw\n'), new Map()), ['memory', 'pids', 'cpu']);
  });

  it('ignores controllers listed for a path that is not a cgroup2 mount', () => {
    expectUnsupported(() => decideLayout(parseMountinfo(V2_ONLY), new Map([['/elsewhere', ['memory', 'pids', 'cpu']]])), ['memory', 'pids', 'cpu']);
  });
});

describe('readCgroupLayout (this host)', () => {
  // Warden runs only where these controllers exist (the integration suite needs them), so this host must have them.
  it('finds every controller at a real cgroup mount', async () => {
    const result = await readCgroupLayout();
    const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    for (const c of CONTROLLERS) {
      const place = (result)[c];
      expect(statSync(place.mount).isDirectory(), place.mount).toBe(true);
      const m = mounts.find((x) => x.point === place.mount);
      if (place.hierarchy === 'v1') expect(m).toMatchObject({ fstype: 'cgroup', superOptions: expect.arrayContaining([c]) as unknown });
      else expect(readFileSync(`${place.mount}/cgroup.controllers`, 'utf8').split(/\s+/)).toContain(c);
    }
  });
});
