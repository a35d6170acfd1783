/**
 * Threat: the server's environment (API keys, tokens) leaks into a sandbox,
 * through the environment of its processes or /proc/<pid>/environ.
 * Oracle: the secret is in the host process's environment, and absent from
 * every view inside and from the host's view of every sandbox process.
 * Twin: the same probes see a variable passed through spec.env.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { eventually, processesOwnedBy, testRuntime } from '../helpers/host.js';
import { hostPidsMatching, sandboxHostPids, token, useEngine } from './harness.js';

// Set before the engine exists, as a server's environment would be.
const SECRET = token('server-secret');
process.env.WARDEN_TEST_SECRET = SECRET;
const h = useEngine();

/** Prints the environment of every process the sandbox can see, then its own. */
const ALL_ENVIRON = 'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null; done; echo; env';

describe('the server environment is invisible inside a sandbox', () => {
  it('env and /proc/*/environ show the spec.env variable but not the server secret', async () => {
    expect(process.env.WARDEN_TEST_SECRET).toBe(SECRET);
    const twin = token('spec-env');
    await using sbx = await h.create({ env: { WARDEN_TWIN: twin } });
    // A second process to read the environ of (the agent's own is unreadable by design).
    const sleeper = sbx.spawn(['sleep', '600']);
    await sleeper.started();

    const r = await sbx.exec(['sh', '-c', ALL_ENVIRON], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.includes(SECRET)).toBe(false);
    expect(r.stdout).not.toMatch(/WARDEN_TEST_SECRET/);
    // Twin: the probe does see environments: the spec's variable, twice (the sleeper's environ and env).
    expect(r.stdout.split('\n').filter((l) => l === `WARDEN_TWIN=${twin}`).length).toBeGreaterThanOrEqual(2);
    sleeper.kill();
    expect((await sleeper.wait()).reason).toBe('signaled');
  });

  it("/proc/1/environ (the agent's) is unreadable and holds no secret", async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['cat', '/proc/1/environ'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    if (testRuntime() === 'gvisor') {
      // gVisor's /proc shows it (it ignores the agent being non-dumpable): only what runsc gives an empty environment.
      expect(r.stdout).toBe('HOME=/workspace\0');
      return;
    }
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(r.stdout).toBe('');
  });

  it('the host view of every sandbox process (launcher, bwrap, agent, children) holds no secret', async () => {
    const twin = token('spec-env');
    await using sbx = await h.create({ env: { WARDEN_TWIN: twin } });
    const uid = sbx.info().hostUid;
    const sleeper = sbx.spawn(['sleep', '600']);
    await sleeper.started();
    const gvisor = testRuntime() === 'gvisor';
    let pids: number[] = [];
    // gVisor: the sandbox's processes live in its kernel; its host processes (runsc, gofer, sentry, stubs) are in its cgroup.
    if (!gvisor) await eventually(async () => (pids = await hostPidsMatching(uid, 'sleep 600')).length === 1, 5000, 'the sleeper on the host');

    const all = gvisor ? await sandboxHostPids(h.engine, sbx) : await processesOwnedBy(new Set([uid]));
    expect(all.length).toBeGreaterThanOrEqual(testRuntime() === 'docker' ? 2 : 3); // bwrap, the agent, sleep (docker: no bwrap; gvisor: runsc, gofer, sentry, stubs)
    for (const pid of all) {
      // (gvisor: a ptrace stub may be gone meanwhile)
      const environ = gvisor ? await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '') : await readFile(`/proc/${pid}/environ`, 'utf8');
      expect(environ.includes(SECRET), `host pid ${pid}`).toBe(false);
    }
    // Twin: the host does see the spec's variable in the sleeper's environ (gvisor: only inside, where the first test looks).
    if (!gvisor) expect((await readFile(`/proc/${pids[0]!}/environ`, 'utf8')).split('\0')).toContain(`WARDEN_TWIN=${twin}`);
    // And this oracle would see a leak: a host child that inherits the server's environment shows it.
    const leaky = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
    try {
      await eventually(async () => (await readFile(`/proc/${leaky.pid!}/cmdline`, 'utf8').catch(() => '')).startsWith('/usr/bin/sleep'), 5000, 'host sleep');
      expect((await readFile(`/proc/${leaky.pid!}/environ`, 'utf8')).split('\0')).toContain(`WARDEN_TEST_SECRET=${SECRET}`);
    } finally {
      leaky.kill('SIGKILL');
    }
    sleeper.kill();
    await sleeper.wait();
  });
});
