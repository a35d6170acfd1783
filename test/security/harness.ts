/**
 * Shared set-up for the security suite: one real engine per file, sandboxes
 * tracked per test, and leak checks with the host as the oracle — after every
 * test (the sandbox's processes, cgroups, workspace and uid lease are gone)
 * and after the engine closes (`leftovers()` is empty).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { CreateContext, Engine, EngineOptions, Sandbox } from '@warden/core';
import type { SandboxSpecInput } from '@warden/protocol';
import { eventually, exists, leftovers, processesOwnedBy, testEngine, type TestEngine } from '../helpers/host.js';

export interface SecurityHarness {
  readonly engine: Engine;
  /** Creates a sandbox and registers it for the leak checks; dispose it with `await using`. */
  create(spec?: SandboxSpecInput, context?: CreateContext): Promise<Sandbox>;
}

/** A unique string an attacker could not guess, for markers and secrets. */
export function token(prefix = 'warden'): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/** What is left of one sandbox on the host after it was killed: must be empty. */
export async function sandboxLeftovers(engine: Engine, sbx: Sandbox, uid: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await processesOwnedBy(new Set([uid]))) found.push(`process ${pid} (uid ${uid})`);
  for (const d of engine.cgroupDirs) if (await exists(`${d}/${sbx.id}`)) found.push(`cgroup ${d}/${sbx.id}`);
  if (await exists(`${engine.stateDir}/ws/${sbx.id}`)) found.push(`workspace ${engine.stateDir}/ws/${sbx.id}`);
  if (await exists(`${engine.stateDir}/net/${sbx.id}`)) found.push(`egress dir ${engine.stateDir}/net/${sbx.id}`);
  return found;
}

/**
 * Registers beforeAll/afterAll/afterEach hooks around one engine for the
 * calling test file. The engine gets a random slice of the uid range so that
 * files running in parallel never share a host uid (the leak checks look for
 * processes by uid).
 */
export function useEngine(options: () => EngineOptions = () => ({})): SecurityHarness {
  let te: TestEngine | undefined;
  const allUids: number[] = [];
  let current: Array<{ sbx: Sandbox; uid: number }> = [];

  beforeAll(async () => {
    // Stays below 2^31 (see EngineConfig uidRange) and clear of the default range.
    te = await testEngine({ ...options(), uidRange: { start: 1_900_000_000 + randomInt(0, 900_000) * 256, count: 256 } });
  });

  beforeEach(({ onTestFailed }) => {
    current = [];
    onTestFailed(() => {
      const ids = current.map(({ sbx, uid }) => `${sbx.id} (host uid ${uid})`).join(', ');
      console.error(`sandboxes of the failed test: ${ids || 'none'}; engine ${te?.engine.id ?? '?'}, data dir ${te?.dataDir ?? '?'}`);
    });
  });

  afterEach(async () => {
    const engine = te?.engine;
    if (!engine) return;
    const mine = current;
    await Promise.all(mine.map(({ sbx }) => sbx.kill()));
    for (const { sbx, uid } of mine) {
      let left: string[] = [];
      await eventually(async () => (left = await sandboxLeftovers(engine, sbx, uid)).length === 0, 5000, `sandbox ${sbx.id} to leave nothing behind`).catch(
        () => undefined,
      );
      expect(left, `leftovers of sandbox ${sbx.id}`).toEqual([]);
    }
  });

  afterAll(async () => {
    if (!te) return;
    try {
      await te.engine.close();
      expect(await leftovers(te.engine, allUids), `leftovers of engine ${te.engine.id}`).toEqual([]);
    } finally {
      await te[Symbol.asyncDispose]();
    }
  });

  return {
    get engine(): Engine {
      if (!te) throw new Error('the engine exists only inside tests (beforeAll has not run)');
      return te.engine;
    },
    async create(spec?: SandboxSpecInput, context?: CreateContext): Promise<Sandbox> {
      if (!te) throw new Error('the engine exists only inside tests (beforeAll has not run)');
      const sbx = await te.engine.create(spec, context);
      const uid = sbx.info().hostUid;
      allUids.push(uid);
      current.push({ sbx, uid });
      return sbx;
    },
  };
}

/** Command line of a host process, NULs turned into spaces ('' once it is gone). */
export async function hostCmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
}

/** Host pids owned by `uid` whose command line contains `needle`. */
export async function hostPidsMatching(uid: number, needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await processesOwnedBy(new Set([uid]))) if ((await hostCmdline(pid)).includes(needle)) out.push(pid);
  return out;
}

/** True while a host pid exists and is not a zombie. */
export async function hostAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}

/** `Key:\tvalue` fields of /proc/<pid>/status text. */
export function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Reads `<sandbox cgroup>/<file>` in whichever hierarchy has it. */
export async function sandboxCgroupFile(engine: Engine, sbx: Sandbox, file: string): Promise<string> {
  for (const d of engine.cgroupDirs) {
    const text = await readFile(`${d}/${sbx.id}/${file}`, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  throw new Error(`no cgroup of sandbox ${sbx.id} has ${file} (dirs: ${engine.cgroupDirs.join(', ')})`);
}

/**
 * Host pids of every process in the sandbox's cgroup: under gVisor the host
 * processes of a sandbox (runsc, its gofer, sentry and ptrace stubs) run as
 * host `nobody`, not as the sandbox uid, so they are found this way.
 */
export async function sandboxHostPids(engine: Engine, sbx: Sandbox): Promise<number[]> {
  return (await sandboxCgroupFile(engine, sbx, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

/** `key value` lines (pids.events, memory.oom_control, memory.events) as numbers. */
export function counters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

export interface HostRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program on the host, outside any sandbox (positive twins run the
 * very same probe here to show it would notice). `uid` drops to that user.
 */
export async function runOnHost(argv: readonly string[], opts: { uid?: number; input?: string; timeoutMs?: number } = {}): Promise<HostRun> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('runOnHost needs a command');
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    cwd: '/',
    timeout: opts.timeoutMs ?? 20_000,
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => undefined); // EPIPE when the program exits without reading
  child.stdin.end(opts.input ?? '');
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** A long-running host process (for "can the sandbox see/kill it" probes); kill it in `finally`. */
export interface HostProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<unknown>;
}

export async function startOnHost(argv: readonly string[], opts: { uid?: number } = {}): Promise<HostProcess> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('startOnHost needs a command');
  const child = spawn(cmd, args, { stdio: 'ignore', env: {}, cwd: '/', ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }) });
  const exited = once(child, 'exit');
  if (child.pid === undefined) {
    await once(child, 'error');
    throw new Error(`could not start ${cmd} on the host`);
  }
  const pid = child.pid;
  await eventually(async () => (await hostCmdline(pid)).includes(args.join(' ')), 5000, `host process ${pid} to exec ${cmd}`);
  return {
    child,
    pid,
    exited,
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Reads a directory's entries on the host ([] when it does not exist). */
export async function hostEntries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** After an attack: the host still runs `hostProbe`, and the sandbox's agent still serves commands. */
export async function expectHostAndSandboxHealthy(sbx: Sandbox, hostProbe: string): Promise<void> {
  const host = await runOnHost(['sh', '-c', `${hostProbe}; echo ok`]);
  expect(host.code).toBe(0);
  expect(host.stdout).toBe('ok\n');
  const after = await sbx.exec(['echo', 'alive'], { timeoutMs: 10_000 });
  expect(after).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'alive\n' });
}
