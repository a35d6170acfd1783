import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { UidPool } from './uids.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-uids-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('two pools on one lock dir never hand out the same uid', async () => {
  const range = { start: 100_000, count: 64 };
  const a = new UidPool(dir, range, 16);
  const b = new UidPool(dir, range, 16);
  const uids = [];
  for (let i = 0; i < 32; i++) uids.push((await a.acquire()).uid, (await b.acquire()).uid);
  expect(new Set(uids).size).toBe(64);
  expect(uids.every((u) => u >= 100_000 && u < 100_064)).toBe(true);
  expect(hasCode(await a.acquire().catch((e: unknown) => e), 'E_CAPACITY')).toBe(true);
  await Promise.all([a.close(), b.close()]);
  expect(await readdir(dir)).toEqual([]);
});

it('reuses a released uid only after everything else in the block', async () => {
  const pool = new UidPool(dir, { start: 200_000, count: 4 }, 4);
  const first = await pool.acquire();
  await first.release();
  const next = [(await pool.acquire()).uid, (await pool.acquire()).uid, (await pool.acquire()).uid, (await pool.acquire()).uid];
  expect(next.at(-1)).toBe(first.uid);
  await pool.close();
});

it('reclaims a block whose owner process is dead, but not a live one', async () => {
  await writeFile(join(dir, 'block-300000'), '999999999'); // no such pid
  await writeFile(join(dir, 'block-300004'), String(process.pid)); // alive: taken
  const pool = new UidPool(dir, { start: 300_000, count: 8 }, 4);
  const got = new Set<number>();
  for (let i = 0; i < 4; i++) got.add((await pool.acquire()).uid);
  expect([...got].sort()).toEqual([300_000, 300_001, 300_002, 300_003]);
  expect(hasCode(await pool.acquire().catch((e: unknown) => e), 'E_CAPACITY')).toBe(true);
  await pool.close();
  expect(await readdir(dir)).toEqual(['block-300004']);
});
