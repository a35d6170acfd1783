/**
 * The host processes of one gVisor sandbox: `runsc run` (Warden's child), its
 * children the gofer and the sentry (`runsc boot`), and the sentry's ptrace
 * stubs. They run as host `nobody`, like every gVisor sandbox's, so they are
 * found by parentage (named by pid + start time so that a reused pid is never
 * taken for one of them) or by membership of the sandbox cgroups.
 */
import { readdir, readFile } from 'node:fs/promises';
import { parseProcStat } from '../../host/processes.js';

export interface HostProcessRef {
  readonly pid: number;
  readonly startTime: string;
}

async function stat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

async function children(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const out = new Set<number>();
  for (const tid of tasks) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
    for (const c of text.split(/\s+/)) if (/^\d+$/.test(c)) out.add(Number(c));
  }
  return [...out];
}

/** Every live descendant of `pid`, parents before their children. */
export async function descendants(pid: number): Promise<HostProcessRef[]> {
  const out: HostProcessRef[] = [];
  const seen = new Set<number>([pid]);
  let level = [pid];
  while (level.length > 0) {
    const next: number[] = [];
    for (const p of level) {
      for (const c of await children(p)) {
        if (seen.has(c)) continue;
        seen.add(c);
        const st = await stat(c);
        if (!st) continue;
        out.push({ pid: c, startTime: st.startTime });
        next.push(c);
      }
    }
    level = next;
  }
  return out;
}

/** True while the process runs (a zombie holds nothing but its pid: it counts as gone). */
export async function running(p: HostProcessRef): Promise<boolean> {
  const st = await stat(p.pid);
  return st !== undefined && st.startTime === p.startTime && st.state !== 'Z' && st.state !== 'X';
}

/** SIGKILL, unless the pid is no longer this process. */
export async function killProcess(p: HostProcessRef): Promise<void> {
  if (!(await running(p))) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** Pids in the sandbox cgroups (every hierarchy has the same processes; a removed cgroup has none). */
async function cgroupMembers(procsFiles: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const f of procsFiles) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (/^\d+$/.test(line)) pids.add(Number(line));
  }
  return [...pids];
}

/**
 * SIGKILLs whatever still runs in the sandbox cgroups (everything there is
 * the sandbox's) until they are empty; false when `timeoutMs` passed first.
 */
export async function emptyCgroups(procsFiles: readonly string[], timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const pids = await cgroupMembers(procsFiles);
    if (pids.length === 0) return true;
    if (Date.now() > until) return false;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
