/**
 * Crash recovery for a data dir: finds the engines whose owning process died
 * without closing them and undoes what they left on the host (processes,
 * cgroups, mounts, lent directories, uid blocks, the state dir). Engines of
 * live processes, in this process or any other, are never touched.
 *
 * Which state dirs count as abandoned:
 * - with a record: when its owner is dead (same pid, start time and boot id
 *   no longer running; a zombie counts as dead). An owner in another pid
 *   namespace cannot be judged from here and is left alone.
 * - without a readable record (a crash between mkdir and the record write,
 *   or an engine of an older version): only when the dir is older than
 *   `minAgeMs` (an engine writes its record right after making the dir) and
 *   nothing runs in the cgroups its id implies. Lacking an owner to prove
 *   dead, running processes are taken as a sign of life; the dir is skipped.
 *
 * Steps are idempotent and ordered so that an interrupted run can simply be
 * run again: the state dir, which is how an engine is found, goes last, and
 * only if every earlier step succeeded.
 */
import { lstat, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { readCgroupLayout } from '../limits/layout.js';
import { silentLogger, type Logger } from '../logger.js';
import { sameProcess, liveness } from '../host/processes.js';
import { reapUidLock } from '../host/uids.js';
import { returnLentWorkspace } from '../host/workspace.js';
import { killAndRemove, populated } from './cgroups.js';
import { otherCgroupRoots, removeEngineContainers } from './docker.js';
import { unmountUnder } from './mounts.js';
import { ENGINE_ID, LENT_DIR, engineCgroupRoots, parseLentRecord, readEngineRecord, type CgroupRoot, type EngineRecord } from './record.js';

export interface RecoveryOptions {
  /** Where to log what was cleaned (info) and what failed (warn). Default: silent. */
  readonly logger?: Logger;
  /** A state dir without a readable record is treated as abandoned only once it is this old. Default 60000. */
  readonly minAgeMs?: number;
  /** How long one engine's processes get to die after SIGKILL, and its cgroups to become removable. Default 10000. */
  readonly timeoutMs?: number;
  /** Stops before the next engine (an engine being cleaned is finished). */
  readonly signal?: AbortSignal;
}

export interface RecoveredEngine {
  readonly engineId: string;
  readonly stateDir: string;
  /** `owner-dead`: its recorded owner process is gone; `no-record`: an old state dir without a readable record. */
  readonly reason: 'owner-dead' | 'no-record';
  /** The dead owner's pid, when recorded. */
  readonly ownerPid?: number;
  /** Pids sent SIGKILL. */
  readonly processesKilled: number[];
  /** Its docker sandboxes' containers, removed from the Docker Engine. */
  readonly containersRemoved: string[];
  readonly cgroupsRemoved: string[];
  readonly mountsUnmounted: string[];
  /** Host directories lent to its sandboxes, given back to their owners. */
  readonly workspacesReturned: string[];
  /** uid block lock files of the dead owner that were removed. */
  readonly uidLocksReleased: string[];
  /**
   * Lock files of the dead owner kept because processes (`pids`, not in this
   * engine's cgroups; perhaps another engine's of the same dead process) still
   * run as uids of the block. Not an error: the block stays unusable until
   * they are gone, then the first engine that needs it reclaims it.
   */
  readonly uidLocksKept: Array<{ readonly file: string; readonly pids: number[] }>;
  /** The state dir and, inside it, the sandboxes' fresh workspaces. */
  readonly dirsRemoved: string[];
  /** Steps that failed. The state dir is then kept, so the next recovery tries again. */
  readonly errors: string[];
}

export interface SkippedEngine {
  readonly engineId: string;
  /**
   * `owner-alive`: its owner runs. `owner-unknown`: its owner is in another pid
   * namespace. `too-young`: no record yet, younger than minAgeMs. `running-without-record`:
   * no record, and processes run in its cgroups. `unreadable`: it could not be judged (`detail` says why).
   */
  readonly reason: 'owner-alive' | 'owner-unknown' | 'too-young' | 'running-without-record' | 'unreadable';
  readonly detail?: string;
}

export interface RecoveryReport {
  readonly dataDir: string;
  /** Engines found abandoned, and what was cleaned for each. Empty when there was nothing to do. */
  readonly engines: RecoveredEngine[];
  /** Engines left untouched. */
  readonly skipped: SkippedEngine[];
}

interface Verdict {
  readonly reason: RecoveredEngine['reason'] | Exclude<SkippedEngine['reason'], 'unreadable'>;
  readonly record?: EngineRecord;
  readonly cgroups: readonly CgroupRoot[];
}

async function judge(stateDir: string, engineId: string, minAgeMs: number): Promise<Verdict> {
  const record = await readEngineRecord(stateDir, engineId);
  if (record) {
    const state = liveness(record.owner);
    if (state === 'alive') return { reason: 'owner-alive', cgroups: [] };
    if (state === 'unknown') return { reason: 'owner-unknown', cgroups: [] };
    return { reason: 'owner-dead', record, cgroups: record.cgroups };
  }
  const st = await stat(stateDir);
  if (Date.now() - st.mtimeMs < minAgeMs) return { reason: 'too-young', cgroups: [] };
  const cgroups = engineCgroupRoots(await readCgroupLayout(), engineId);
  if ((await populated(cgroups)).size > 0) return { reason: 'running-without-record', cgroups: [] };
  return { reason: 'no-record', cgroups };
}

async function lentRecords(stateDir: string): Promise<string[]> {
  return (await readdir(`${stateDir}/${LENT_DIR}`).catch(() => [])).filter((n) => n.endsWith('.json')).map((n) => `${stateDir}/${LENT_DIR}/${n}`);
}

async function recoverEngine(stateDir: string, engineId: string, v: Verdict, timeoutMs: number, signal: AbortSignal | undefined): Promise<RecoveredEngine> {
  const out = {
    engineId,
    stateDir,
    reason: v.reason as RecoveredEngine['reason'],
    ...(v.record ? { ownerPid: v.record.owner.pid } : {}),
    processesKilled: [] as number[],
    containersRemoved: [] as string[],
    cgroupsRemoved: [] as string[],
    mountsUnmounted: [] as string[],
    workspacesReturned: [] as string[],
    uidLocksReleased: [] as string[],
    uidLocksKept: [] as Array<{ file: string; pids: number[] }>,
    dirsRemoved: [] as string[],
    errors: [] as string[],
  };
  const step = async (name: string, fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (err) {
      out.errors.push(`${name}: ${(err as Error).message}`);
      return false;
    }
  };

  // 1. Nothing of the engine may run while its files are handed back or its uids reused.
  // Containers first: dockerd would otherwise notice their deaths and keep their records.
  await step('remove docker containers', async () => {
    out.containersRemoved.push(...(await removeEngineContainers(stateDir, engineId)));
  });
  const progress = { killed: new Set<number>(), removed: out.cgroupsRemoved };
  const stopped = await step('kill processes and remove cgroups', async () => {
    // With Docker's cgroup directories in the hierarchies the engine does not use.
    await killAndRemove([...v.cgroups, ...(await otherCgroupRoots(engineId, v.cgroups))], timeoutMs, signal, progress);
  });
  out.processesKilled.push(...[...progress.killed].sort((a, b) => a - b));
  await step('unmount', async () => {
    out.mountsUnmounted.push(...(await unmountUnder(stateDir)));
  });
  if (stopped) {
    for (const file of await lentRecords(stateDir)) {
      await step(`return lent workspace (${file})`, async () => {
        const rec = parseLentRecord(await readFile(file, 'utf8'));
        if (!rec) throw new Error('unreadable lent-workspace record');
        await returnLentWorkspace(rec.hostPath, rec.uid, rec.owner);
        out.workspacesReturned.push(rec.hostPath);
        await rm(file, { force: true });
      });
    }
  }
  // 2. uid blocks: only those of the dead owner (one process may have had several engines, in
  // several data dirs: its locks name the process), and only once nothing runs as their uids.
  const record = v.record;
  if (record) {
    await step('release uid locks', async () => {
      const names = await readdir(record.uidLockDir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.startsWith('block-'))) {
        const path = `${record.uidLockDir}/${name}`;
        const pids: number[] = [];
        const r = await reapUidLock(path, (lock) => typeof lock.owner === 'object' && sameProcess(lock.owner, record.owner), pids);
        if (r === 'reaped') out.uidLocksReleased.push(path);
        if (r === 'busy') out.uidLocksKept.push({ file: path, pids });
      }
    });
  }
  // 3. The state dir last: it is how the next recovery finds what is left.
  if (out.errors.length === 0) {
    await step('remove state dir', async () => {
      // Never delete through a mount point (it could be a host directory).
      if ((await unmountUnder(stateDir)).length > 0) throw new Error('something was mounted again under the state dir');
      const ws = await readdir(`${stateDir}/ws`).catch(() => [] as string[]);
      await rm(stateDir, { recursive: true, force: true });
      out.dirsRemoved.push(...ws.map((n) => `${stateDir}/ws/${n}`), stateDir);
    });
  }
  return out;
}

