/** The floor: a plain fork/exec of a command from this Node process, no sandbox. */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** `child_process.spawn` (default piped stdio) awaited until the child exits. */
export function hostSpawn(argv: readonly [string, ...string[]]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code ?? signal}`))));
  });
}

/** `spawnSync`, for reference: no event-loop round trip, blocks the process. */
export function hostSpawnSync(argv: readonly [string, ...string[]]): Promise<void> {
  const r = spawnSync(argv[0], argv.slice(1));
  return r.status === 0 ? Promise.resolve() : Promise.reject(new Error(`${argv[0]} exited ${r.status ?? r.signal}`));
}

/**
 * The machine's fork/exec ceiling without Node: `clients` parallel `sh` loops
 * each running `/bin/true` `perLoop` times. Resolves when all have finished.
 */
export async function hostShellLoops(clients: number, perLoop: number): Promise<{ ops: number; seconds: number }> {
  const script = `i=0; while [ $i -lt ${Math.floor(perLoop)} ]; do /bin/true; i=$((i+1)); done`;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
          child.once('error', reject);
          child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sh loop exited ${code}`))));
        }),
    ),
  );
  return { ops: clients * Math.floor(perLoop), seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function cpuTicks(text: string): { busy: number; all: number } {
  const f = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: all - idle, all };
}

/** Busy and total ticks (USER_HZ) of all CPUs so far, from /proc/stat: diff two to get a share busy or CPU time spent. */
export async function hostCpuTicks(): Promise<{ busy: number; all: number }> {
  return cpuTicks(await readFile('/proc/stat', 'utf8'));
}

/** Share of all CPUs (0..100) busy during `ms` while this process sleeps: other work on the host. */
export async function hostBusyPercent(ms: number): Promise<number> {
  const a = cpuTicks(await readFile('/proc/stat', 'utf8'));
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTicks(await readFile('/proc/stat', 'utf8'));
  return b.all > a.all ? (100 * (b.busy - a.busy)) / (b.all - a.all) : 0;
}
