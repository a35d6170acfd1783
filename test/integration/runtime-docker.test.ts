/**
 * The docker runtime's own behaviour (the conformance suite covers what all
 * runtimes share): a caller's image, refusals that leave nothing, cleanup of
 * containers, cgroups and mounts, and crash recovery of a dead engine's
 * containers. The host (cgroupfs, mountinfo, /proc) and the Docker Engine's
 * API are the oracles, and every leak probe is first shown to see the thing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { chmod, copyFile, mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { createEngine, recoverDataDir } from '@warden/core';
import { DockerDriver } from '../../packages/core/src/runtimes/docker/driver.js';
import { DockerClient } from '../../packages/core/src/runtimes/docker/client.js';
import { cgroupMounts } from '../../packages/core/src/runtimes/docker/cgroups.js';
import { LABEL_ENGINE } from '../../packages/core/src/runtimes/docker/container.js';
import { baseImage, ensureBaseImage } from '../../packages/core/src/runtimes/docker/image.js';
import { startDockerd, type TestDockerd } from '../helpers/dockerd.js';
import { eventually, exists, leftovers, processesOwnedBy, tempDir, testEngine, type TempDir, type TestEngine } from '../helpers/host.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/crash-docker-engine.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let dockerd: TestDockerd;
let client: DockerClient;
let t: TestEngine;
const uids: number[] = [];

/** Stays below 2^31 and clear of the other test files' ranges. */
const uidStart = (): number => 1_950_000_000 + randomInt(0, 190_000) * 256;

beforeAll(async () => {
  dockerd = await startDockerd();
  client = new DockerClient(dockerd.socketPath);
  t = await testEngine({ runtime: 'docker', dockerSocket: dockerd.socketPath, uidRange: { start: uidStart(), count: 256 } });
}, 120_000);

afterAll(async () => {
  try {
    if (t) {
      await t.engine.close();
      expect(await leftovers(t.engine, uids)).toEqual([]);
      expect(await inAnyHierarchy(`warden/${t.engine.id}`), 'cgroup dirs of the closed engine').toEqual([]);
      expect(await client.containersLabelled(LABEL_ENGINE, t.engine.id)).toEqual([]);
      await t[Symbol.asyncDispose]();
    }
  } finally {
    client?.close();
    await dockerd?.stop();
  }
}, 120_000);

/** `<mount>/<rel>` in every cgroup hierarchy of the host where it exists. */
async function inAnyHierarchy(rel: string): Promise<string[]> {
  const found: string[] = [];
  for (const m of await cgroupMounts()) if (await exists(`${m.mount}/${rel}`)) found.push(`${m.mount}/${rel}`);
  return found;
}

async function mountsUnder(dir: string): Promise<string[]> {
  const root = await realpath(dir).catch(() => dir);
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === root || p.startsWith(`${root}/`));
}

/** Ids of the engine's untagged images (what a lost race of two image builds leaves). */
function danglingImages(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const filters = encodeURIComponent(JSON.stringify({ dangling: ['true'] }));
    http
      .get({ socketPath: dockerd.socketPath, path: `/v1.41/images/json?filters=${filters}` }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve((JSON.parse(body) as Array<{ Id: string }>).map((i) => i.Id).sort()));
      })
      .on('error', reject);
  });
}

/** A tiny root file system of the host's dash and its libraries, imported as an image via the API (`docker import`). */
async function importTinyImage(marker: string): Promise<string> {
  await using dir = await tempDir('warden-image-');
  const root = `${dir.path}/root`;
  for (const d of ['bin', 'etc', 'lib/x86_64-linux-gnu', 'lib64', 'workspace', 'tmp']) await mkdir(`${root}/${d}`, { recursive: true });
  await copyFile('/usr/bin/dash', `${root}/bin/sh`);
  await chmod(`${root}/bin/sh`, 0o755);
  await copyFile('/lib/x86_64-linux-gnu/libc.so.6', `${root}/lib/x86_64-linux-gnu/libc.so.6`);
  await copyFile('/lib64/ld-linux-x86-64.so.2', `${root}/lib64/ld-linux-x86-64.so.2`);
  await writeFile(`${root}/etc/marker`, `${marker}\n`);
  const tar = execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
  const tag = marker.toLowerCase();
  await client.importImage(tar, 'warden-test/tiny', tag);
  return `warden-test/tiny:${tag}`;
}

