/**
 * Host processes as evidence: who owns an engine or a uid block, is that
 * owner still alive, and does anything still run as a given uid. A bare pid
 * is not an identity (pids are reused), so an owner is recorded as pid +
 * start time + boot id + pid namespace, all read from /proc.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. A reused pid has a different one. */
  readonly startTime: string;
  /** /proc/sys/kernel/random/boot_id: after a reboot nothing of the old boot runs. */
  readonly bootId: string;
  /** The pid namespace `pid` means something in, e.g. `pid:[4026531836]`. */
  readonly pidNs: string;
}

/** alive; dead; or unknown when it cannot be judged from here (another pid namespace). */
export type Liveness = 'alive' | 'dead' | 'unknown';

/** Parses /proc/<pid>/stat (proc(5)). The command name may hold spaces and ')', so fields count from the last ')'. */
export function parseProcStat(text: string): { state: string; startTime: string } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 (starttime) is rest[19].
  const state = rest[0];
  const startTime = rest[19];
  if (!state || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { state, startTime };
}

function statOf(pid: number | 'self'): { state: string; startTime: string } | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

function pidNamespace(): string {
  return readlinkSync('/proc/self/ns/pid');
}

/** The identity of this process (a few tiny /proc reads). */
export function currentProcess(): ProcessIdentity {
  const st = statOf('self');
  if (!st) throw new Error('cannot read /proc/self/stat: is /proc mounted?');
  return { pid: process.pid, startTime: st.startTime, bootId: bootId(), pidNs: pidNamespace() };
}

export function isProcessIdentity(v: unknown): v is ProcessIdentity {
  const o = v as Partial<Record<keyof ProcessIdentity, unknown>> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    Number.isSafeInteger(o.pid) &&
    (o.pid as number) > 0 &&
    typeof o.startTime === 'string' &&
    typeof o.bootId === 'string' &&
    typeof o.pidNs === 'string'
  );
}

export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.startTime === b.startTime && a.bootId === b.bootId && a.pidNs === b.pidNs;
}

export function liveness(owner: ProcessIdentity): Liveness {
  if (owner.bootId !== bootId()) return 'dead';
  // A pid from another pid namespace names some other process here: no verdict.
  if (owner.pidNs !== pidNamespace()) return 'unknown';
  const st = statOf(owner.pid);
  if (!st || st.startTime !== owner.startTime) return 'dead';
  // A zombie has exited; only its parent has not reaped it yet.
  return st.state === 'Z' || st.state === 'X' ? 'dead' : 'alive';
}

/** Liveness of a bare pid (legacy records): reuse cannot be detected, so a live pid counts as alive. */
export function pidLiveness(pid: number): Liveness {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
}

/**
 * Host pids with any of their real, effective, saved or filesystem uids in
 * [start, start + count) that can still run. Zombies are left out: they run
 * nothing and hold nothing but a pid until their parent reaps them, and an
 * orphan's parent is init, which on some hosts (minimal container inits)
 * never does; nobody else can reap them.
 */
export async function pidsRunningAs(range: { readonly start: number; readonly count: number }): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (!m || /^State:\s+[ZX]/m.test(status)) continue;
    const uids = m.slice(1).map(Number);
    if (uids.some((u) => u >= range.start && u < range.start + range.count)) out.push(Number(name));
  }
  return out;
}
