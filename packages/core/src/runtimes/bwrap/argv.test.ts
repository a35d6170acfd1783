import { describe, expect, it } from 'vitest';
import { SANDBOX_WORKSPACE } from '../driver.js';
import {
  ETC_PASSTHROUGH,
  SANDBOX_AGENT_PATH,
  SANDBOX_INNER_ID,
  SECCOMP_FD,
  bwrapArgs,
  etcFiles,
  launcherArgs,
  type BwrapPlanInput,
  type LaunchPlanInput,
} from './argv.js';

const input: BwrapPlanInput = {
  hostname: 'sandbox',
  agentHostPath: '/opt/warden/agent/warden-agent',
  workspaceHostPath: '/var/lib/warden/ws/sbx_1',
  stageTmp: '/var/lib/warden/stage/sbx_1/tmp',
  stageShm: '/var/lib/warden/stage/sbx_1/shm',
  etcDir: '/var/lib/warden/etc',
  hostRoot: [
    { name: 'bin', symlinkTo: 'usr/bin' },
    { name: 'lib', symlinkTo: 'usr/lib' },
    { name: 'lib64', symlinkTo: 'usr/lib64' },
    { name: 'sbin' },
  ],
  procMasked: ['/proc/cmdline', '/proc/sys/kernel/random/boot_id'],
};

/** bwrap options and how many arguments each takes (bwrap(1)). */
const ARITY: Record<string, number> = {
  '--unshare-all': 0, '--share-net': 0, '--unshare-user': 0, '--unshare-pid': 0, '--unshare-net': 0, '--unshare-ipc': 0,
  '--unshare-uts': 0, '--unshare-cgroup': 0, '--die-with-parent': 0, '--new-session': 0, '--as-pid-1': 0, '--clearenv': 0,
  '--cap-drop': 1, '--cap-add': 1, '--uid': 1, '--gid': 1, '--hostname': 1, '--dir': 1, '--proc': 1, '--dev': 1,
  '--tmpfs': 1, '--mqueue': 1, '--remount-ro': 1, '--seccomp': 1, '--chdir': 1, '--unsetenv': 1,
  '--bind': 2, '--bind-try': 2, '--ro-bind': 2, '--ro-bind-try': 2, '--dev-bind': 2, '--dev-bind-try': 2,
  '--symlink': 2, '--setenv': 2,
};

interface Op {
  readonly opt: string;
  readonly args: readonly string[];
}

/** Splits bwrap argv into options and the command; throws on anything unknown or short. */
function parseBwrap(argv: readonly string[]): { ops: Op[]; command: string[] } {
  const ops: Op[] = [];
  for (let i = 0; i < argv.length; ) {
    const opt = argv[i]!;
    if (opt === '--') return { ops, command: argv.slice(i + 1) };
    const n = ARITY[opt];
    if (n === undefined) throw new Error(`unknown bwrap option ${opt} at ${i}`);
    const args = argv.slice(i + 1, i + 1 + n);
    if (args.length !== n || args.some((a) => a.startsWith('--'))) throw new Error(`${opt} at ${i} is missing arguments`);
    ops.push({ opt, args });
    i += 1 + n;
  }
  throw new Error('no -- before the command');
}

const BIND_OPTS = ['--bind', '--bind-try', '--ro-bind', '--ro-bind-try', '--dev-bind', '--dev-bind-try'];
const MOUNT_OPTS = [...BIND_OPTS, '--symlink', '--dir', '--proc', '--dev', '--tmpfs', '--mqueue'];

