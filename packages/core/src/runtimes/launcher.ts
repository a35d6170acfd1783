/**
 * What the runtimes that start through warden-launch (packages/agent/src/launch.c)
 * share: its staging and codebase options, spawning it with the agent's pipes,
 * and the probe checks for the native binaries. Pure except `spawnLauncher`
 * and `builtChecks`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, constants } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { WardenError } from '@warden/protocol';
import type { DeltaPaths, ProbeCheck, RuntimeExit, WorkspaceMount } from './driver.js';

/** Options of a codebase workspace: a read-only bind of the view, one capped tmpfs for the deltas, the overlays. */
export interface CodebaseLaunch {
  /** Read-only bind of the view on `target` (when not everything is overlaid). */
  readonly bindReadOnly?: { readonly source: string; readonly target: string };
  /** The one capped tmpfs that holds every overlay's upper and work dirs. */
  readonly delta?: { readonly dir: string; readonly sizeBytes: number; readonly inodes: number };
  /** Mounted in order; `lowers` topmost first; `rootMode` as the view's directory it covers. */
  readonly overlays: ReadonlyArray<{ readonly target: string; readonly lowers: readonly string[]; readonly rootMode: number }>;
}

/** A codebase workspace laid out for the launcher: the view (and overlays) at `ws`, the deltas' tmpfs at `deltaDir`. */
export function codebaseLaunch(w: Extract<WorkspaceMount, { kind: 'codebase' }>, ws: string, deltaDir: string): CodebaseLaunch {
  return {
    ...(w.base === undefined ? {} : { bindReadOnly: { source: w.base, target: ws } }),
    delta: { dir: deltaDir, sizeBytes: w.sizeBytes, inodes: w.inodes },
    overlays: w.overlays.map((o) => ({ target: o.prefix ? `${ws}/${o.prefix}` : ws, lowers: o.lowers, rootMode: o.rootMode })),
  };
}

/** `--bind-ro`, `--delta`, `--lower`/`--overlay` for a codebase workspace. */
export function codebaseArgs(c: CodebaseLaunch): string[] {
  const a: string[] = [];
  if (c.bindReadOnly) a.push('--bind-ro', `${c.bindReadOnly.source}:${c.bindReadOnly.target}`);
  if (c.delta && c.overlays.length > 0) a.push('--delta', `${c.delta.dir}:${c.delta.sizeBytes}:${c.delta.inodes}`);
  c.overlays.forEach((o, i) => {
    for (const lower of o.lowers) a.push('--lower', lower);
    a.push('--overlay', `${o.target}:${i}:${o.rootMode.toString(8)}`);
  });
  return a;
}

/**
 * Where the host reads a codebase delta the launcher mounted in its private
 * mount namespace: through /proc/PID/root of the launcher's pid (the runtime
 * it exec'd stays in that namespace).
 */
export function privateDelta(pid: number, w: WorkspaceMount, ws: string, deltaDir: string): { delta: DeltaPaths } | Record<string, never> {
  if (w.kind !== 'codebase') return {};
  return { delta: { merged: `/proc/${pid}/root${ws}`, uppers: w.overlays.map((o, i) => ({ prefix: o.prefix, path: `/proc/${pid}/root${deltaDir}/${i}/upper` })) } };
}

export interface StagingInput {
  readonly cgroupProcsFiles: readonly string[];
  readonly stageTmp: string;
  readonly stageShm: string;
  readonly tmpBytes: number;
  readonly tmpInodes: number;
}

/** `--cgroup` for each cgroup the sandbox joins first, and the capped tmpfs staged for /tmp and /dev/shm. */
export function stagingArgs(s: StagingInput): string[] {
  const a: string[] = [];
  for (const f of s.cgroupProcsFiles) a.push('--cgroup', f);
  // World-writable and sticky: the sandbox user's files in it are its own.
  for (const dir of [s.stageTmp, s.stageShm]) a.push('--tmpfs', `${dir}:${s.tmpBytes}:${s.tmpInodes}:1777`);
  return a;
}

const STDERR_TAIL_BYTES = 4096;

export interface LaunchedRuntime {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The agent's protocol pipes. */
  readonly agentIn: Writable;
  readonly agentOut: Readable;
  readonly exited: Promise<RuntimeExit>;
  /** The last bytes the launcher, the runtime and the agent wrote to stderr. */
  readonly diagnostics: () => string;
}

/**
 * Spawns warden-launch with an empty environment (the runtime never sees the
 * server's) and the agent's pipes on stdin/stdout; `extraFds` go on fd 3 and up.
 */
export async function spawnLauncher(launcherPath: string, argv: readonly string[], extraFds: readonly number[] = []): Promise<LaunchedRuntime> {
  const child = spawn(launcherPath, argv, { stdio: ['pipe', 'pipe', 'pipe', ...extraFds], env: {} });
  if (child.pid === undefined) {
    const [err] = (await once(child, 'error')) as [Error];
    throw new WardenError('E_RUNTIME_UNAVAILABLE', `Cannot run ${launcherPath}: ${err.message}. Run npm run build.`, { cause: err });
  }
  const { stdin, stdout, stderr } = child;
  if (!stdin || !stdout || !stderr) throw new WardenError('E_INTERNAL', 'spawn did not create the agent pipes');
  let tail = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<RuntimeExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, pid: child.pid, agentIn: stdin, agentOut: stdout, exited, diagnostics: () => tail.trim() };
}

export async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Probe checks that the native agent and launcher are built. */
export async function builtChecks(agentPath: string, launcherPath: string): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  for (const [name, path] of [
    ['agent', agentPath],
    ['launcher', launcherPath],
  ] as const) {
    checks.push((await executable(path)) ? { name, ok: true, detail: path } : { name, ok: false, detail: `${path} is missing`, fix: 'npm run build (builds the native agent and launcher)' });
  }
  return checks;
}

/** Probe check that Warden runs as root; `needs` says what for. */
export function rootCheck(needs: string): ProbeCheck {
  return process.getuid?.() === 0
    ? { name: 'root', ok: true, detail: `running as root (needed for ${needs})` }
    : { name: 'root', ok: false, detail: `running as uid ${process.getuid?.() ?? '?'}`, fix: 'run Warden as root' };
}
