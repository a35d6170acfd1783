/**
 * Creates, watches and removes the cgroups of an engine and its sandboxes.
 * The launcher joins a sandbox's cgroups before exec'ing the runtime, so no
 * sandboxed code runs outside them.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';
import { placesOf, type CgroupLayout, type Controller } from './layout.js';
import { parseCounter, planCgroup, type CgroupLimits, type CgroupPlan } from './plan.js';

// `freezer` is not a v2 controller: cgroup.freeze exists in every non-root cgroup.
const V2_ENABLE = (controllers: readonly Controller[]): string =>
  controllers
    .filter((c) => c !== 'freezer')
    .map((c) => `+${c}`)
    .join(' ');

async function killAll(dir: string): Promise<number> {
  const text = await readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => '');
  const pids = text.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

/** Removes a cgroup dir, killing what is left in it; bounded wait. */
async function removeDir(dir: string, deadlineMs = 5000): Promise<void> {
  // The common case (already empty) is one cheap kernel call: no thread-pool hop.
  try {
    rmdirSync(dir);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
  }
  const until = Date.now() + deadlineMs;
  for (;;) {
    await killAll(dir);
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > until) {
        throw new WardenError('E_INTERNAL', `Could not remove cgroup ${dir}: ${code ?? String(err)}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * Most tasks all of an engine's sandboxes may hold at once: half the host's
 * pid space, so that sandboxes whose own limits add up to more (a gVisor
 * sandbox's host tasks run to ~25 per sandbox process under a fork bomb)
 * can never take the host's process table between them.
 */
export async function engineTaskCap(): Promise<number> {
  const read = async (f: string): Promise<number> => Number((await readFile(f, 'utf8').catch(() => '')).trim()) || Number.POSITIVE_INFINITY;
  const max = Math.min(await read('/proc/sys/kernel/pid_max'), await read('/proc/sys/kernel/threads-max'));
  return Number.isFinite(max) ? Math.max(1024, Math.floor(max / 2)) : 1 << 22;
}

export class EngineCgroups {
  readonly #layout: CgroupLayout;
  readonly #rel: string;

  private constructor(layout: CgroupLayout, rel: string) {
    this.#layout = layout;
    this.#rel = rel;
  }

  /** Makes `<mount>/warden/<engineId>` in each hierarchy (enabling v2 controllers on the way). */
  static async create(layout: CgroupLayout, engineId: string): Promise<EngineCgroups> {
    const rel = `warden/${engineId}`;
    const mounts = new Map<string, { hierarchy: 'v1' | 'v2'; controllers: Controller[] }>();
    for (const [c, p] of placesOf(layout)) {
      const e = mounts.get(p.mount) ?? { hierarchy: p.hierarchy, controllers: [] };
      e.controllers.push(c);
      mounts.set(p.mount, e);
    }
    for (const [mount, { hierarchy, controllers }] of mounts) {
      try {
        const enable = hierarchy === 'v2' ? V2_ENABLE(controllers) : '';
        if (enable) await writeFile(`${mount}/cgroup.subtree_control`, enable);
        // `<mount>/warden` is shared: an engine closing meanwhile removes it when it looks
        // empty, between our two mkdirs. Then it is made again (a few tries, then the error).
        for (let attempt = 1; ; attempt++) {
          await mkdir(`${mount}/warden`, { recursive: true });
          if (enable) await writeFile(`${mount}/warden/cgroup.subtree_control`, enable);
          try {
            await mkdir(`${mount}/${rel}`);
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
          }
        }
        if (enable) await writeFile(`${mount}/${rel}/cgroup.subtree_control`, enable);
        if (controllers.includes('pids')) await writeFile(`${mount}/${rel}/pids.max`, String(await engineTaskCap()));
      } catch (err) {
        throw new WardenError(
          'E_LIMIT_UNSUPPORTED',
          `Cannot set up cgroups under ${mount}: ${(err as Error).message}. Warden must run as root with a writable cgroup filesystem; see \`warden doctor\`.`,
          { cause: err },
        );
      }
    }
    return new EngineCgroups(layout, rel);
  }

  plan(sandboxId: string, limits: CgroupLimits): CgroupPlan {
    return planCgroup(this.#layout, this.relPath(sandboxId), limits);
  }

  /** A sandbox's cgroup path below every hierarchy's mount: `warden/<engineId>/<sandboxId>`. */
  relPath(sandboxId: string): string {
    return `${this.#rel}/${sandboxId}`;
  }

  /** Every engine-level directory, for leak checks. */
  dirs(): string[] {
    return [...new Set(placesOf(this.#layout).map(([, p]) => `${p.mount}/${this.#rel}`))];
  }

  async destroy(): Promise<void> {
    for (const dir of this.dirs()) await removeDir(dir);
    for (const mount of new Set(placesOf(this.#layout).map(([, p]) => p.mount))) {
      await rmdir(`${mount}/warden`).catch(() => undefined); // other engines may still use it
    }
  }
}

export class SandboxCgroup {
  readonly plan: CgroupPlan;

  private constructor(plan: CgroupPlan) {
    this.plan = plan;
  }

  static async create(plan: CgroupPlan, swapMb: number): Promise<SandboxCgroup> {
    const cg = new SandboxCgroup(plan);
    try {
      // cgroupfs files live in kernel memory and take microseconds; synchronous
      // calls beat a thread-pool round trip per open/write/close by far here.
      for (const d of plan.dirs) {
        mkdirSync(d.dir);
        for (const [file, value] of d.writes) writeFileSync(`${d.dir}/${file}`, value);
        for (const [file, value] of d.optionalWrites) {
          if (existsSync(`${d.dir}/${file}`)) writeFileSync(`${d.dir}/${file}`, value);
          else if (swapMb > 0) {
            throw new WardenError('E_LIMIT_UNSUPPORTED', `limits.swapMb=${swapMb} needs swap accounting, which this kernel lacks (${file} is missing). Set limits.swapMb to 0 or boot with swapaccount=1.`);
          }
        }
      }
    } catch (err) {
      await cg.destroy().catch(() => undefined);
      if (err instanceof WardenError) throw err;
      throw new WardenError('E_SANDBOX_START_FAILED', `Could not create the sandbox's cgroup: ${(err as Error).message}`, { cause: err });
    }
    return cg;
  }

  get procsFiles(): string[] {
    return this.plan.dirs.map((d) => `${d.dir}/cgroup.procs`);
  }

  /**
   * Runs `fn` with every process of the sandbox stopped, so that what the host
   * reads of the sandbox's files cannot change underneath it (no races with
   * symlink swaps). Refuses when the host has no freezer.
   */
  async frozen<T>(fn: () => Promise<T>): Promise<T> {
    const f = this.plan.freezer;
    if (!f) {
      throw new WardenError('E_LIMIT_UNSUPPORTED', 'This host has no cgroup freezer (v1 freezer hierarchy or cgroup v2), which Warden needs to read a sandbox’s changes safely. Mount the freezer controller.');
    }
    await writeFile(f.file, f.hierarchy === 'v1' ? 'FROZEN' : '1');
    try {
      const until = Date.now() + 5000;
      const stateFile = f.hierarchy === 'v1' ? f.file : f.file.replace(/cgroup\.freeze$/, 'cgroup.events');
      for (;;) {
        const state = await readFile(stateFile, 'utf8');
        if (f.hierarchy === 'v1' ? state.trim() === 'FROZEN' : /^frozen 1$/m.test(state)) break;
        if (Date.now() > until) throw new WardenError('E_INTERNAL', 'The sandbox did not freeze within 5 s; its changes were not read.');
        await new Promise((r) => setTimeout(r, 2));
      }
      return await fn();
    } finally {
      await writeFile(f.file, f.hierarchy === 'v1' ? 'THAWED' : '0').catch(() => undefined);
    }
  }

  /** How many processes the kernel's OOM killer has killed in this sandbox. */
  async oomKills(): Promise<number> {
    const text = await readFile(this.plan.oom.file, 'utf8').catch(() => '');
    return parseCounter(text, this.plan.oom.key);
  }

  /** Kills everything left and removes the directories (idempotent). */
  async destroy(): Promise<void> {
    const results = await Promise.allSettled(this.plan.dirs.map((d) => removeDir(d.dir)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
