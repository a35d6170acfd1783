/**
 * What only the gVisor runtime does, checked on the host: the sandbox really
 * runs on gVisor's kernel, its files are its host uid's, runsc makes no
 * cgroups of its own, and nothing of it (process, runsc state, bundle, mount)
 * outlives a kill, nor the death of the Warden process that started it.
 * Skips, saying so, only where runsc is not installed (scripts/setup.sh installs it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { recoverDataDir } from '../../packages/core/src/recovery/recover.js';
import { eventually, exists, gvisorPids, tempDir, testEngine, type TestEngine } from '../helpers/host.js';

const RUNSC = '/usr/bin/runsc';
const installed = existsSync(RUNSC);
if (!installed) console.warn(`runtime-gvisor: skipped, ${RUNSC} is not installed (apt-get install -y runsc, or run scripts/setup.sh)`);

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CRASH_FIXTURE = fileURLToPath(new URL('../fixtures/crash-gvisor-engine.ts', import.meta.url));

/** Host pids whose command line has `word` as one of its arguments (runsc run, its gofer and sentry name the sandbox). */
async function hostPidsNaming(word: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.some((a) => a === word || a.endsWith(`/${word}`))) out.push(Number(name));
  }
  return out;
}

/** True while a host pid runs (a zombie does not). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}

/** Everything runsc keeps for a sandbox under the engine's state dir. */
async function runscLeftovers(stateDir: string, sandboxId: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(`${stateDir}/gvisor/runsc`).catch(() => [] as string[])) if (name.includes(sandboxId)) found.push(`runsc state ${name}`);
  if (await exists(`${stateDir}/gvisor/bundles/${sandboxId}`)) found.push(`bundle ${sandboxId}`);
  return found;
}

