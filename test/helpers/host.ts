/**
 * Test helpers that use the host as the oracle: temp dirs, a real engine, and
 * leak checks (processes, cgroups, state dirs) after teardown.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine, type Engine, type EngineOptions, type Sandbox } from '@warden/core';
import type { RuntimeName } from '@warden/protocol';
import { UID_BLOCK_SIZE } from '../../packages/core/src/host/uids.js';

const execFileP = promisify(execFile);

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = 'warden-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** The runtime the conformance suite runs this file on (WARDEN_TEST_RUNTIME; default: the engine's, bwrap). */
export function testRuntime(): RuntimeName {
  const r = process.env.WARDEN_TEST_RUNTIME;
  if (r === undefined || r === '') return 'bwrap';
  if (r === 'bwrap' || r === 'gvisor' || r === 'docker') return r;
  throw new Error(`WARDEN_TEST_RUNTIME=${r} is not a runtime (bwrap, gvisor, docker)`);
}

export interface TestEngine extends AsyncDisposable {
  readonly engine: Engine;
  readonly dataDir: string;
}

/** A real engine in a throwaway data dir; disposing it also asserts nothing leaked. */
export async function testEngine(options: EngineOptions = {}): Promise<TestEngine> {
  const data = await mkdtemp(join(tmpdir(), 'warden-data-'));
  // The Docker Engine the conformance run started (test/helpers/dockerd.ts), if any.
  const dockerSocket = process.env.WARDEN_TEST_DOCKER_SOCKET;
  const engine = await createEngine({ dataDir: data, runtime: testRuntime(), ...(dockerSocket ? { dockerSocket } : {}), ...options }).catch(async (err: unknown) => {
    await rm(data, { recursive: true, force: true });
    throw err;
  });
  return {
    engine,
    dataDir: data,
    [Symbol.asyncDispose]: async () => {
      await engine.close();
      await rm(data, { recursive: true, force: true });
    },
  };
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Host pids whose real uid is in [start, start+count). */
export async function processesOwnedBy(uids: ReadonlySet<number> | ((uid: number) => boolean)): Promise<number[]> {
  const match = typeof uids === 'function' ? uids : (u: number) => uids.has(u);
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (m && match(Number(m[1]))) out.push(Number(name));
  }
  return out;
}

/** A sandbox process and its command line (NULs as spaces). */
export interface SandboxProcessInfo {
  readonly pid: number;
  readonly cmdline: string;
}

/** Runs runsc against an engine's gVisor sandboxes (their state root). */
async function runsc(engine: Engine, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileP('/usr/bin/runsc', [`--root=${engine.stateDir}/gvisor/runsc`, ...args], { env: {}, timeout: 10_000 });
  return stdout;
}

/**
 * Runs a program in a gVisor sandbox beside the agent, as the sandbox user, through
 * runsc (the host's way in, not the agent's), and returns its stdout.
 */
export async function runscExec(engine: Engine, sbx: Sandbox, argv: readonly string[]): Promise<string> {
  return runsc(engine, ['exec', '--user=1000:1000', sbx.id, ...argv]);
}

/** Every process of the sandbox but the lister, from gVisor's /proc. */
const GVISOR_PS = "import os\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        print(p, open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode().strip())";

/**
 * The sandbox's processes: the host processes of its uid; under gVisor, whose
 * processes live in its own kernel (the host sees only its sentry and stubs),
 * that kernel's process table, read by a process runsc starts in the sandbox
 * beside the agent (`runsc exec`), pids as gVisor numbers them.
 */
export async function sandboxProcesses(engine: Engine, sbx: Sandbox): Promise<SandboxProcessInfo[]> {
  if (testRuntime() === 'gvisor') {
    const out = await runscExec(engine, sbx, ['/usr/bin/python3', '-c', GVISOR_PS]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ pid: Number(l.slice(0, l.indexOf(' '))), cmdline: l.slice(l.indexOf(' ') + 1) }))
      .filter((p) => p.cmdline !== '');
  }
  const out: SandboxProcessInfo[] = [];
  for (const pid of await processesOwnedBy(new Set([sbx.info().hostUid]))) {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    if (cmdline) out.push({ pid, cmdline });
  }
  return out;
}

/** gVisor: the pids its kernel runs for the sandbox (`runsc ps`, which starts nothing inside); [] once it is gone. */
export async function gvisorPids(engine: Engine, sbx: Sandbox): Promise<number[]> {
  return JSON.parse((await runsc(engine, ['ps', '--format=json', sbx.id]).catch(() => '[]')) || '[]') as number[];
}

/** State letter of a pid in gVisor's /proc ('' when it is gone). */
const GVISOR_STATE = "import sys\ntry:\n    s = open(f'/proc/{sys.argv[1]}/stat').read()\n    print(s[s.rindex(')') + 2])\nexcept OSError:\n    print('')";

/** True while a pid of `sandboxProcesses` runs, not a zombie (gVisor: as its kernel's /proc says). */
export async function sandboxProcessAlive(engine: Engine, sbx: Sandbox, pid: number): Promise<boolean> {
  if (testRuntime() === 'gvisor') {
    if (!(await gvisorPids(engine, sbx)).includes(pid)) return false;
    const state = (await runscExec(engine, sbx, ['/usr/bin/python3', '-c', GVISOR_STATE, String(pid)]).catch(() => '')).trim();
    return state !== '' && state !== 'Z' && state !== 'X';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}

/**
 * Host pids of sandboxes' processes: those that run as their uids; under
 * gVisor, which runs them in its own kernel on host processes of `nobody`,
 * those in their cgroups (runsc, gofer, sentry, and a ptrace stub for every
 * process inside). A killed sandbox has none either way.
 */
export async function sandboxHostProcesses(engine: Engine, sandboxes: readonly Sandbox[]): Promise<number[]> {
  if (testRuntime() !== 'gvisor') return processesOwnedBy(new Set(sandboxes.map((s) => s.info().hostUid)));
  const pids: number[] = [];
  for (const s of sandboxes) {
    const dir = engine.cgroupDirs.find((d) => d.includes('/pids/')) ?? engine.cgroupDirs[0];
    const text = await readFile(`${dir}/${s.id}/cgroup.procs`, 'utf8').catch(() => '');
    pids.push(...text.split('\n').filter(Boolean).map(Number));
  }
  return pids;
}

/** Polls `check` until it returns true or the deadline passes. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything an engine leaves on the host after close(): must be empty. */
export async function leftovers(engine: Engine, hostUids: readonly number[]): Promise<string[]> {
  const found: string[] = [];
  if (await exists(engine.stateDir)) found.push(`state dir ${engine.stateDir}`);
  for (const d of engine.cgroupDirs) if (await exists(d)) found.push(`cgroup ${d}`);
  const set = new Set(hostUids);
  for (const pid of await processesOwnedBy(set)) found.push(`process ${pid}`);
  // The engine leases uids in blocks; the block lock file of every uid it used must be gone.
  const { start } = engine.config.uidRange;
  for (const uid of hostUids) {
    const block = `${engine.config.uidLockDir}/block-${start + Math.floor((uid - start) / UID_BLOCK_SIZE) * UID_BLOCK_SIZE}`;
    if (await exists(block)) found.push(`uid lease ${block}`);
  }
  return found;
}
