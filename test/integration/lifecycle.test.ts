/** Sandbox and engine lifecycle: teardown leaves nothing, bad input leaves nothing. */
import { mkdir, readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '@warden/core';
import { hasCode } from '@warden/protocol';
import { eventually, exists, leftovers, processesOwnedBy, sandboxHostProcesses, tempDir, testEngine, testRuntime } from '../helpers/host.js';

/** gVisor: host processes whose command line names the sandbox (runsc run, gofer, sentry), and all their descendants. */
async function gvisorHostTree(sandboxId: string): Promise<number[]> {
  const parents = new Map<number, number>();
  const found = new Set<number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    if ((await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0').includes(sandboxId)) found.add(Number(name));
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (found.has(ppid) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

describe('teardown', () => {
  it('engine.close() leaves no process, cgroup, state dir or uid lease behind', async () => {
    await using t = await testEngine();
    const sandboxes = await Promise.all([1, 2, 3].map(() => t.engine.create()));
    const uids = sandboxes.map((s) => s.info().hostUid);
    // busy sandboxes: background and foreground work that would outlive a naive kill
    for (const s of sandboxes) {
      s.spawn(['sh', '-c', 'sleep 600 & (sleep 600 &); while :; do :; done']);
    }
    await eventually(async () => (await sandboxHostProcesses(t.engine, sandboxes)).length >= 9, 5000, 'busy sandboxes');
    for (const s of sandboxes) for (const d of t.engine.cgroupDirs) expect(await exists(join(d, s.id))).toBe(true);
    await t.engine.close();
    expect(await leftovers(t.engine, uids)).toEqual([]);
  });

  it('close() during in-flight creates waits for them, then tears them down too', async () => {
    await using t = await testEngine();
    const creating = [t.engine.create(), t.engine.create(), t.engine.create()];
    await t.engine.close();
    const made = await Promise.all(creating);
    expect(made.map((s) => s.info().state)).toEqual(['closed', 'closed', 'closed']);
    expect(await leftovers(t.engine, made.map((s) => s.info().hostUid))).toEqual([]);
  });

  it('kill() is idempotent, frees everything, and later calls say the sandbox is closed', async () => {
    await using t = await testEngine();
    const s = await t.engine.create();
    const uid = s.info().hostUid;
    const running = s.exec(['sleep', '600']);
    await Promise.all([s.kill(), s.kill()]);
    expect((await running).reason).toBe('sandbox-closed');
    expect(s.info().state).toBe('closed');
    expect(await processesOwnedBy(new Set([uid]))).toEqual([]);
    for (const d of t.engine.cgroupDirs) expect(await exists(join(d, s.id))).toBe(false);
    const err = await s.exec(['true']).catch((e: unknown) => e);
    expect(hasCode(err, 'E_SANDBOX_CLOSED')).toBe(true);
    expect(t.engine.list()).toEqual([]);
    expect(hasCode(await Promise.resolve().then(() => t.engine.get(s.id)).catch((e: unknown) => e), 'E_SANDBOX_NOT_FOUND')).toBe(true);
  });

  it('runs many sandboxes at once, each with its own uid', async () => {
    await using t = await testEngine();
    const sandboxes = await Promise.all(Array.from({ length: 16 }, (_, i) => t.engine.create({ metadata: { n: String(i) } })));
    const outs = await Promise.all(sandboxes.map((s, i) => s.exec(['sh', '-c', `echo ${i} > /workspace/f; cat /workspace/f; id -u`])));
    // docker has no user namespace: the sandbox user is its host uid
    outs.forEach((r, i) => expect(r.stdout).toBe(`${i}\n${testRuntime() === 'docker' ? sandboxes[i]!.info().hostUid : 1000}\n`));
    expect(new Set(sandboxes.map((s) => s.info().hostUid)).size).toBe(16);
    expect(t.engine.list().map((s) => s.metadata.n).sort()).toEqual(Array.from({ length: 16 }, (_, i) => String(i)).sort());
  });

  it('a sandbox past its TTL is killed and its commands end with sandbox-closed', async () => {
    await using t = await testEngine();
    const s = await t.engine.create({ limits: { ttlMs: 1000 } });
    const r = await s.exec(['sleep', '30']);
    expect(r.reason).toBe('sandbox-closed');
    expect(s.info()).toMatchObject({ state: 'closed', closedReason: 'ttl expired' });
    await eventually(() => t.engine.list().length === 0, 5000, 'sandbox removed');
  });

  it('if the agent dies, running commands end and the sandbox cleans up after itself', async () => {
    await using t = await testEngine();
    const s = await t.engine.create();
    const running = s.exec(['sleep', '600']);
    await eventually(async () => (await sandboxHostProcesses(t.engine, [s])).length >= 2, 5000, 'sleep running');
    for (const pid of await sandboxHostProcesses(t.engine, [s])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone: killing the agent ends the rest of the sandbox
      }
    }
    expect((await running).reason).toBe('sandbox-closed');
    await eventually(async () => {
      for (const d of t.engine.cgroupDirs) if (await exists(join(d, s.id))) return false;
      return t.engine.list().length === 0;
    }, 5000, 'cgroup removed');
  });

  it('every sandbox process is inside the sandbox cgroup, from the first instruction', async () => {
    await using t = await testEngine();
    const s = await t.engine.create();
    s.spawn(['sh', '-c', 'sleep 600 & sleep 600']);
    const uid = s.info().hostUid;
    if (testRuntime() === 'gvisor') {
      // Its host processes: runsc, its gofer and sentry (their command lines name the sandbox), and their children.
      await eventually(async () => (await gvisorHostTree(s.id)).length >= 7, 5000, 'runsc, gofer, sentry and the stubs of agent, sh and two sleeps');
    } else {
      await eventually(async () => (await processesOwnedBy(new Set([uid]))).length >= (testRuntime() === 'docker' ? 4 : 5), 5000, 'bwrap (not in a container), agent, sh and two sleeps');
    }
    for (const pid of testRuntime() === 'gvisor' ? await gvisorHostTree(s.id) : await processesOwnedBy(new Set([uid]))) {
      const cg = await readFile(`/proc/${pid}/cgroup`, 'utf8');
      for (const controller of ['memory', 'pids', 'cpu']) {
        expect(cg, `pid ${pid}`).toMatch(new RegExp(`:${controller}[^:]*:/warden/${t.engine.id}/${s.id}$`, 'm'));
      }
    }
  });

  it("caps the tasks of all the engine's sandboxes together at half the host's pid space", async () => {
    await using t = await testEngine();
    const pidsDir = t.engine.cgroupDirs.find((d) => /\/pids[^/]*\/warden\//.test(d)) ?? t.engine.cgroupDirs[0]!;
    const host = Math.min(Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim()), Number((await readFile('/proc/sys/kernel/threads-max', 'utf8')).trim()));
    expect(Number((await readFile(`${pidsDir}/pids.max`, 'utf8')).trim())).toBe(Math.max(1024, Math.floor(host / 2)));
  });

  it('await using disposes the sandbox', async () => {
    await using t = await testEngine();
    let uid = 0;
    {
      await using s = await t.engine.create();
      uid = s.info().hostUid;
      expect((await s.exec(['true'])).exitCode).toBe(0);
    }
    expect(await processesOwnedBy(new Set([uid]))).toEqual([]);
    expect(t.engine.list()).toEqual([]);
  });
});

describe('bad input leaves nothing behind', () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ['fractional memory', { limits: { memoryMb: 0.5 } }, /limits\.memoryMb must be an integer from 16/],
    ['negative pids', { limits: { pids: -1 } }, /limits\.pids must be an integer from 8/],
    ['absurd cpus', { limits: { cpus: 1e9 } }, /limits\.cpus must be a number from 0\.01 to 1024/],
    ['unknown limit', { limits: { memory: 5 } }, /unknown option "memory"/],
    ['unknown runtime', { runtime: 'firecracker' }, /runtime must be one of "bwrap", "gvisor", "docker"/],
    ['relative workspace', { workspace: { hostPath: 'src' } }, /workspace\.hostPath must be an absolute path/],
    ['bad env name', { env: { '1X': 'a' } }, /env has an invalid key "1X"/],
    ['not an object', 'bwrap', /expected an object/],
  ];

  it.each(invalid)('%s → E_INVALID_SPEC naming the field', async (_name, spec, message) => {
    await using t = await testEngine();
    const err = await t.engine.create(spec as never).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(await readdir(join(t.engine.stateDir, 'ws'))).toEqual([]);
    for (const d of t.engine.cgroupDirs) expect((await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory())).toEqual([]);
  });

  it('memory beyond the host is refused up front', async () => {
    await using t = await testEngine();
    const err = await t.engine.create({ limits: { memoryMb: 1_000_000 } }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toMatch(/more than this host's memory/);
  });

  it.runIf(testRuntime() !== 'docker')('an image on a runtime that runs none is refused naming the capability, and nothing starts', async () => {
    await using t = await testEngine();
    const err = await t.engine.create({ image: 'python:3.12' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_RUNTIME_UNSUPPORTED')).toBe(true);
    expect((err as { details: { capability: string } }).details.capability).toBe('images');
    expect((err as Error).message).toMatch(/--runtime docker/);
    expect(t.engine.list()).toEqual([]);
    // Twin: the same engine creates a sandbox once the image is dropped.
    await using s = await t.engine.create();
    expect((await s.exec(['true'])).exitCode).toBe(0);
  });

  it('a missing runtime fails closed with its remedy, on first use, and the engine carries on', async () => {
    const other = testRuntime() === 'gvisor' ? 'docker' : 'gvisor';
    await using t = await testEngine(other === 'gvisor' ? { runscPath: '/nonexistent/runsc' } : { dockerSocket: '/nonexistent/docker.sock' });
    const err = await t.engine.create({ runtime: other }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_RUNTIME_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(other === 'gvisor' ? 'apt-get install -y runsc' : 'docker');
    expect(t.engine.list()).toEqual([]);
  });

  it('a missing bwrap fails closed with a remedy and creates nothing', async () => {
    await using data = await tempDir();
    const err = await createEngine({ dataDir: data.path, bwrapPath: '/nonexistent/bwrap' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_RUNTIME_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('apt-get install -y bubblewrap');
    expect(await readdir(data.path)).toEqual([]);
  });

  it('a data dir sandboxes cannot reach is refused with the directory to fix', async () => {
    await using outer = await tempDir();
    await chmod(outer.path, 0o700);
    const err = await createEngine({ dataDir: join(outer.path, 'data') }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toContain(`chmod o+x ${outer.path}`);
    expect(await readdir(join(outer.path, 'data', 'run'))).toEqual([]);
  });

  it('an invalid engine config is refused', async () => {
    const err = await createEngine({ dataDir: 'relative/dir' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toMatch(/dataDir must be an absolute directory/);
  });

  it('system directories cannot be lent as a workspace', async () => {
    await using t = await testEngine();
    for (const hostPath of ['/etc', '/usr', '/root', t.dataDir]) {
      const err = await t.engine.create({ workspace: { hostPath } }).catch((e: unknown) => e);
      expect(hasCode(err, 'E_INVALID_SPEC'), hostPath).toBe(true);
    }
    // refused before anything was made
    expect(t.engine.list()).toEqual([]);
    expect(await readdir(join(t.engine.stateDir, 'ws'))).toEqual([]);
  });

  it('a closed engine refuses new sandboxes', async () => {
    await using t = await testEngine();
    await t.engine.close();
    expect(hasCode(await t.engine.create().catch((e: unknown) => e), 'E_ENGINE_CLOSED')).toBe(true);
  });

  it('maxSandboxes is enforced with E_CAPACITY', async () => {
    await using t = await testEngine({ maxSandboxes: 1 });
    await t.engine.create();
    expect(hasCode(await t.engine.create().catch((e: unknown) => e), 'E_CAPACITY')).toBe(true);
  });
});

describe('host workspace', () => {
  it('is writable inside and handed back to its owner afterwards', async () => {
    await using dir = await tempDir();
    await mkdir(join(dir.path, 'src'));
    await writeFile(join(dir.path, 'src', 'main.txt'), 'v1');
    await chmod(join(dir.path, 'src', 'main.txt'), 0o644);
    await using t = await testEngine();
    const s = await t.engine.create({ workspace: { hostPath: dir.path } });
    const r = await s.exec(['sh', '-c', 'cat src/main.txt; echo v2 > src/main.txt; mkdir -p out && echo new > out/made.txt']);
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'v1' });
    await s.kill();
    expect(await readFile(join(dir.path, 'src', 'main.txt'), 'utf8')).toBe('v2\n');
    expect(await readFile(join(dir.path, 'out', 'made.txt'), 'utf8')).toBe('new\n');
    for (const p of ['', 'src', 'src/main.txt', 'out', 'out/made.txt']) {
      expect((await stat(join(dir.path, p))).uid, p).toBe(0);
    }
  });
});
