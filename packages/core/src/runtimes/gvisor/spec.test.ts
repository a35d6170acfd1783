import { describe, expect, it } from 'vitest';
import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { DENIED_SYSCALLS } from '../bwrap/seccomp.js';
import { launcherArgs, runscDeleteArgs, runscGlobalArgs, runscRunArgs } from './argv.js';
import { HOST_TASKS_BASE, HOST_TASKS_PER_PID, gvisorCgroupLimits } from './limits.js';
import { SANDBOX_COMPAT_LIB, rootfsPlan, type HostLayout } from './rootfs.js';
import { CLONE_NAMESPACE_FLAGS, SIGNAL_BY_PID, ociSeccomp } from './seccomp.js';
import { HOST_NOBODY, ociSpec, type GvisorSpecInput } from './spec.js';

const layout: HostLayout = {
  root: [
    { name: 'bin', symlinkTo: 'usr/bin' },
    { name: 'lib', symlinkTo: 'usr/lib' },
    { name: 'lib64' },
  ],
  etc: [
    { path: '/etc/ld.so.cache', kind: 'file' },
    { path: '/etc/ssl', kind: 'dir' },
    { path: '/etc/localtime', kind: 'symlink', target: '/usr/share/zoneinfo/Etc/UTC' },
  ],
};

const input: GvisorSpecInput = {
  hostname: 'box',
  hostUid: 1_900_000_123,
  hostGid: 1_900_000_123,
  limits: { nofile: 64, fileSizeMb: 2, pids: 100 },
  rootfs: '/var/lib/warden/run/eng_1/gvisor/rootfs',
  layout,
  workspaceHostPath: '/var/lib/warden/run/eng_1/ws/sbx_1',
  stageTmp: '/var/lib/warden/run/eng_1/gvisor/stage/tmp',
  stageShm: '/var/lib/warden/run/eng_1/gvisor/stage/shm',
};

describe('ociSpec', () => {
  const spec = ociSpec(input);

  it('runs the agent alone, from /workspace, with an empty environment, no terminal', () => {
    expect(spec.process).toMatchObject({ args: [SANDBOX_AGENT_PATH], env: [], cwd: SANDBOX_WORKSPACE, terminal: false });
  });

  it('runs it as the unprivileged sandbox user, mapped to the host uid/gid; root inside is host nobody', () => {
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [] });
    const map = [
      { containerID: 0, hostID: HOST_NOBODY, size: 1 },
      { containerID: 1000, hostID: input.hostUid, size: 1 },
    ];
    expect(spec.linux.uidMappings).toEqual(map);
    expect(spec.linux.gidMappings).toEqual(map);
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'user']);
  });

  it('holds no capability, cannot gain privileges, and carries the rlimits', () => {
    for (const set of Object.values(spec.process.capabilities)) expect(set).toEqual([]);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 64, hard: 64 },
      { type: 'RLIMIT_FSIZE', soft: 2 * 1024 * 1024, hard: 2 * 1024 * 1024 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      { type: 'RLIMIT_NPROC', soft: 100, hard: 100 },
    ]);
  });

  it('has a read-only root, and leaves cgroups to the engine (no cgroupsPath, no resources)', () => {
    expect(spec.root).toEqual({ path: input.rootfs, readonly: true });
    expect(spec.linux).not.toHaveProperty('cgroupsPath');
    expect(spec.linux).not.toHaveProperty('resources');
    expect(spec.hostname).toBe('box');
  });

  it('mounts /usr, real host lib dirs and /etc files read-only; tmp, shm and the workspace read-write; an empty /sys', () => {
    const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
    expect(spec.mounts.map((m) => m.destination)).toEqual(['/proc', '/sys', '/usr', '/lib64', '/etc/ld.so.cache', '/etc/ssl', '/tmp', '/dev/shm', SANDBOX_WORKSPACE]);
    for (const d of ['/usr', '/lib64', '/etc/ld.so.cache', '/etc/ssl']) {
      expect(byDest.get(d)).toEqual({ destination: d, type: 'bind', source: d, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
    }
    expect(byDest.get('/tmp')).toMatchObject({ source: input.stageTmp, options: ['rbind', 'rw', 'nosuid', 'nodev'] });
    expect(byDest.get('/dev/shm')).toMatchObject({ source: input.stageShm, options: ['rbind', 'rw', 'nosuid', 'nodev'] });
    expect(byDest.get(SANDBOX_WORKSPACE)).toMatchObject({ source: input.workspaceHostPath, options: ['rbind', 'rw', 'nosuid', 'nodev'] });
    expect(byDest.get('/sys')).toMatchObject({ type: 'tmpfs', options: expect.arrayContaining(['ro']) as unknown });
    // Symlinks are part of the root, never mounts.
    expect(byDest.has('/bin')).toBe(false);
    expect(byDest.has('/etc/localtime')).toBe(false);
  });

  it('is plain JSON (what config.json holds)', () => {
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });
});

