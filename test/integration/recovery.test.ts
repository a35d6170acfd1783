/**
 * Crash recovery: an engine process is killed with SIGKILL while its
 * sandboxes run; recoverDataDir must leave nothing of it on the host, and
 * must not touch a live engine in the same data dir. The host is the oracle
 * (/proc, cgroupfs, mountinfo, the files themselves), and every probe is
 * first shown to see the leftovers (positive twin).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { chmod, chown, mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, recoverDataDir, type Engine, type RecoveryReport, type Sandbox } from '@warden/core';
import { eventually, exists, tempDir, type TempDir } from '../helpers/host.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/crash-engine.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Crashed {
  readonly pid: number;
  readonly engineId: string;
  readonly stateDir: string;
  readonly cgroupDirs: string[];
  readonly uidLockFiles: string[];
  readonly sandboxes: Array<{ id: string; uid: number; kind: 'fresh' | 'codebase' | 'sleeper' | 'escaper' | 'lent' }>;
}

// ---- probes: what the host says is left ----

async function procStatus(pid: number): Promise<{ uid: number; state: string } | undefined> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const uid = /^Uid:\s+(\d+)/m.exec(text)?.[1];
  const state = /^State:\s+(\S)/m.exec(text)?.[1];
  return uid === undefined || state === undefined ? undefined : { uid: Number(uid), state };
}

/**
 * Processes of these uids that can still run. Zombies are listed apart: after
 * SIGKILL of the engine, bwrap and the agent are reparented to init and die;
 * reaping them is init's job (this host's init never does), and a zombie runs
 * nothing and holds nothing but its pid.
 */
async function processesOf(uids: ReadonlySet<number>): Promise<{ live: number[]; zombies: number[] }> {
  const out = { live: [] as number[], zombies: [] as number[] };
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = await procStatus(Number(name));
    if (!st || !uids.has(st.uid)) continue;
    (st.state === 'Z' || st.state === 'X' ? out.zombies : out.live).push(Number(name));
  }
  return out;
}

async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
}

async function mountsUnder(dir: string): Promise<string[]> {
  const root = await realpath(dir);
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === root || p.startsWith(`${root}/`));
}

async function cgroupsOf(c: Crashed): Promise<string[]> {
  const found: string[] = [];
  for (const d of c.cgroupDirs) if (await exists(d)) found.push(d);
  for (const d of c.cgroupDirs) for (const s of c.sandboxes) if (await exists(`${d}/${s.id}`)) found.push(`${d}/${s.id}`);
  return found;
}

/** Everything of the crashed engine the host still shows (zombies aside). */
async function leaks(c: Crashed, dataDir: string): Promise<string[]> {
  const found: string[] = [];
  if (await exists(c.stateDir)) found.push(`state dir ${c.stateDir}`);
  for (const d of await cgroupsOf(c)) found.push(`cgroup ${d}`);
  for (const pid of (await processesOf(new Set(c.sandboxes.map((s) => s.uid)))).live) found.push(`process ${pid} (${await cmdline(pid)})`);
  for (const m of await mountsUnder(dataDir)) found.push(`mount ${m}`);
  for (const f of c.uidLockFiles) if (await exists(f)) found.push(`uid lock ${f}`);
  return found;
}

// ---- the scenario ----

let root: TempDir;
let dataDir: string;
let lockDir: string;
let lentDir: string;
let victimDir: string;
let live: Engine;
let liveSandbox: Sandbox;
let child: ChildProcess | undefined;
let crashed: Crashed;
let survivor: ChildProcess | undefined;
const LENT_OWNER = 4321;

/** Starts the fixture engine in a child process and reads what it made. */
async function startCrashingEngine(uidStart: number, uidCount: number): Promise<Crashed> {
  const c = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, lockDir, String(uidStart), String(uidCount), lentDir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  let stderr = '';
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const lines = createInterface({ input: c.stdout });
  const exited = once(c, 'exit').then(([code, sig]) => {
    throw new Error(`crash fixture exited early (${String(code ?? sig)}): ${stderr}`);
  });
  const first = once(lines, 'line').then(([line]) => JSON.parse(line as string) as Crashed);
  try {
    return await Promise.race([first, exited]);
  } finally {
    exited.catch(() => undefined);
  }
}

