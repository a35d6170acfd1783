/**
 * Empties and removes a dead engine's cgroup trees. Every sandbox process
 * was placed in the sandbox's cgroups before any sandboxed code ran and
 * cannot leave them (it has no privilege on the host), so the cgroups are
 * the complete list of what may still run: double forks, setsid and
 * reparenting do not get a process out.
 */
import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';
import type { CgroupRoot } from './record.js';

export interface CgroupCleanup {
  /** Pids sent SIGKILL. */
  readonly killed: Set<number>;
  /** Directories removed, deepest first. */
  readonly removed: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `dir` and every cgroup below it, children before their parent; [] when `dir` is gone. */
async function subtree(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) if (e.isDirectory()) out.push(...(await subtree(`${dir}/${e.name}`)));
  out.push(dir);
  return out;
}

async function procsOf(dir: string): Promise<number[]> {
  const text = await readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => '');
  // 0: a process in a pid namespace this one cannot see.
  return text.split('\n').filter(Boolean).map(Number).filter((p) => p > 0);
}

/** Pids still in any cgroup of the trees, by directory. */
export async function populated(roots: readonly CgroupRoot[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const root of roots) {
    for (const dir of await subtree(root.dir)) {
      const pids = await procsOf(dir);
      if (pids.length > 0) out.set(dir, pids);
    }
  }
  return out;
}

async function setFrozen(root: CgroupRoot, frozen: boolean): Promise<void> {
  const [file, value] = root.hierarchy === 'v1' ? ['freezer.state', frozen ? 'FROZEN' : 'THAWED'] : ['cgroup.freeze', frozen ? '1' : '0'];
  await writeFile(`${root.dir}/${file}`, value).catch(() => undefined);
}

async function waitFrozen(root: CgroupRoot, until: number): Promise<void> {
  const [file, done] = root.hierarchy === 'v1' ? ['freezer.state', /^FROZEN$/m] : ['cgroup.events', /^frozen 1$/m];
  while (Date.now() < until) {
    const state = await readFile(`${root.dir}/${file}`, 'utf8').catch(() => '');
    if (!state || done.test(state)) return;
    await sleep(2);
  }
}

/**
 * SIGKILLs everything in the trees until they are empty, then removes every
 * directory depth-first. v2 uses cgroup.kill (one atomic kill of a whole
 * subtree). Otherwise the tree is frozen first where a freezer exists, so
 * nothing forks or exits between reading a pid and killing it (which would
 * aim the signal at a reused pid); frozen processes die when thawed.
 * Throws E_INTERNAL if the trees are not empty by `timeoutMs`; `progress`
 * then still says what was done.
 */
export async function killAndRemove(roots: readonly CgroupRoot[], timeoutMs: number, signal?: AbortSignal, progress: CgroupCleanup = { killed: new Set(), removed: [] }): Promise<CgroupCleanup> {
  const until = Date.now() + timeoutMs;
  const { killed, removed } = progress;
  for (;;) {
    const left = await populated(roots);
    if (left.size === 0) break;
    signal?.throwIfAborted();
    if (Date.now() > until) {
      throw new WardenError('E_INTERNAL', `Processes ${[...new Set([...left.values()].flat())].join(', ')} in ${[...left.keys()].join(', ')} did not die within ${timeoutMs} ms of SIGKILL.`);
    }
    for (const root of roots) {
      if (root.hierarchy === 'v2') {
        const pids = (await populated([root])).values();
        for (const p of [...pids].flat()) killed.add(p);
        await writeFile(`${root.dir}/cgroup.kill`, '1').catch(() => undefined);
      }
    }
    const freezers = roots.filter((r) => r.freezer);
    for (const r of freezers) await setFrozen(r, true);
    try {
      for (const r of freezers) await waitFrozen(r, Math.min(until, Date.now() + 1000));
      for (const pids of (await populated(roots)).values()) {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
            killed.add(pid);
          } catch {
            // already gone
          }
        }
      }
    } finally {
      for (const r of freezers) await setFrozen(r, false);
    }
    await sleep(10);
  }
  for (const root of roots) {
    for (const dir of await subtree(root.dir)) {
      for (;;) {
        try {
          await rmdir(dir);
          removed.push(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // EBUSY: the last processes are still leaving (their exit is not complete yet).
          if (code !== 'EBUSY' || Date.now() > until) throw new WardenError('E_INTERNAL', `Could not remove cgroup ${dir}: ${code ?? String(err)}`, { cause: err });
          await sleep(10);
        }
      }
    }
    // `<mount>/warden` is shared by every engine on the host: removed only once empty.
    await rmdir(root.dir.slice(0, root.dir.lastIndexOf('/'))).catch(() => undefined);
  }
  return progress;
}