describe.runIf(installed)('the gVisor runtime', () => {
  let t: TestEngine;
  let sbx: Sandbox;

  beforeAll(async () => {
    t = await testEngine({ runtime: 'gvisor' });
    sbx = await t.engine.create();
  });

  afterAll(async () => {
    await t?.[Symbol.asyncDispose]();
  });

  it("runs the sandbox on gVisor's kernel, not the host's", async () => {
    const r = await sbx.exec(['sh', '-c', 'cat /proc/version; dmesg 2>&1 | head -1'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    const [version, dmesg] = r.stdout.split('\n');
    // The kernel gVisor emulates (this release says 4.4.0); twin: the host's kernel says something else.
    expect(version).toMatch(/^Linux version 4\.4\.0 /);
    expect(version).not.toBe((await readFile('/proc/version', 'utf8')).trim());
    // Its log is refused like under bwrap (syslog is on Warden's denylist), not the host's kernel log.
    expect(dmesg).toMatch(/Operation not permitted/);
  });

  it('runs as the unprivileged sandbox user, and what it creates on the host is its host uid’s', async () => {
    await using host = await tempDir('warden-gvisor-own-');
    await chmod(host.path, 0o755);
    await using own = await t.engine.create({ workspace: { hostPath: host.path } });
    const r = await own.exec(['sh', '-c', 'id -u; id -g; echo hi > made.txt; mkdir dir; echo x > /tmp/t; stat -c %u /tmp/t'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: '1000\n1000\n1000\n' });
    const uid = own.info().hostUid;
    for (const name of ['made.txt', 'dir']) {
      const st = await stat(join(host.path, name));
      expect({ name, uid: st.uid, gid: st.gid }).toEqual({ name, uid, gid: uid });
    }
    // And in the engine's own workspace of a plain sandbox.
    await sbx.exec(['sh', '-c', 'echo x > /workspace/plain.txt']);
    const plain = await stat(join(t.engine.stateDir, 'ws', sbx.id, 'plain.txt'));
    expect([plain.uid, plain.gid]).toEqual([sbx.info().hostUid, sbx.info().hostUid]);
  });

  it('makes no cgroup of its own: every host process of the sandbox is in the sandbox cgroup the engine made', async () => {
    await using s = await t.engine.create();
    s.spawn(['sleep', '600']);
    await eventually(async () => (await gvisorPids(t.engine, s)).length >= 2, 5000, 'the sleeper');
    const named = await hostPidsNaming(s.id); // runsc run, gofer, sentry
    expect(named.length).toBeGreaterThanOrEqual(3);
    for (const pid of named) {
      const cg = await readFile(`/proc/${pid}/cgroup`, 'utf8');
      for (const controller of ['memory', 'pids', 'cpu']) expect(cg, `pid ${pid}`).toMatch(new RegExp(`:${controller}[^:]*:/warden/${t.engine.id}/${s.id}$`, 'm'));
    }
    // Nothing below the sandbox cgroup, and no cgroup anywhere else named after the sandbox.
    for (const d of t.engine.cgroupDirs) {
      expect((await readdir(`${d}/${s.id}`, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([]);
    }
    for (const mount of await readdir('/sys/fs/cgroup')) {
      expect(await exists(`/sys/fs/cgroup/${mount}/${s.id}`), mount).toBe(false);
    }
  });

  it('kill() leaves no runsc, gofer, sentry or stub process, no runsc state, no bundle and no mount', async () => {
    const s = await t.engine.create();
    s.spawn(['sh', '-c', 'sleep 600 & sleep 600']);
    await eventually(async () => (await gvisorPids(t.engine, s)).length >= 4, 5000, 'the agent, sh and two sleeps');
    expect((await runscLeftovers(t.engine.stateDir, s.id)).length).toBeGreaterThan(0); // the oracle sees them while it runs
    const named = await hostPidsNaming(s.id);
    const pidsDir = t.engine.cgroupDirs.find((d) => d.includes('/pids/')) ?? t.engine.cgroupDirs[0];
    const all = (await readFile(`${pidsDir}/${s.id}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(all.length).toBeGreaterThan(named.length); // the stubs too

    await Promise.all([s.kill(), s.kill()]);

    for (const pid of all) expect(await running(pid), `host pid ${pid}`).toBe(false);
    expect(await hostPidsNaming(s.id)).toEqual([]);
    expect(await runscLeftovers(t.engine.stateDir, s.id)).toEqual([]);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(t.engine.stateDir);
    await s.kill(); // idempotent
  });

  it('an aborted command has its whole tree killed (the kill-tree test)', async () => {
    const ac = new AbortController();
    const p = sbx.spawn(['sh', '-c', 'sleep 600 & sleep 600'], { signal: ac.signal });
    await eventually(async () => (await gvisorPids(t.engine, sbx)).length >= 4, 5000, 'the agent, sh and two sleeps');
    ac.abort();
    expect(await p.wait()).toMatchObject({ reason: 'aborted' });
    await eventually(async () => (await gvisorPids(t.engine, sbx)).length === 1, 5000, 'only the agent left');
  });
});

describe.runIf(installed)('the death of the Warden process', () => {
  it('takes its gVisor sandboxes with it (PDEATHSIG on runsc, --attached sentry), and recovery removes their state', async () => {
    await using root = await tempDir('warden-gvisor-crash-');
    await chmod(root.path, 0o711);
    const dataDir = `${root.path}/data`;
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_FIXTURE, dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const early = once(child, 'exit').then(([code, sig]) => {
        throw new Error(`crash fixture exited early (${String(code ?? sig)}): ${stderr}`);
      });
      const [line] = (await Promise.race([once(createInterface({ input: child.stdout }), 'line'), early])) as [string];
      early.catch(() => undefined);
      const crashed = JSON.parse(line) as { stateDir: string; cgroupDirs: string[]; sandboxId: string; hostPids: number[] };
      expect(crashed.hostPids.length).toBeGreaterThanOrEqual(5); // runsc, gofer, sentry, stubs

      child.kill('SIGKILL');
      await once(child, 'exit');

      // Without any recovery: the processes die with their parent.
      await eventually(async () => !(await Promise.all(crashed.hostPids.map(running))).some(Boolean), 5000, 'every gVisor process to die with Warden');
      expect(await hostPidsNaming(crashed.sandboxId)).toEqual([]);
      // Recovery then removes the cgroups and the state dir, runsc's state and bundles with it.
      const report = await recoverDataDir(dataDir, { minAgeMs: 0, timeoutMs: 10_000 });
      expect(report.engines[0]?.errors).toEqual([]);
      for (const d of crashed.cgroupDirs) expect(await exists(d), d).toBe(false);
      expect(await exists(crashed.stateDir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