beforeAll(async () => {
  root = await tempDir('warden-recovery-');
  await chmod(root.path, 0o711); // sandbox uids pass through it to their workspaces
  dataDir = `${root.path}/data`;
  lockDir = `${root.path}/uids`;
  lentDir = `${root.path}/lent`;
  victimDir = `${root.path}/victim`;
  await mkdir(lentDir);
  await writeFile(`${lentDir}/orig.txt`, 'mine\n');
  await chown(`${lentDir}/orig.txt`, LENT_OWNER, LENT_OWNER);
  await chown(lentDir, LENT_OWNER, LENT_OWNER);
  await mkdir(victimDir);
  await writeFile(`${victimDir}/precious.txt`, 'host data\n');

  // Two blocks: one for each engine. A private lock dir and range, clear of other tests.
  const uidStart = 1_900_000_000 + randomInt(0, 450_000) * 512;
  live = await createEngine({ dataDir, uidLockDir: lockDir, uidRange: { start: uidStart, count: 512 } });
  liveSandbox = await live.create();

  crashed = await startCrashingEngine(uidStart, 512);
  const uidOf = (kind: Crashed['sandboxes'][number]['kind']): number => crashed.sandboxes.find((s) => s.kind === kind)!.uid;
  const sleeps = async (uid: number): Promise<number> => {
    let n = 0;
    for (const pid of (await processesOf(new Set([uid]))).live) if ((await cmdline(pid)).startsWith('sleep 600')) n++;
    return n;
  };
  await eventually(async () => (await sleeps(uidOf('sleeper'))) >= 1 && (await sleeps(uidOf('escaper'))) >= 4, 10_000, 'the sleeper and the escaper running');

  // What bwrap's --die-with-parent cannot catch: a process of the sandbox's
  // uid outside its pid namespace (standing in for one that escaped it), in
  // the sandbox's cgroups.
  const fresh = crashed.sandboxes.find((s) => s.kind === 'fresh')!;
  survivor = spawn('sleep', ['600'], { uid: fresh.uid, gid: fresh.uid, stdio: 'ignore' });
  for (const d of crashed.cgroupDirs) await writeFile(`${d}/${fresh.id}/cgroup.procs`, String(survivor.pid));
  // And mounts left in the host's namespace under the state dir: a tmpfs, and
  // a bind of a host directory (deleting the state dir through it would
  // delete host files).
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'leak', `${crashed.stateDir}/stage/tmp`]);
  await mkdir(`${crashed.stateDir}/stage/victim`);
  execFileSync('mount', ['--bind', victimDir, `${crashed.stateDir}/stage/victim`]);

  child!.kill('SIGKILL');
  if (child!.exitCode === null && child!.signalCode === null) await once(child!, 'exit');
  // bwrap's --die-with-parent ends the sandboxes' pid namespaces by themselves.
  await eventually(async () => {
    const left = (await processesOf(new Set(crashed.sandboxes.map((s) => s.uid)))).live;
    return left.length === 1 && left[0] === survivor!.pid;
  }, 10_000, 'the sandboxes to die with their engine');
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  // Whatever a failed test left: recovery is the cleanup.
  await recoverDataDir(dataDir, { minAgeMs: 0 }).catch(() => undefined);
  await live?.close();
  for (const m of (await mountsUnder(root.path).catch(() => [])).reverse()) execFileSync('umount', ['--lazy', m]);
  await root?.[Symbol.asyncDispose]();
});

