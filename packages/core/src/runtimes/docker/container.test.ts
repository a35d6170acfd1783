import { describe, expect, it } from 'vitest';
import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { SANDBOX_NET_DIR } from '../../net/env.js';
import { LABEL_ENGINE, LABEL_SANDBOX, MASKED_PATHS, SANDBOX_LAUNCHER_PATH, SANDBOX_SECCOMP_PATH, containerSpec, sandboxEtc, type ContainerPlanInput } from './container.js';

const base: ContainerPlanInput = {
  sandboxId: 'sbx_aaaaaaaaaaaa',
  engineId: 'eng_bbbbbbbbbbbb',
  hostname: 'box',
  uid: 2_000_000_001,
  gid: 2_000_000_001,
  cgroupPath: 'warden/eng_bbbbbbbbbbbb/sbx_aaaaaaaaaaaa',
  tmpBytes: 64 * 1024 * 1024,
  tmpInodes: 16384,
  nofile: 1024,
  fileSizeBytes: 1024 * 1024 * 1024,
  root: {
    kind: 'base',
    image: 'warden/base:0123456789abcdef',
    hostRoot: [{ name: 'bin', symlinkTo: 'usr/bin' }, { name: 'lib64' }],
    etcPassthrough: ['/etc/ld.so.cache', '/etc/ssl'],
    passwd: '/state/sbx/etc/passwd',
    group: '/state/sbx/etc/group',
  },
  agentHostPath: '/state/bin/warden-agent',
  launcherHostPath: '/state/bin/warden-launch',
  seccompHostPath: '/state/seccomp.bpf',
  hostsHostPath: '/state/etc/hosts',
  resolvHostPath: '/state/etc/resolv.conf',
  workspaceHostPath: '/data/ws/sbx_aaaaaaaaaaaa',
};

const targets = (spec: ReturnType<typeof containerSpec>): Record<string, { source: string; ro: boolean; recursive: boolean }> =>
  Object.fromEntries(spec.HostConfig.Mounts.map((m) => [m.Target, { source: m.Source, ro: m.ReadOnly, recursive: m.BindOptions.NonRecursive !== true }]));