describe('ociSeccomp', () => {
  const profile = ociSeccomp();
  const rules = (name: string) => profile.syscalls.filter((r) => r.names.includes(name));

  it('allows by default, x86_64 only, and refuses every syscall of the bwrap denylist with EPERM', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(profile.architectures).toEqual(['SCMP_ARCH_X86_64']);
    for (const name of Object.keys(DENIED_SYSCALLS)) {
      expect(rules(name).some((r) => r.args === undefined && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 1), name).toBe(true);
    }
  });

  it('refuses clone with any namespace flag, one rule per flag', () => {
    const clone = rules('clone');
    expect(clone.map((r) => r.args?.[0])).toEqual(Object.values(CLONE_NAMESPACE_FLAGS).map((f) => ({ index: 0, value: f, valueTwo: f, op: 'SCMP_CMP_MASKED_EQ' })));
  });

  it('refuses TIOCSTI and TIOCLINUX, vsock sockets, and signals to PID 1 (the agent)', () => {
    expect(rules('ioctl').map((r) => r.args?.[0]?.value)).toEqual([0x5412, 0x541c]);
    expect(rules('socket').map((r) => r.args?.[0]?.value)).toEqual([40]);
    for (const name of SIGNAL_BY_PID) {
      expect(rules(name).map((r) => r.args?.[0])).toEqual([{ index: 0, value: 0xffff_ffff, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }]);
    }
  });
});

describe('rootfsPlan', () => {
  const plan = rootfsPlan({ layout, agentPath: '/opt/warden/warden-agent', compatLibPath: '/opt/warden/compat.so' });
  const at = (path: string) => plan.find((e) => e.path === path);

  it('makes every mount point, the host symlinks, and parents before children', () => {
    for (const d of ['/usr', '/etc', '/tmp', '/dev', '/dev/shm', '/proc', '/sys', SANDBOX_WORKSPACE, '/.warden', '/lib64', '/etc/ssl']) expect(at(d), d).toEqual({ kind: 'dir', path: d });
    expect(at('/bin')).toEqual({ kind: 'symlink', path: '/bin', target: 'usr/bin' });
    expect(at('/etc/localtime')).toEqual({ kind: 'symlink', path: '/etc/localtime', target: '/usr/share/zoneinfo/Etc/UTC' });
    expect(at('/etc/ld.so.cache')).toMatchObject({ kind: 'file', content: '' });
    const paths = plan.map((e) => e.path);
    for (const [i, p] of paths.entries()) {
      const parent = p.slice(0, p.lastIndexOf('/'));
      if (parent) expect(paths.indexOf(parent), `${p} after its parent`).toBeLessThan(i);
    }
  });

  it("holds Warden's /etc files, the agent and the preloaded statx compatibility library", () => {
    expect(at('/etc/passwd')).toMatchObject({ kind: 'file', mode: 0o644, content: expect.stringContaining('sandbox:x:1000:1000:') as unknown });
    expect(at('/etc/group')).toMatchObject({ kind: 'file' });
    expect(at('/etc/hosts')).toMatchObject({ kind: 'file' });
    expect(at('/etc/ld.so.preload')).toEqual({ kind: 'file', path: '/etc/ld.so.preload', mode: 0o644, content: `${SANDBOX_COMPAT_LIB}\n` });
    expect(at(SANDBOX_AGENT_PATH)).toEqual({ kind: 'copy', path: SANDBOX_AGENT_PATH, mode: 0o755, source: '/opt/warden/warden-agent' });
    expect(at(SANDBOX_COMPAT_LIB)).toEqual({ kind: 'copy', path: SANDBOX_COMPAT_LIB, mode: 0o644, source: '/opt/warden/compat.so' });
  });
});