describe('after kill -9 of an engine process', () => {
  let report: RecoveryReport;

  it('the leak probes see what the dead engine left (positive twin)', async () => {
    const found = await leaks(crashed, dataDir);
    const sandboxes = JSON.stringify(crashed.sandboxes);
    expect(found, sandboxes).toContain(`state dir ${crashed.stateDir}`);
    for (const d of crashed.cgroupDirs) expect(found, sandboxes).toContain(`cgroup ${d}`);
    expect(found.filter((f) => f.startsWith('cgroup ')).length).toBe(crashed.cgroupDirs.length * (1 + crashed.sandboxes.length));
    expect(found, sandboxes).toContain(`process ${survivor!.pid} (sleep 600)`);
    expect(found.filter((f) => f.startsWith('mount ')).length).toBe(2);
    for (const f of crashed.uidLockFiles) expect(found).toContain(`uid lock ${f}`);
    const ws = crashed.sandboxes.find((s) => s.kind === 'fresh')!;
    expect(await readFile(`${crashed.stateDir}/ws/${ws.id}/file`, 'utf8')).toBe('left\n');
    const lent = crashed.sandboxes.find((s) => s.kind === 'lent')!;
    expect((await stat(lentDir)).uid).toBe(lent.uid);
    expect((await stat(`${lentDir}/new-file`)).uid).toBe(lent.uid);
  });

  it('recoverDataDir removes all of it and names what it cleaned', async () => {
    report = await recoverDataDir(dataDir, { timeoutMs: 10_000 });
    const sandboxes = JSON.stringify(crashed.sandboxes);

    // the host says: nothing of the dead engine is left
    expect(await leaks(crashed, dataDir), sandboxes).toEqual([]);
    expect(await processesOf(new Set(crashed.sandboxes.map((s) => s.uid))).then((p) => p.live)).toEqual([]);
    expect(await readFile(`${victimDir}/precious.txt`, 'utf8')).toBe('host data\n'); // unmounted before anything was deleted
    expect((await stat(lentDir)).uid).toBe(LENT_OWNER);
    expect((await stat(`${lentDir}/orig.txt`)).uid).toBe(LENT_OWNER);
    expect((await stat(`${lentDir}/new-file`)).uid).toBe(LENT_OWNER);
    expect(await readFile(`${lentDir}/new-file`, 'utf8')).toBe('mine\n');

    // and the report names it
    expect(report.engines.map((e) => e.engineId)).toEqual([crashed.engineId]);
    const e = report.engines[0]!;
    const stateDir = await realpath(dataDir).then((d) => `${d}/run/${crashed.engineId}`);
    expect(e).toMatchObject({ reason: 'owner-dead', ownerPid: crashed.pid, stateDir, errors: [], uidLocksKept: [] });
    expect(e.processesKilled).toContain(survivor!.pid);
    for (const d of crashed.cgroupDirs) {
      expect(e.cgroupsRemoved).toContain(d);
      for (const s of crashed.sandboxes) expect(e.cgroupsRemoved).toContain(`${d}/${s.id}`);
    }
    expect([...e.mountsUnmounted].sort()).toEqual([`${stateDir}/stage/tmp`, `${stateDir}/stage/victim`]);
    expect(e.uidLocksReleased).toEqual(crashed.uidLockFiles);
    expect(e.workspacesReturned).toEqual([lentDir]);
    expect(e.dirsRemoved).toContain(stateDir);
    for (const s of crashed.sandboxes.filter((x) => x.kind === 'fresh' || x.kind === 'sleeper' || x.kind === 'escaper')) {
      expect(e.dirsRemoved).toContain(`${stateDir}/ws/${s.id}`);
    }
    expect(report.skipped).toEqual([{ engineId: live.id, reason: 'owner-alive' }]);
  });

  it('leaves the live engine in the same data dir untouched', async () => {
    expect(await exists(live.stateDir)).toBe(true);
    for (const d of live.cgroupDirs) expect(await exists(`${d}/${liveSandbox.id}`)).toBe(true);
    for (const f of live.uidLeaseFiles()) expect(await exists(f)).toBe(true);
    expect(await liveSandbox.exec(['sh', '-c', 'echo still here'])).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'still here\n' });
    // The dead codebase sandbox's changes stayed in its own (gone) layer.
    await using s = await live.create({ codebase: { name: 'crash' } });
    expect(await s.exec(['cat', '/workspace/docs/readme.md'])).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
  });

  it('a second run finds nothing to do', async () => {
    const again = await recoverDataDir(dataDir);
    expect(again.engines).toEqual([]);
    expect(again.skipped).toEqual([{ engineId: live.id, reason: 'owner-alive' }]);
  });
});

