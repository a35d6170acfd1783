/**
 * Crash recovery covers pooled sandboxes: they live in the engine's state dir,
 * cgroups and uid blocks like any other, so after kill -9 of the engine's
 * process recoverDataDir leaves nothing of them. The host is the oracle, and
 * the probes are first shown to see the pool (positive twin).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { chmod, readFile, readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { recoverDataDir } from '@warden/core';
import { eventually, exists, tempDir, type TempDir } from '../helpers/host.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/crash-pool-engine.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const POOL = 3;

interface Crashed {
  readonly pid: number;
  readonly engineId: string;
  readonly stateDir: string;
  readonly cgroupDirs: string[];
  readonly uidLockFiles: string[];
  readonly pooled: string[];
}

let root: TempDir | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (root) await recoverDataDir(`${root.path}/data`, { minAgeMs: 0 }).catch(() => undefined);
  await root?.[Symbol.asyncDispose]();
});

/** Live (non-zombie) processes whose uid is in [start, start+count): after SIGKILL of the engine, init reaps (or not) the zombies. */
async function liveProcessesIn(start: number, count: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    if (uid >= start && uid < start + count && state !== 'Z' && state !== 'X') out.push(Number(name));
  }
  return out;
}

async function leaks(c: Crashed, uidStart: number): Promise<string[]> {
  const found: string[] = [];
  if (await exists(c.stateDir)) found.push(`state dir ${c.stateDir}`);
  for (const d of c.cgroupDirs) if (await exists(d)) found.push(`cgroup ${d}`);
  for (const d of c.cgroupDirs) for (const id of c.pooled) if (await exists(`${d}/${id}`)) found.push(`cgroup ${d}/${id}`);
  for (const id of c.pooled) if (await exists(`${c.stateDir}/ws/${id}`)) found.push(`workspace ${id}`);
  for (const f of c.uidLockFiles) if (await exists(f)) found.push(`uid lock ${f}`);
  for (const pid of await liveProcessesIn(uidStart, 256)) found.push(`process ${pid}`);
  return found;
}

it('after kill -9 of an engine with a full pool, recoverDataDir leaves nothing of the pooled sandboxes', async () => {
  root = await tempDir('warden-pool-crash-');
  await chmod(root.path, 0o711);
  const dataDir = `${root.path}/data`;
  const uidStart = 1_900_000_000 + randomInt(0, 900_000) * 256;
  const c = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, `${root.path}/uids`, String(uidStart), '256', String(POOL)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  let stderr = '';
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = once(c, 'exit').then(([code, sig]) => {
    throw new Error(`crash fixture exited early (${String(code ?? sig)}): ${stderr}`);
  });
  const [line] = (await Promise.race([once(createInterface({ input: c.stdout }), 'line'), exited])) as [string];
  exited.catch(() => undefined);
  const crashed = JSON.parse(line) as Crashed;

  expect(crashed.pooled).toHaveLength(POOL);
  const before = await leaks(crashed, uidStart);
  expect(before).toContain(`state dir ${crashed.stateDir}`);
  expect(before.filter((f) => f.startsWith('workspace '))).toHaveLength(POOL);
  expect(before.filter((f) => f.startsWith('process ')).length).toBeGreaterThanOrEqual(POOL);

  c.kill('SIGKILL');
  if (c.exitCode === null && c.signalCode === null) await once(c, 'exit');
  const report = await recoverDataDir(dataDir, { minAgeMs: 0, timeoutMs: 10_000 });
  expect(report.engines.map((e) => e.engineId)).toEqual([crashed.engineId]);
  expect(report.engines[0]?.errors).toEqual([]);
  // Zombies aside, the pid namespaces die with their engine; give the kernel a moment, then show what is left.
  await eventually(async () => (await leaks(crashed, uidStart)).length === 0, 10_000, 'nothing left').catch(() => undefined);
  expect(await leaks(crashed, uidStart)).toEqual([]);
}, 60_000);
