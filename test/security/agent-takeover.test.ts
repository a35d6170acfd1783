/**
 * Threat: sandboxed code runs as the same uid as the in-sandbox agent (PID 1)
 * and tries to take it over: read its memory, grab its control descriptors to
 * forge protocol frames to the server, or kill it.
 * Oracle: the agent keeps answering the host, and its descriptors stay
 * closed to the sandbox. Twin: the same probes work on an ordinary sibling
 * process of the same uid.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../helpers/host.js';
import { useEngine } from './harness.js';

const h = useEngine();

/** Tries each way into process $1; prints one "name ok|fail" line each. */
const PROBE = [
  'p=$1',
  'try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name ok"; else echo "$name fail"; fi; }',
  'try maps head -c1 /proc/$p/maps',
  'try mem dd if=/proc/$p/mem bs=1 count=0', // opening it is the step that must fail
  'try fds ls /proc/$p/fd',
  'try fd1 sh -c "printf x > /proc/$p/fd/1"',
  'try root ls /proc/$p/root/',
  'try environ head -c1 /proc/$p/environ',
].join('\n');

describe('the agent cannot be taken over from inside', () => {
  it("cannot read the agent's memory, environment or root, nor write to its control pipe", async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['sh', '-c', PROBE, 'sh', '1'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    if (testRuntime() === 'gvisor') {
      // gVisor's /proc lets a process of the same uid list a non-dumpable process's maps, descriptors
      // and (empty) environment, but not open its memory, root or descriptors.
      expect(r.stdout).toBe('maps ok\nmem fail\nfds ok\nfd1 fail\nroot fail\nenviron ok\n');
      expect((await sbx.exec(['cat', '/proc/1/environ'])).stdout).toBe('HOME=/workspace\0'); // what runsc gives an empty environment
    } else {
      expect(r.stdout).toBe('maps fail\nmem fail\nfds fail\nfd1 fail\nroot fail\nenviron fail\n');
    }
    await sbx.ping(5000); // the agent still answers the host
  });

  it('twin: the same probes get into an ordinary sibling process', async () => {
    await using sbx = await h.create();
    const sibling = sbx.spawn(['sleep', '600']);
    const pid = await sibling.started();

    const r = await sbx.exec(['sh', '-c', PROBE, 'sh', String(pid)], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    // gVisor opens no process's memory or root for another, sibling or not.
    expect(r.stdout).toBe(testRuntime() === 'gvisor' ? 'maps ok\nmem fail\nfds ok\nfd1 ok\nroot fail\nenviron ok\n' : 'maps ok\nmem ok\nfds ok\nfd1 ok\nroot ok\nenviron ok\n');
    sibling.kill();
    expect((await sibling.wait()).reason).toBe('signaled');
  });

  it('kill -9 1 from inside does not kill the agent', async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['sh', '-c', 'kill -9 1; echo "status $?"'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    // Delivered, and ignored: PID 1 has no handler for it (gVisor, which would not ignore it: refused, EPERM).
    expect(r.stdout).toBe(testRuntime() === 'gvisor' ? 'status 1\n' : 'status 0\n');
    await sbx.ping(5000);
    const after = await sbx.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout).toBe('alive\n');
    expect(sbx.state).toBe('running');
  });
});
