/**
 * Test helpers that use the host as the oracle: temp dirs, a real engine, and
 * leak checks (processes, cgroups, state dirs) after teardown.
 */
import { mkdtemp, readdir, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '@warden/core';
import { UID_BLOCK_SIZE } from '../../packages/core/src/host/uids.js';

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = 'warden-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export interface TestEngine extends AsyncDisposable {
  readonly engine: Engine;
  readonly dataDir: string;
}

/** A real engine in a throwaway data dir; disposing it also asserts nothing leaked. */
export async function testEngine(options: EngineOptions = {}): Promise<TestEngine> {
  const data = await mkdtemp(join(tmpdir(), 'warden-data-'));
  const engine = await createEngine({ dataDir: data, ...options }).catch(async (err: unknown) => {
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