describe('which state dirs count as abandoned', () => {
  const OWNER = { bootId: readBootId(), pidNs: readPidNs() };

  function readBootId(): string {
    return execFileSync('cat', ['/proc/sys/kernel/random/boot_id'], { encoding: 'utf8' }).trim();
  }
  function readPidNs(): string {
    return execFileSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).trim();
  }

  async function engineDir(data: string, id: string, record?: unknown): Promise<string> {
    const dir = `${data}/run/${id}`;
    await mkdir(`${dir}/ws`, { recursive: true });
    if (record !== undefined) await writeFile(`${dir}/engine.json`, JSON.stringify(record));
    return dir;
  }

  const record = (id: string, owner: object, uidLockDir: string): object => ({ version: 1, engineId: id, owner, createdAt: new Date().toISOString(), cgroups: [], uidLockDir });

  it('an owner pid now used by another process does not keep an engine alive', async () => {
    await using d = await tempDir('warden-recovery-');
    await mkdir(`${d.path}/uids`);
    // This very process's pid, but not its start time: the owner died and the pid was reused.
    const owner = { pid: process.pid, startTime: '1', ...OWNER };
    const dir = await engineDir(d.path, 'eng_aaaaaaaaaaaa', record('eng_aaaaaaaaaaaa', owner, `${d.path}/uids`));
    await writeFile(`${d.path}/uids/block-2100000000`, JSON.stringify({ owner, start: 2_100_000_000, count: 256 }));
    const other = { pid: 999_999_999, startTime: '1', ...OWNER }; // dead too, but not this engine's owner
    await writeFile(`${d.path}/uids/block-2100000256`, JSON.stringify({ owner: other, start: 2_100_000_256, count: 256 }));

    const r = await recoverDataDir(d.path);

    expect(r.engines).toMatchObject([{ engineId: 'eng_aaaaaaaaaaaa', reason: 'owner-dead', uidLocksReleased: [`${d.path}/uids/block-2100000000`], errors: [] }]);
    expect(await exists(dir)).toBe(false);
    expect(await readdir(`${d.path}/uids`)).toEqual(['block-2100000256']);
  });

  it('an owner in another pid namespace cannot be judged, so it is left alone', async () => {
    await using d = await tempDir('warden-recovery-');
    const id = 'eng_bbbbbbbbbbbb';
    const dir = await engineDir(d.path, id, record(id, { pid: 999_999_999, startTime: '1', bootId: OWNER.bootId, pidNs: 'pid:[1]' }, `${d.path}/uids`));
    const r = await recoverDataDir(d.path);
    expect(r).toMatchObject({ engines: [], skipped: [{ engineId: id, reason: 'owner-unknown' }] });
    expect(await exists(dir)).toBe(true);
  });

  it('a state dir without a readable record is left while young and recovered once old', async () => {
    await using d = await tempDir('warden-recovery-');
    const id = 'eng_cccccccccccc';
    const dir = await engineDir(d.path, id, 'not a record');
    const young = await recoverDataDir(d.path);
    expect(young).toMatchObject({ engines: [], skipped: [{ engineId: id, reason: 'too-young' }] });
    expect(await exists(dir)).toBe(true);

    const old = await recoverDataDir(d.path, { minAgeMs: 0 });
    expect(old.engines).toMatchObject([{ engineId: id, reason: 'no-record', errors: [] }]);
    expect(await exists(dir)).toBe(false);
  });

  it('entries of the run dir that are not engine ids are ignored', async () => {
    await using d = await tempDir('warden-recovery-');
    await mkdir(`${d.path}/run/not-an-engine`, { recursive: true });
    expect(await recoverDataDir(d.path, { minAgeMs: 0 })).toMatchObject({ engines: [], skipped: [] });
    expect(await exists(`${d.path}/run/not-an-engine`)).toBe(true);
  });
});
