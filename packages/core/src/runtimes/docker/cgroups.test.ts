import { describe, expect, it } from 'vitest';
import { cgroupMountsOf, foreignDirs } from './cgroups.js';

const MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
  '34 30 0:30 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices',
  '35 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd',
].join('\n');

describe('Docker’s cgroup directories', () => {
  it('lists every hierarchy, v1 and v2', () => {
    expect(cgroupMountsOf(MOUNTINFO)).toEqual([
      { mount: '/sys/fs/cgroup/unified', hierarchy: 'v2' },
      { mount: '/sys/fs/cgroup/memory', hierarchy: 'v1' },
      { mount: '/sys/fs/cgroup/pids', hierarchy: 'v1' },
      { mount: '/sys/fs/cgroup/devices', hierarchy: 'v1' },
      { mount: '/sys/fs/cgroup/systemd', hierarchy: 'v1' },
    ]);
  });

  it('foreign dirs are the sandbox path in the hierarchies the engine does not use', () => {
    const rel = 'warden/eng_x/sbx_y';
    const procs = ['/sys/fs/cgroup/memory/warden/eng_x/sbx_y/cgroup.procs', '/sys/fs/cgroup/pids/warden/eng_x/sbx_y/cgroup.procs'];
    expect(foreignDirs(cgroupMountsOf(MOUNTINFO), rel, procs)).toEqual([
      '/sys/fs/cgroup/unified/warden/eng_x/sbx_y',
      '/sys/fs/cgroup/devices/warden/eng_x/sbx_y',
      '/sys/fs/cgroup/systemd/warden/eng_x/sbx_y',
    ]);
  });
});