describe('containerSpec', () => {
  it('is deny-all: no network, no capabilities, no_new_privs, Docker seccomp kept, read-only root, unprivileged user', () => {
    const s = containerSpec(base);
    expect(s.User).toBe('2000000001:2000000001');
    expect(s.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      Privileged: false,
      ReadonlyRootfs: true,
      IpcMode: 'private',
      CgroupnsMode: 'private',
      AutoRemove: false,
      Init: false,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'none' },
    });
    expect(s.NetworkDisabled).toBe(true);
    expect(s.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    // A custom or unconfined seccomp profile would replace Docker's default: never.
    expect(s.HostConfig.SecurityOpt.some((o) => o.startsWith('seccomp'))).toBe(false);
    expect(s.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(s.Env).toEqual([]);
  });

  it('runs the agent through the launcher, which installs Warden’s filter first', () => {
    const s = containerSpec(base);
    expect(s.Entrypoint).toEqual([SANDBOX_LAUNCHER_PATH, '--no-pdeathsig', '--seccomp', SANDBOX_SECCOMP_PATH, '--', SANDBOX_AGENT_PATH]);
    expect(s.Cmd).toEqual([]);
    expect(s.WorkingDir).toBe(SANDBOX_WORKSPACE);
    // StdinOnce: the sandbox ends when the engine's attach connection does.
    expect({ tty: s.Tty, stdin: s.OpenStdin, once: s.StdinOnce }).toEqual({ tty: false, stdin: true, once: true });
  });

  it('sets no limits of its own: the container lives in the sandbox cgroup', () => {
    const s = containerSpec(base);
    expect(s.HostConfig.CgroupParent).toBe('/warden/eng_bbbbbbbbbbbb/sbx_aaaaaaaaaaaa');
    for (const k of ['Memory', 'MemorySwap', 'PidsLimit', 'NanoCpus', 'CpuQuota', 'CpuPeriod']) expect(s.HostConfig).not.toHaveProperty(k);
  });

  it('caps /tmp and /dev/shm in bytes and inodes, and sets rlimits', () => {
    const s = containerSpec(base);
    const opts = `rw,exec,nosuid,nodev,size=${64 * 1024 * 1024},nr_inodes=16384,mode=1777,uid=2000000001,gid=2000000001`;
    expect(s.HostConfig.Tmpfs).toEqual({ '/tmp': opts, '/dev/shm': opts });
    expect(s.HostConfig.Ulimits).toEqual([
      { Name: 'nofile', Soft: 1024, Hard: 1024 },
      { Name: 'fsize', Soft: 1024 * 1024 * 1024, Hard: 1024 * 1024 * 1024 },
      { Name: 'core', Soft: 0, Hard: 0 },
    ]);
  });

  it('base image: the host’s /usr, real lib dirs and /etc files read-only, Warden’s passwd/group/hosts, the workspace writable', () => {
    const m = targets(containerSpec(base));
    expect(m['/usr']).toEqual({ source: '/usr', ro: true, recursive: false });
    expect(m['/lib64']).toEqual({ source: '/lib64', ro: true, recursive: false });
    expect(m['/bin']).toBeUndefined(); // a symlink in the image
    expect(m['/etc/ssl']).toEqual({ source: '/etc/ssl', ro: true, recursive: false });
    expect(m['/etc/passwd']?.source).toBe('/state/sbx/etc/passwd');
    expect(m['/etc/group']?.source).toBe('/state/sbx/etc/group');
    expect(m['/etc/hosts']?.source).toBe('/state/etc/hosts');
    expect(m['/etc/resolv.conf']?.source).toBe('/state/etc/resolv.conf');
    expect(m[SANDBOX_AGENT_PATH]).toEqual({ source: '/state/bin/warden-agent', ro: true, recursive: false });
    expect(m[SANDBOX_LAUNCHER_PATH]?.ro).toBe(true);
    expect(m[SANDBOX_SECCOMP_PATH]?.ro).toBe(true);
    expect(m[SANDBOX_WORKSPACE]).toEqual({ source: '/data/ws/sbx_aaaaaaaaaaaa', ro: false, recursive: true });
    // Every mount but the workspace is read-only.
    expect(Object.entries(m).filter(([, v]) => !v.ro).map(([t]) => t)).toEqual([SANDBOX_WORKSPACE]);
  });

  it('a caller’s image gets the agent, the workspace and Warden’s hosts/resolv.conf only', () => {
    const s = containerSpec({ ...base, root: { kind: 'image', image: 'python:3.12' } });
    expect(s.Image).toBe('python:3.12');
    expect(Object.keys(targets(s)).sort()).toEqual(['/.warden/agent', '/.warden/launch', '/.warden/seccomp.bpf', '/etc/hosts', '/etc/resolv.conf', '/workspace']);
  });

  it('without an egress directory: no /.warden/net and no relay (no network at all)', () => {
    const s = containerSpec(base);
    expect(targets(s)[SANDBOX_NET_DIR]).toBeUndefined();
    expect(s.Entrypoint).not.toContain('--relay');
  });

  it.each([
    ['base image', base],
    ['caller’s image', { ...base, root: { kind: 'image', image: 'python:3.12' } } satisfies ContainerPlanInput],
  ])('with an egress directory (%s): bound read-only at /.warden/net, the agent relays 127.0.0.1:3128 to its socket', (_what, plan) => {
    const s = containerSpec({ ...plan, egressHostPath: '/data/run/eng/net/sbx_aaaaaaaaaaaa' });
    expect(SANDBOX_NET_DIR).toBe('/.warden/net');
    expect(targets(s)[SANDBOX_NET_DIR]).toEqual({ source: '/data/run/eng/net/sbx_aaaaaaaaaaaa', ro: true, recursive: false });
    // The relay is the agent's argument, after the launcher's `--`; the network itself stays none.
    expect(s.Entrypoint).toEqual([SANDBOX_LAUNCHER_PATH, '--no-pdeathsig', '--seccomp', SANDBOX_SECCOMP_PATH, '--', SANDBOX_AGENT_PATH, '--relay', '3128:/.warden/net/proxy.sock']);
    expect(s.HostConfig.NetworkMode).toBe('none');
    expect(s.NetworkDisabled).toBe(true);
    expect(Object.entries(targets(s)).filter(([, v]) => !v.ro).map(([t]) => t)).toEqual([SANDBOX_WORKSPACE]);
  });

  it('masks what identifies the host and keeps Docker’s default masks', () => {
    const s = containerSpec(base);
    for (const p of ['/proc/kcore', '/proc/keys', '/sys/firmware', '/proc/cmdline', '/proc/sys/kernel/random/boot_id', '/sys']) expect(s.HostConfig.MaskedPaths).toContain(p);
    expect(s.HostConfig.MaskedPaths).toEqual([...MASKED_PATHS]);
    expect(s.HostConfig.ReadonlyPaths).toContain('/proc/sys');
  });

  it('labels the container with its engine and sandbox, and names it after the sandbox', () => {
    const s = containerSpec(base);
    expect(s.Labels).toEqual({ [LABEL_ENGINE]: 'eng_bbbbbbbbbbbb', [LABEL_SANDBOX]: 'sbx_aaaaaaaaaaaa' });
    expect(s.name).toBe('warden-sbx_aaaaaaaaaaaa');
  });

  it.each([
    ['root uid', { uid: 0 }],
    ['root gid', { gid: 0 }],
    ['negative uid', { uid: -1 }],
    ['fractional gid', { gid: 1.5 }],
    ['absolute cgroup path', { cgroupPath: '/warden/x' }],
    ['cgroup path with ..', { cgroupPath: 'warden/../x' }],
  ])('refuses a %s', (_what, patch) => {
    expect(() => containerSpec({ ...base, ...patch })).toThrow(RangeError);
  });
});

describe('sandboxEtc', () => {
  it('names the sandbox’s host uid "sandbox", home /workspace', () => {
    const e = sandboxEtc(2_000_000_001, 2_000_000_002);
    expect(e.passwd.split('\n')).toContain('sandbox:x:2000000001:2000000002:sandbox:/workspace:/bin/sh');
    expect(e.group.split('\n')).toContain('sandbox:x:2000000002:');
    expect(e.passwd).toMatch(/^root:x:0:0:/);
  });
});
