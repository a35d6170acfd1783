/**
 * Threat: one tenant's sandbox sees, signals or reads another's — in the same
 * engine, where both share the staging directories their /tmp and /dev/shm
 * are mounted on.
 * Oracle: the victim's process is still alive on the host and its files are
 * intact. Twin: the victim's own probes find its process, kill it and read
 * its files.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sandboxProcessAlive, testRuntime } from '../helpers/host.js';
import { hostAlive, hostPidsMatching, sandboxHostPids, token, useEngine } from './harness.js';

const h = useEngine();

/** Prints the pids (other than the probe's shell) whose command line contains $1. */
const FIND =
  'for f in /proc/[0-9]*/cmdline; do [ "$f" = "/proc/$$/cmdline" ] && continue; tr "\\0" " " < "$f" 2>/dev/null | grep -qF -e "$1" && echo "${f#/proc/}"; done; true';

/** A number `sleep` accepts that no other process has on its command line. */
const markedDuration = (): string => `${600 + Number.parseInt(token('').slice(1, 9), 16) / 2 ** 32}`;

/** Attaches SysV shared memory segment $1: prints attached, or the errno's name. */
const SHMAT = `
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
r = libc.shmat(int(sys.argv[1]), None, 0)
print('attached' if r not in (None, ctypes.c_void_p(-1).value) else errno.errorcode[ctypes.get_errno()])
`;

