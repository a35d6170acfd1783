/**
 * One 10,000-file codebase, 100 sandboxes on it at once under `agent-safe`:
 * each writes its own file and reads a shared one, and sees only its own
 * write; the shared view is built once; killing them all leaves nothing on
 * the host (processes, cgroups, staging entries, mounts, engine state).
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { eventually, exists, leftovers, processesOwnedBy, tempDir, testEngine, type TempDir, type TestEngine } from '../helpers/host.js';

const DIRS = 100;
const FILES_PER_DIR = 100;
const SANDBOXES = 100;
/** How many creates (and execs) run at once; all SANDBOXES are alive together regardless. */
const PARALLEL = 8;
const SHARED = 'shared content for everyone\n';
const LIMITS = { memoryMb: 64, pids: 32, diskMb: 4, tmpMb: 4, diskInodes: 256 };

let t: TestEngine;
let src: TempDir;

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Host mounts (overlay or tmpfs) whose mount point or options name `dir`. */
async function hostMountsUnder(dir: string): Promise<string[]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  return lines.filter((l) => / - (overlay|tmpfs) /.test(l) && l.includes(dir));
}

beforeAll(async () => {
  // A uid slice of our own, so that the process checks cannot see another test file's sandboxes.
  t = await testEngine({ uidRange: { start: 1_900_000_000 + randomInt(0, 900_000) * 256, count: 256 } });
  src = await tempDir('warden-scale-');
  const started = Date.now();
  for (let d = 0; d < DIRS; d++) {
    const dir = join(src.path, 'pkg', `d${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: FILES_PER_DIR }, (_, f) => writeFile(join(dir, `f${f}.txt`), `d${d} f${f}\n`)));
  }
  await writeFile(join(src.path, 'shared.txt'), SHARED);
  await mkdir(join(src.path, 'output'));
  await writeFile(join(src.path, 'output', 'README'), 'results go here\n');
  await writeFile(join(src.path, '.env'), 'TOKEN=hidden-from-agents\n');
  const written = Date.now();
  const m = await t.engine.codebases.add({ dir: src.path }, { name: 'big' });
  expect(m.entries.filter((e) => e.type === 'file')).toHaveLength(DIRS * FILES_PER_DIR + 3);
  console.info(`10k-file codebase written in ${written - started} ms, added in ${Date.now() - written} ms`);
}, 60_000);

/** Host uids of every sandbox this file made: the engine's leftover check looks for their processes and leases. */
const usedUids = new Set<number>();

afterAll(async () => {
  if (t) {
    await t.engine.close();
    expect(await leftovers(t.engine, [...usedUids]), 'leftovers of the engine').toEqual([]);
    await t[Symbol.asyncDispose]();
  }
  await src?.[Symbol.asyncDispose]();
});

describe('100 sandboxes on one 10k-file codebase', () => {
  it('all alive at once, each sees only its own write, and killing them all leaves nothing', async () => {
    const engine = t.engine;
    const sandboxes: Sandbox[] = [];
    try {
      let started = Date.now();
      await mapLimit(Array.from({ length: SANDBOXES }), PARALLEL, async () => {
        sandboxes.push(await engine.create({ codebase: { name: 'big' }, preset: 'agent-safe', limits: LIMITS }));
      });
      console.info(`${SANDBOXES} sandboxes created in ${Date.now() - started} ms`);
      expect(engine.list()).toHaveLength(SANDBOXES);
      const uids = new Set(sandboxes.map((s) => s.info().hostUid));
      expect(uids.size).toBe(SANDBOXES);
      for (const u of uids) usedUids.add(u);
      // Alive together: every sandbox has a process on the host right now.
      const owners = new Set<number>();
      for (const pid of await processesOwnedBy(uids)) {
        const m = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
        if (m) owners.add(Number(m[1]));
      }
      expect(owners.size).toBe(SANDBOXES);
      // The view of (version, policy) was built once and is shared.
      const views = (await readdir(join(t.dataDir, 'views'))).filter((n) => n.startsWith('big@1~'));
      expect(views).toHaveLength(1);
      // No overlay or tmpfs of theirs is visible in the host's mount namespace.
      expect(await hostMountsUnder(engine.stateDir)).toEqual([]);

      // Round 1: everyone writes its own file (and the shared file stays readable, .env hidden).
      started = Date.now();
      const writes = await mapLimit(sandboxes, PARALLEL, (s, i) =>
        s.exec(['sh', '-c', 'echo "$1" > "output/$1.txt" && cat shared.txt pkg/d42/f7.txt && test ! -e .env', 'sh', `w${i}`], { timeoutMs: 20_000 }),
      );
      writes.forEach((r, i) =>
        expect(r, `sandbox ${sandboxes[i]!.id}: ${r.stderr}`).toMatchObject({ reason: 'exited', exitCode: 0, stdout: `${SHARED}d42 f7\n` }),
      );
      // Round 2, after every write: each sees its own file and nobody else's; the shared file is unchanged.
      const reads = await mapLimit(sandboxes, PARALLEL, (s) => s.exec(['sh', '-c', 'ls output; cat output/*.txt; cat shared.txt'], { timeoutMs: 20_000 }));
      reads.forEach((r, i) => expect(r.stdout, `sandbox ${sandboxes[i]!.id}: ${r.stderr}`).toBe(`README\nw${i}.txt\nw${i}\n${SHARED}`));
      // The writes went to each sandbox's delta: the codebase, its view and the host's copy of output/ never changed.
      expect((await engine.codebases.show('big')).version).toBe(1);
      expect(await readdir(join(t.dataDir, 'views', views[0]!, 'tree', 'output'))).toEqual(['README']);
      const diff = await sandboxes[7]!.diff();
      expect(diff).toEqual({ added: [{ path: 'output/w7.txt', type: 'file', size: 3 }], modified: [], deleted: [] });
      console.info(`2 rounds of ${SANDBOXES} execs in ${Date.now() - started} ms`);

      // Kill them all at once.
      started = Date.now();
      const ids = sandboxes.map((s) => s.id);
      await Promise.all(sandboxes.map((s) => s.kill()));
      console.info(`${SANDBOXES} sandboxes killed in ${Date.now() - started} ms`);
      await eventually(async () => (await processesOwnedBy(uids)).length === 0, 10_000, 'every sandbox process to be gone');
      const cgroupsLeft: string[] = [];
      for (const d of engine.cgroupDirs) for (const id of ids) if (await exists(join(d, id))) cgroupsLeft.push(join(d, id));
      expect(cgroupsLeft).toEqual([]);
      expect(await readdir(join(engine.stateDir, 'stage', 'ws'))).toEqual([]);
      expect(await readdir(join(engine.stateDir, 'ws'))).toEqual([]);
      expect(await hostMountsUnder(engine.stateDir)).toEqual([]);
      expect(await hostMountsUnder(t.dataDir)).toEqual([]);
      expect(engine.list()).toEqual([]);
      // Nothing uses the codebase any more: it may be deleted.
      await engine.codebases.delete('big');
    } catch (err) {
      console.error(`sandboxes of the failed test: ${sandboxes.map((s) => `${s.id} (uid ${s.info().hostUid})`).join(', ')}`);
      throw err;
    } finally {
      await Promise.allSettled(sandboxes.map((s) => s.kill()));
    }
  }, 60_000);
});