describe('command lines', () => {
  it('pins every runsc flag that matters: ptrace, no network, no cgroups, OCI seccomp, shared mounts, logs on stderr', () => {
    expect(runscGlobalArgs('/s/runsc')).toEqual([
      '--root=/s/runsc',
      '--platform=ptrace',
      '--network=none',
      '--ignore-cgroups',
      '--oci-seccomp',
      '--file-access=exclusive',
      '--file-access-mounts=shared',
      '--overlay2=none',
      '--host-uds=none',
      '--host-fifo=none',
      '--log-fd=2',
    ]);
    expect(runscRunArgs('/s/runsc', '/s/bundles/sbx_1', 'sbx_1').slice(-3)).toEqual(['run', '--bundle=/s/bundles/sbx_1', 'sbx_1']);
    expect(runscDeleteArgs('/s/runsc', 'sbx_1')).toEqual(['--root=/s/runsc', 'delete', '--force', 'sbx_1']);
  });

  it('launches runsc in the cgroups with capped tmpfs, without dropping to a uid (runsc needs root)', () => {
    const a = launcherArgs(
      { cgroupProcsFiles: ['/cg/pids/x/cgroup.procs', '/cg/memory/x/cgroup.procs'], stageTmp: '/s/tmp', stageShm: '/s/shm', tmpBytes: 1024, tmpInodes: 64, runscPath: '/usr/bin/runsc' },
      ['--root=/s/runsc', 'run', 'sbx_1'],
    );
    expect(a).toEqual([
      '--cgroup', '/cg/pids/x/cgroup.procs',
      '--cgroup', '/cg/memory/x/cgroup.procs',
      '--tmpfs', '/s/tmp:1024:64:1777',
      '--tmpfs', '/s/shm:1024:64:1777',
      '--rlimit', 'core:0:0',
      '--', '/usr/bin/runsc', '--root=/s/runsc', 'run', 'sbx_1',
    ]);
    expect(a).not.toContain('--uid');
  });

  it('mounts a codebase workspace like bwrap: view bind, one delta tmpfs, overlays in order', () => {
    const a = launcherArgs(
      {
        cgroupProcsFiles: [],
        stageTmp: '/s/tmp',
        stageShm: '/s/shm',
        tmpBytes: 1,
        tmpInodes: 64,
        runscPath: '/usr/bin/runsc',
        codebase: {
          bindReadOnly: { source: '/views/v1', target: '/s/ws' },
          delta: { dir: '/s/delta', sizeBytes: 4096, inodes: 100 },
          overlays: [{ target: '/s/ws/docs', lowers: ['/snap/docs', '/views/v1/docs'], rootMode: 0o1777 }],
        },
      },
      ['run'],
    );
    expect(a.slice(a.indexOf('--bind-ro'), a.indexOf('--rlimit'))).toEqual([
      '--bind-ro', '/views/v1:/s/ws',
      '--delta', '/s/delta:4096:100',
      '--lower', '/snap/docs',
      '--lower', '/views/v1/docs',
      '--overlay', '/s/ws/docs:0:1777',
    ]);
  });
});

describe('gvisorCgroupLimits', () => {
  it('gives the host cgroup room for gVisor’s own threads and changes nothing else', () => {
    const limits = { memoryMb: 512, swapMb: 0, pids: 64, cpus: 1, nofile: 1024, fileSizeMb: 1024, tmpMb: 64, tmpInodes: 16384, timeoutMs: 1, maxOutputBytes: 1, ttlMs: 1000, diskMb: 1, diskInodes: 64 };
    expect(gvisorCgroupLimits(limits)).toEqual({ ...limits, pids: HOST_TASKS_BASE + HOST_TASKS_PER_PID * 64 });
  });
});
