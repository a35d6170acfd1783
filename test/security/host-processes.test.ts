/**
 * Threat: sandboxed code sees host processes (their command lines leak
 * secrets) or signals them. The host process runs as the sandbox's own host
 * uid, so only the pid namespace stands between them: permissions alone
 * would let the signal through.
 * Oracle: the host process is still alive. Twin: the same probes find and
 * kill a process inside the sandbox.
 */
import { describe, expect, it } from 'vitest';
import { hostAlive, startOnHost, token, useEngine } from './harness.js';

const h = useEngine();

/** A sleep whose argument is a unique marker (a number sleep accepts). */
const markedSleep = (): string[] => ['/usr/bin/sleep', `${600 + Number.parseInt(token('').slice(1, 9), 16) / 2 ** 32}`];

/** Lists pids whose command line contains $1. */
const FIND =
  'for f in /proc/[0-9]*/cmdline; do [ "$f" = "/proc/$$/cmdline" ] && continue; tr "\\0" " " < "$f" 2>/dev/null | grep -qF -e "$1" && echo "${f#/proc/}"; done; true';

describe('host processes are invisible and unsignalable from a sandbox', () => {
  it('does not see a host process of its own host uid in /proc', async () => {
    await using sbx = await h.create();
    const argv = markedSleep();
    await using host = await startOnHost(argv, { uid: sbx.info().hostUid });

    const r = await sbx.exec(['sh', '-c', FIND, 'sh', argv[1]!], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    const pid = await sbx.exec(['test', '-e', `/proc/${host.pid}`], { timeoutMs: 10_000 });
    expect(pid.reason).toBe('exited');
    expect(pid.exitCode).toBe(1);
    expect(await hostAlive(host.pid)).toBe(true);
  });

  it('cannot kill a host process of its own host uid, by pid or with kill(-1)', async () => {
    await using sbx = await h.create();
    await using host = await startOnHost(markedSleep(), { uid: sbx.info().hostUid });

    const r = await sbx.exec(['kill', '-9', String(host.pid)], { timeoutMs: 10_000 });
    expect(r.reason).toBe('exited');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/No such process/);

    // kill(-1, SIGKILL) hits every process the caller may signal but itself:
    // it does kill the sandbox's own background sleep (status 137).
    const all = await sbx.exec(['sh', '-c', 'sleep 600 & kill -9 -1; wait $!; echo "status $?"'], { timeoutMs: 10_000 });
    expect(all.reason).toBe('exited');
    expect(all.exitCode).toBe(0);
    expect(all.stdout).toBe('status 137\n');

    expect(await hostAlive(host.pid)).toBe(true);
    expect(host.child.exitCode).toBeNull();
    expect(host.child.signalCode).toBeNull();
  });

  it('twin: the same probes find and kill a process inside the sandbox', async () => {
    await using sbx = await h.create();
    const argv = markedSleep();
    const inside = sbx.spawn(['sleep', argv[1]!]);
    const pid = await inside.started();

    const found = await sbx.exec(['sh', '-c', FIND, 'sh', argv[1]!], { timeoutMs: 10_000 });
    expect(found.reason).toBe('exited');
    expect(found.exitCode).toBe(0);
    expect(
      found.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace('/cmdline', '')),
    ).toEqual([String(pid)]);

    const k = await sbx.exec(['kill', '-9', String(pid)], { timeoutMs: 10_000 });
    expect(k.reason).toBe('exited');
    expect(k.exitCode).toBe(0);
    const r = await inside.wait();
    expect(r.reason).toBe('signaled');
    expect(r.signal).toBe('SIGKILL');
  });
});