describe('sandboxes cannot reach each other', () => {
  it("cannot see or kill another sandbox's process; its owner can", async () => {
    await using victim = await h.create();
    await using attacker = await h.create();
    expect(attacker.info().hostUid).not.toBe(victim.info().hostUid);
    const marker = markedDuration();
    const sleeper = victim.spawn(['sleep', marker]);
    const innerPid = await sleeper.started();
    const gvisor = testRuntime() === 'gvisor';
    let hostPid = 0;
    // gVisor: the sleeper lives in the victim's kernel; the attacker aims at the victim's host processes instead
    // (runsc, gofer, sentry, stubs), and the victim's kernel says whether the sleeper lives.
    const victimHostPids = gvisor ? await sandboxHostPids(h.engine, victim) : [];
    const alive = async (): Promise<boolean> =>
      gvisor ? (await sandboxProcessAlive(h.engine, victim, innerPid)) && (await Promise.all(victimHostPids.map(hostAlive))).every(Boolean) : hostAlive(hostPid);
    if (!gvisor) {
      await eventually(
        async () => {
          const pids = await hostPidsMatching(victim.info().hostUid, marker);
          hostPid = pids[0] ?? 0;
          return pids.length === 1;
        },
        5000,
        'the sleeper on the host',
      );
    }

    const seen = await attacker.exec(['sh', '-c', FIND, 'sh', marker], { timeoutMs: 10_000 });
    expect(seen.reason).toBe('exited');
    expect(seen.exitCode).toBe(0);
    expect(seen.stdout).toBe('');

    const byHostPid = await attacker.exec(['kill', '-9', ...(gvisor ? victimHostPids.map(String) : [String(hostPid)])], { timeoutMs: 10_000 });
    expect(byHostPid.reason).toBe('exited');
    expect(byHostPid.exitCode).not.toBe(0);
    const everything = await attacker.exec(['sh', '-c', 'sleep 600 & kill -9 -1; wait $!; echo "status $?"'], { timeoutMs: 10_000 });
    expect(everything.reason).toBe('exited');
    expect(everything.stdout).toBe('status 137\n'); // kill(-1) worked, on the attacker's own processes
    expect(await alive()).toBe(true);

    // Twin: the victim's own probes find the sleeper and kill it.
    const own = await victim.exec(['sh', '-c', FIND, 'sh', marker], { timeoutMs: 10_000 });
    expect(own.stdout.trim().replace('/cmdline', '')).toBe(String(innerPid));
    const k = await victim.exec(['kill', '-9', String(innerPid)], { timeoutMs: 10_000 });
    expect(k.reason).toBe('exited');
    expect(k.exitCode).toBe(0);
    const r = await sleeper.wait();
    expect(r.reason).toBe('signaled');
    expect(r.signal).toBe('SIGKILL');
    await eventually(async () => !(gvisor ? await sandboxProcessAlive(h.engine, victim, innerPid) : await hostAlive(hostPid)), 5000, 'the sleeper to die on the host');
  });

  it("cannot read another sandbox's /tmp, /dev/shm or workspace, even though both mount on the same staging dirs", async () => {
    await using victim = await h.create();
    await using attacker = await h.create();
    const secret = token('tenant-secret');
    const write = await victim.exec(['sh', '-c', 'for d in /tmp /dev/shm /workspace; do echo "$1" > "$d/secret"; done; sleep 600 & echo $!', 'sh', secret], {
      timeoutMs: 10_000,
    });
    expect(write.reason).toBe('exited');
    expect(write.exitCode).toBe(0);
    let victimHostPid = 0;
    await eventually(
      async () => {
        // gVisor: no host process runs the sleeper; the victim's host processes hold its mounts.
        victimHostPid = (testRuntime() === 'gvisor' ? await sandboxHostPids(h.engine, victim) : await hostPidsMatching(victim.info().hostUid, 'sleep 600'))[0] ?? 0;
        return victimHostPid > 0;
      },
      5000,
      "the victim's sleeper on the host",
    );

    const paths = [
      '/tmp/secret',
      '/dev/shm/secret',
      '/workspace/secret',
      `/proc/${victimHostPid}/root/tmp/secret`,
      `/proc/${victimHostPid}/root/workspace/secret`,
    ];
    for (const p of paths) {
      const r = await attacker.exec(['cat', p], { timeoutMs: 10_000 });
      expect(r.reason, p).toBe('exited');
      expect(r.exitCode, p).not.toBe(0);
      expect(r.stdout.includes(secret), p).toBe(false);
    }
    // Twin: the victim reads its own.
    const own = await victim.exec(['cat', '/tmp/secret', '/dev/shm/secret', '/workspace/secret'], { timeoutMs: 10_000 });
    expect(own.reason).toBe('exited');
    expect(own.exitCode).toBe(0);
    expect(own.stdout).toBe(`${secret}\n`.repeat(3));
  });

  it("cannot reach another sandbox's abstract unix socket or SysV IPC objects", async () => {
    await using victim = await h.create();
    await using attacker = await h.create();
    const name = token('abstract');
    const serve = `
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind('\\0' + sys.argv[1]); s.listen(); print('ready', flush=True)
c, _ = s.accept(); c.sendall(b'pong'); c.close()
`;
    const connectProbe = `
import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\0' + sys.argv[1]); print('connected', s.recv(16).decode())
except OSError as e:
    print(errno.errorcode[e.errno])
`;
    let out = '';
    const server = victim.spawn(['python3', '-c', serve, name], { onStdout: (b) => (out += b.toString()) });
    await eventually(() => out.includes('ready'), 10_000, "the victim's server to listen");
    const shm = await victim.exec(['ipcmk', '-M', '4096'], { timeoutMs: 10_000 });
    expect(shm.reason).toBe('exited');
    expect(shm.exitCode).toBe(0);
    const shmid = /(\d+)/.exec(shm.stdout)?.[1];
    expect(shmid).toBeDefined();

    const conn = await attacker.exec(['python3', '-c', connectProbe, name], { timeoutMs: 10_000 });
    expect(conn.reason).toBe('exited');
    expect(conn.exitCode).toBe(0);
    expect(conn.stdout).toBe('ECONNREFUSED\n');
    const ipcs = await attacker.exec(['ipcs', '-m'], { timeoutMs: 10_000 });
    expect(ipcs.reason).toBe('exited');
    expect(ipcs.exitCode).toBe(0);
    expect(ipcs.stdout).not.toMatch(/^0x/m); // no segment at all
    // gVisor has no /proc/sysvipc, so ipcs lists nothing anywhere: attaching the segment by id is the probe there.
    const gvisor = testRuntime() === 'gvisor';
    if (gvisor) expect((await attacker.exec(['python3', '-c', SHMAT, shmid!], { timeoutMs: 10_000 })).stdout).toBe('EINVAL\n');

    // Twin: the victim's own probes reach both.
    const own = await victim.exec(['python3', '-c', connectProbe, name], { timeoutMs: 10_000 });
    expect(own.stdout).toBe('connected pong\n');
    expect((await server.wait()).exitCode).toBe(0);
    const ownIpcs = await victim.exec(['ipcs', '-m'], { timeoutMs: 10_000 });
    expect(ownIpcs.exitCode).toBe(0);
    if (gvisor) expect((await victim.exec(['python3', '-c', SHMAT, shmid!], { timeoutMs: 10_000 })).stdout).toBe('attached\n');
    else expect(ownIpcs.stdout).toMatch(new RegExp(`^0x\\S+\\s+${shmid!}\\s`, 'm'));
  });
});