describe('bwrapArgs', () => {
  const argv = bwrapArgs(input);
  const { ops, command } = parseBwrap(argv);
  const has = (opt: string, ...args: string[]): boolean => ops.some((o) => o.opt === opt && args.every((a, i) => o.args[i] === a));
  const binds = ops.filter((o) => BIND_OPTS.includes(o.opt));

  it('is well formed: known options with all their arguments, then the agent as the only command', () => {
    expect(command).toEqual([SANDBOX_AGENT_PATH]);
    expect(argv.at(-1)).toBe(SANDBOX_AGENT_PATH);
  });

  it.each([
    ['--unshare-all'],
    ['--die-with-parent'],
    ['--new-session'],
    ['--as-pid-1'],
    ['--clearenv'],
    ['--cap-drop', 'ALL'],
    ['--remount-ro', '/'],
    ['--seccomp', String(SECCOMP_FD)],
    ['--uid', String(SANDBOX_INNER_ID)],
    ['--gid', String(SANDBOX_INNER_ID)],
    ['--chdir', SANDBOX_WORKSPACE],
    ['--hostname', 'sandbox'],
  ])('contains the deny-all flag %s %s', (opt, ...args) => {
    expect(has(opt, ...args)).toBe(true);
  });

  it('passes the seccomp filter on fd 3', () => {
    expect(SECCOMP_FD).toBe(3);
  });

  it('adds nothing that weakens the profile: no shared network, capabilities, env or device binds', () => {
    for (const opt of ['--share-net', '--cap-add', '--setenv', '--dev-bind', '--dev-bind-try']) expect(ops.map((o) => o.opt)).not.toContain(opt);
  });

  it('never binds /, /home or /root from the host, and never mounts over / itself', () => {
    for (const { opt, args } of binds) {
      const [src, dest] = args;
      expect(src, `${opt} ${args.join(' ')}`).not.toBe('/');
      expect(src).not.toMatch(/^\/(home|root)(\/|$)/);
      expect(dest).not.toBe('/');
      expect(dest).not.toMatch(/^\/(home|root)(\/|$)/);
    }
    expect(binds.some((o) => o.args[0] === '/etc')).toBe(false);
  });

  it('makes only the private /tmp, /dev/shm and the workspace writable', () => {
    const writable = binds.filter((o) => !o.opt.startsWith('--ro-')).map((o) => o.args);
    expect(writable).toEqual([
      [input.stageTmp, '/tmp'],
      [input.stageShm, '/dev/shm'],
      [input.workspaceHostPath, SANDBOX_WORKSPACE],
    ]);
  });

  it('binds /usr, the host root entries and the agent read-only', () => {
    expect(has('--ro-bind', '/usr', '/usr')).toBe(true);
    expect(has('--symlink', 'usr/bin', '/bin')).toBe(true);
    expect(has('--symlink', 'usr/lib64', '/lib64')).toBe(true);
    expect(has('--ro-bind', '/sbin', '/sbin')).toBe(true);
    expect(has('--ro-bind', input.agentHostPath, SANDBOX_AGENT_PATH)).toBe(true);
  });

  it('builds /etc from a few harmless host files and Warden’s own passwd, group and hosts', () => {
    expect(has('--dir', '/etc')).toBe(true);
    for (const f of ETC_PASSTHROUGH) expect(has('--ro-bind-try', f, f), f).toBe(true);
    for (const f of ['passwd', 'group', 'hosts']) expect(has('--ro-bind', `${input.etcDir}/${f}`, `/etc/${f}`), f).toBe(true);
    const fromHostEtc = binds.filter((o) => o.args[0]!.startsWith('/etc'));
    expect(fromHostEtc.map((o) => o.args[0]).sort()).toEqual([...ETC_PASSTHROUGH].sort());
  });

  it('masks host-identifying /proc files after mounting /proc', () => {
    const procAt = ops.findIndex((o) => o.opt === '--proc' && o.args[0] === '/proc');
    expect(procAt).toBeGreaterThanOrEqual(0);
    for (const f of input.procMasked) {
      const at = ops.findIndex((o) => o.opt === '--ro-bind' && o.args[0] === '/dev/null' && o.args[1] === f);
      expect(at, f).toBeGreaterThan(procAt);
    }
  });

  it('remounts / read-only after every mount, so nothing is created on a read-only root', () => {
    const remountAt = ops.findIndex((o) => o.opt === '--remount-ro');
    const lastMount = ops.reduce((last, o, i) => (MOUNT_OPTS.includes(o.opt) ? i : last), -1);
    expect(remountAt).toBeGreaterThan(lastMount);
  });

  it('mounts nothing for host root entries that are absent', () => {
    const bare = parseBwrap(bwrapArgs({ ...input, hostRoot: [], procMasked: [] }));
    expect(bare.ops.filter((o) => o.opt === '--symlink')).toEqual([]);
    expect(bare.ops.some((o) => o.args[0] === '/dev/null')).toBe(false);
  });
});