describe('probe', () => {
  it('a socket nothing answers on fails closed, saying how to get an engine', async () => {
    await using data = await tempDir('warden-docker-probe-');
    const err = await createEngine({ dataDir: data.path, runtime: 'docker', dockerSocket: `${data.path}/none.sock` }).catch((e: unknown) => e);

    expect(isWardenError(err) && err.code).toBe('E_RUNTIME_UNAVAILABLE');
    expect((err as Error).message).toMatch(/docker socket: no \/.*none\.sock \(fix: apt-get install -y docker\.io, .*dockerd --bridge=none.*DOCKER_HOST/);
    expect(await readdir(data.path)).toEqual([]);
  });

  it('twin: with dockerd answering, every check passes and names what it found', async () => {
    const d = new DockerDriver({ socketPath: dockerd.socketPath, agentPath: '/nonexistent', launcherPath: '/nonexistent', stateDir: '/nonexistent' });
    try {
      const checks = await d.probe();
      const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
      for (const n of ['docker socket', 'docker engine', 'docker cgroups', 'docker seccomp', 'root']) expect(byName[n], n).toMatchObject({ ok: true });
      expect(byName['docker cgroups']?.detail).toMatch(/cgroupfs driver/);
      // The missing binaries say what to run.
      expect(byName.agent).toMatchObject({ ok: false, fix: expect.stringMatching(/npm run build/) as unknown });
    } finally {
      await d.close();
    }
  });
});

describe('images', () => {
  it('a caller’s image made with docker import runs a sandbox: its own root, no host /usr, same isolation, workspace owned by the sandbox uid', async () => {
    const marker = `m${randomInt(1e9)}`;
    const image = await importTinyImage(marker);
    try {
      await using host = await tempDir('warden-image-ws-');
      await using sbx = await t.engine.create({ image, workspace: { hostPath: host.path } });
      uids.push(sbx.info().hostUid);

      const r = await sbx.exec([
        '/bin/sh',
        '-c',
        'read -r m < /etc/marker; echo "$m"; [ -e /usr/bin/python3 ] && echo host-usr || echo no-host-usr; echo made > /workspace/f; ' +
          'while read -r k v; do case $k in Seccomp:|NoNewPrivs:|CapEff:|CapBnd:) echo "$k $v";; esac; done < /proc/self/status; ' +
          'echo x > /etc/marker 2>/dev/null || echo read-only-root',
      ]);

      expect(r.reason).toBe('exited');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${marker}\nno-host-usr\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\nread-only-root\n`);
      const st = await stat(`${host.path}/f`);
      expect(st.uid).toBe(sbx.info().hostUid);
      // Twin: the base image does show the host's /usr.
      await using base = await t.engine.create();
      uids.push(base.info().hostUid);
      expect((await base.exec(['sh', '-c', '[ -e /usr/bin/python3 ] && echo host-usr'])).stdout).toBe('host-usr\n');
    } finally {
      await client.removeImageIfUnused(image);
    }
  });

  it('the base image is built once however many engines ask at once: one content-addressed image, nothing dangling', async () => {
    // A layout no other test uses, so this image is new here.
    const layout = [{ name: 'bin', symlinkTo: 'usr/bin' }, { name: `lib-race-${randomInt(1e9)}`, symlinkTo: 'usr/lib' }];
    const expected = baseImage(layout).id;
    const clients = Array.from({ length: 4 }, () => new DockerClient(dockerd.socketPath));
    const dangling = await danglingImages();
    try {
      expect(await client.imageId(expected)).toBeUndefined(); // twin: not there before
      const ids = await Promise.all(clients.map((c) => ensureBaseImage(c, layout)));
      expect(ids).toEqual(clients.map(() => expected));
      expect(await client.imageId(baseImage(layout).ref)).toBe(expected);
      expect(await danglingImages()).toEqual(dangling);
      expect(await ensureBaseImage(client, layout)).toBe(expected);
    } finally {
      await client.removeImageIfUnused(expected);
      for (const c of clients) c.close();
    }
  });

  it('a missing image is refused with E_INVALID_SPEC saying how to load it, and leaves nothing behind', async () => {
    const before = await client.containersLabelled(LABEL_ENGINE, t.engine.id);
    const err = await t.engine.create({ image: 'warden-test/missing:nope' }).catch((e: unknown) => e);

    expect(isWardenError(err) && err.code).toBe('E_INVALID_SPEC');
    expect((err as Error).message).toMatch(/warden-test\/missing:nope.*not in the local Docker Engine.*docker load.*docker import/s);
    expect(await client.containersLabelled(LABEL_ENGINE, t.engine.id)).toEqual(before);
    expect(t.engine.list()).toEqual([]);
    // No sandbox cgroup is left in any hierarchy, nor a sandbox dir in the driver's state.
    for (const d of await inAnyHierarchy(`warden/${t.engine.id}`)) {
      const entries = await readdir(d, { withFileTypes: true });
      expect(entries.filter((e) => e.isDirectory()).map((e) => `${d}/${e.name}`)).toEqual([]);
    }
    const state = await readdir(`${t.engine.stateDir}/docker`).catch(() => [] as string[]);
    expect(state.filter((n) => n.startsWith('sbx_'))).toEqual([]);
  });
});

describe('teardown', () => {
  it('kill removes the container, its cgroup directories in every hierarchy and the codebase mounts', async () => {
    await using src = await tempDir('warden-docker-src-');
    await mkdir(`${src.path}/docs`);
    await writeFile(`${src.path}/docs/a.md`, 'a\n');
    await t.engine.codebases.add({ dir: src.path }, { name: 'docker-teardown' });
    const plain = await t.engine.create();
    const layered = await t.engine.create({ codebase: { name: 'docker-teardown' }, policy: { default: 'read', rules: [{ pattern: 'docs/', level: 'write' }] } });
    uids.push(plain.info().hostUid, layered.info().hostUid);
    expect((await layered.exec(['sh', '-c', 'echo b > docs/b.md && cat docs/a.md'])).stdout).toBe('a\n');
    expect(await layered.diff()).toMatchObject({ added: [{ path: 'docs/b.md' }] });

    // Twin: while they run, each probe sees what it looks for.
    const containers = await client.containersLabelled(LABEL_ENGINE, t.engine.id);
    expect(containers).toHaveLength(2);
    const sandboxDir = `${t.engine.stateDir}/docker/${layered.id}`;
    expect((await mountsUnder(sandboxDir)).length).toBeGreaterThanOrEqual(3); // view bind, delta tmpfs, overlay
    const cgroups = [...(await inAnyHierarchy(`warden/${t.engine.id}/${plain.id}`)), ...(await inAnyHierarchy(`warden/${t.engine.id}/${layered.id}`))];
    // The engine's hierarchies and Docker's others (devices at least).
    expect(cgroups.some((d) => d.includes('/devices/'))).toBe(true);

    await plain.kill();
    await layered.kill();

    expect(await client.containersLabelled(LABEL_ENGINE, t.engine.id)).toEqual([]);
    for (const id of containers) expect(await client.state(id)).toBeUndefined();
    expect(await mountsUnder(`${t.engine.stateDir}/docker`)).toEqual([]);
    expect(await exists(sandboxDir)).toBe(false);
    for (const d of cgroups) expect(await exists(d), d).toBe(false);
    expect(await processesOwnedBy(new Set([plain.info().hostUid, layered.info().hostUid]))).toEqual([]);
    // kill is idempotent.
    await plain.kill();
  });

  it('the agent runs in the sandbox’s own cgroup, which the engine freezes and where it counts OOM kills; Docker’s device rules stay on the container', async () => {
    await using sbx = await t.engine.create({ limits: { memoryMb: 64 } });
    uids.push(sbx.info().hostUid);
    const [pid] = await processesOwnedBy(new Set([sbx.info().hostUid]));
    const cg = await readFile(`/proc/${pid!}/cgroup`, 'utf8');
    const rel = `/warden/${t.engine.id}/${sbx.id}`;
    expect(cg).toMatch(new RegExp(`:memory:${rel}$`, 'm'));
    expect(cg).toMatch(new RegExp(`:devices:${rel}/[0-9a-f]{64}$`, 'm'));

    // The sandbox's freezer stops the agent: it cannot answer until thawed.
    let freezer: string | undefined;
    for (const d of t.engine.cgroupDirs) if (await exists(`${d}/${sbx.id}/freezer.state`)) freezer = `${d}/${sbx.id}/freezer.state`;
    expect(freezer, 'a v1 freezer hierarchy').toBeDefined();
    await writeFile(freezer!, 'FROZEN');
    try {
      await eventually(async () => (await readFile(freezer!, 'utf8')).trim() === 'FROZEN', 5000, 'the sandbox to freeze');
      await expect(sbx.ping(300)).rejects.toMatchObject({ code: 'E_SANDBOX_CLOSED' });
    } finally {
      await writeFile(freezer!, 'THAWED');
    }
    await sbx.ping();

    const r = await sbx.exec(['python3', '-c', 'b = b"x" * (256 << 20)'], { timeoutMs: 30_000 });
    expect(r.reason).toBe('oom');
    expect((await sbx.exec(['echo', 'alive'])).stdout).toBe('alive\n');
  });
});

describe('crash recovery', () => {
  let root: TempDir | undefined;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await root?.[Symbol.asyncDispose]();
  });

  it('an engine killed with SIGKILL takes its sandboxes with it; recovery removes its containers, cgroups (every hierarchy) and mounts', async () => {
    root = await tempDir('warden-docker-crash-');
    await chmod(root.path, 0o711);
    const dataDir = `${root.path}/data`;
    const c = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, `${root.path}/uids`, dockerd.socketPath, String(uidStart())], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = once(c, 'exit');
    const [line] = (await Promise.race([once(createInterface({ input: c.stdout }), 'line'), exited.then(() => Promise.reject(new Error(`fixture exited: ${stderr}`)))])) as [string];
    const crashed = JSON.parse(line) as { engineId: string; stateDir: string; sandboxes: Array<{ id: string; uid: number }> };
    const sandboxUids = new Set(crashed.sandboxes.map((s) => s.uid));

    // Twin: the probes see the sandboxes running.
    expect((await processesOwnedBy(sandboxUids)).length).toBeGreaterThanOrEqual(5);
    c.kill('SIGKILL');
    await exited;
    // Like bwrap's, the sandboxes die with the engine: its attach connections close, Docker closes
    // each agent's stdin, and the agent (PID 1) ends the container's whole pid namespace.
    await eventually(async () => (await processesOwnedBy(sandboxUids)).length === 0, 10_000, 'the sandboxes of the dead engine to stop');
    // Their containers, mounts and cgroups are left for recovery.
    const containers = await client.containersLabelled(LABEL_ENGINE, crashed.engineId);
    expect(containers).toHaveLength(2);
    expect((await mountsUnder(crashed.stateDir)).length).toBeGreaterThanOrEqual(1);
    expect((await inAnyHierarchy(`warden/${crashed.engineId}`)).length).toBeGreaterThan(4);

    const report = await recoverDataDir(dataDir);

    const e = report.engines.find((x) => x.engineId === crashed.engineId);
    expect(e?.errors).toEqual([]);
    expect([...(e?.containersRemoved ?? [])].sort()).toEqual([...containers].sort());
    expect(await client.containersLabelled(LABEL_ENGINE, crashed.engineId)).toEqual([]);
    await eventually(async () => (await processesOwnedBy(sandboxUids)).length === 0, 5000, 'the sandbox processes to be gone');
    expect(await mountsUnder(crashed.stateDir)).toEqual([]);
    expect(await inAnyHierarchy(`warden/${crashed.engineId}`)).toEqual([]);
    expect(await exists(crashed.stateDir)).toBe(false);
  });
});