/**
 * Cleans up after engines in `dataDir` whose process died without closing
 * them; see the module comment for which count as dead. Safe to run at any
 * time and from several processes at once; a second run finds nothing.
 * `createEngine` runs it on its data dir before starting; a server may run it
 * itself first to log the report.
 *
 * @example
 * const report = await recoverDataDir('/var/lib/warden', { logger });
 * for (const e of report.engines) logger.info('recovered engine', { ...e });
 */
export async function recoverDataDir(dataDir: string, options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const log = options.logger ?? silentLogger;
  const minAgeMs = options.minAgeMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const report: RecoveryReport = { dataDir, engines: [], skipped: [] };
  // mountinfo shows canonical paths.
  const runDir = await realpath(`${dataDir}/run`).catch(() => undefined);
  if (!runDir) return report;
  for (const engineId of (await readdir(runDir)).filter((n) => ENGINE_ID.test(n)).sort()) {
    options.signal?.throwIfAborted();
    const stateDir = `${runDir}/${engineId}`;
    if (!(await lstat(stateDir).catch(() => undefined))?.isDirectory()) continue;
    let verdict: Verdict;
    try {
      verdict = await judge(stateDir, engineId, minAgeMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // closed or recovered meanwhile
      report.skipped.push({ engineId, reason: 'unreadable', detail: (err as Error).message });
      log.warn('could not tell whether an engine is abandoned; left alone', { engineId, err: (err as Error).message });
      continue;
    }
    if (verdict.reason !== 'owner-dead' && verdict.reason !== 'no-record') {
      report.skipped.push({ engineId, reason: verdict.reason });
      continue;
    }
    const done = await recoverEngine(stateDir, engineId, verdict, timeoutMs, options.signal);
    report.engines.push(done);
    const fields = { ...done };
    if (done.errors.length > 0) log.warn('recovery of an abandoned engine is incomplete; it will be retried', fields);
    else log.info('recovered an abandoned engine', fields);
    if (done.uidLocksKept.length > 0) log.warn('uid blocks of a dead engine are kept: processes still run as their uids', { engineId, kept: done.uidLocksKept });
  }
  return report;
}