describe('launcherArgs', () => {
  const launch: LaunchPlanInput = {
    cgroupProcsFiles: ['/sys/fs/cgroup/memory/warden/sbx_1/cgroup.procs', '/sys/fs/cgroup/pids/warden/sbx_1/cgroup.procs'],
    stageTmp: input.stageTmp,
    stageShm: input.stageShm,
    tmpBytes: 64 * 1024 * 1024,
    tmpInodes: 16384,
    uid: 200_001,
    gid: 200_001,
    nofile: 1024,
    fileSizeBytes: 1024 * 1024 * 1024,
    bwrapPath: '/usr/bin/bwrap',
  };
  const bwrap = bwrapArgs(input);
  const argv = launcherArgs(launch, bwrap);
  const options = argv.slice(0, argv.indexOf('--'));
  const pairs = (flag: string): string[] => options.flatMap((a, i) => (a === flag ? [options[i + 1]!] : []));

  it('joins every cgroup before anything else runs', () => {
    expect(pairs('--cgroup')).toEqual(launch.cgroupProcsFiles);
  });

  it('drops to the sandbox uid and gid', () => {
    expect(pairs('--uid')).toEqual(['200001']);
    expect(pairs('--gid')).toEqual(['200001']);
  });

  it('mounts size- and inode-capped tmpfs on both staging dirs', () => {
    expect(pairs('--tmpfs')).toEqual([`${input.stageTmp}:67108864:16384:1777`, `${input.stageShm}:67108864:16384:1777`]);
  });

  it('sets hard and soft rlimits for open files and file size, and disables core dumps', () => {
    expect(pairs('--rlimit')).toEqual(['nofile:1024:1024', 'fsize:1073741824:1073741824', 'core:0:0']);
  });

  it('ends with -- and the bwrap command, untouched', () => {
    expect(argv.slice(argv.indexOf('--') + 1)).toEqual([launch.bwrapPath, ...bwrap]);
    // Launcher options come in flag/value pairs only.
    expect(options.length % 2).toBe(0);
    for (let i = 0; i < options.length; i += 2) expect(['--cgroup', '--uid', '--gid', '--tmpfs', '--rlimit']).toContain(options[i]);
  });
});

describe('etcFiles', () => {
  const etc = etcFiles();

  it('knows only root, the sandbox user and nobody; the sandbox user lives in the workspace', () => {
    const users = etc.passwd.trim().split('\n').map((l) => l.split(':'));
    expect(users.map((u) => u[0])).toEqual(['root', 'sandbox', 'nobody']);
    expect(users[1]).toEqual(['sandbox', 'x', String(SANDBOX_INNER_ID), String(SANDBOX_INNER_ID), 'sandbox', SANDBOX_WORKSPACE, '/bin/sh']);
    expect(etc.group).toContain(`sandbox:x:${SANDBOX_INNER_ID}:`);
  });

  it('resolves localhost and nothing else', () => {
    const names = etc.hosts.trim().split('\n').flatMap((l) => l.split(/\s+/).slice(1));
    expect(new Set(names)).toEqual(new Set(['localhost', 'ip6-localhost', 'ip6-loopback']));
  });
});
