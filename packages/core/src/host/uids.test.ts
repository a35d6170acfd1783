import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { currentProcess } from './processes.js';
import { UID_BLOCK_SIZE, UidPool, parseUidLock, reapUidLock } from './uids.js';

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

it('writes locks whole, naming this process by pid and start time', async () => {
  const pool = new UidPool(dir, { start: 400_000, count: 4 }, 4);
  await pool.acquire();
  expect(await readdir(dir)).toEqual(['block-400000']); // no drafts left
  const lock = parseUidLock(await readFile(join(dir, 'block-400000'), 'utf8'), 'block-400000');
  expect(lock).toEqual({ owner: currentProcess(), block: { start: 400_000, count: 4 } });
  await pool.close();
});

it('reclaims a block whose owner pid now belongs to another process', async () => {
  // This process's pid, but another start time: the owner died and the pid was reused.
  const owner = { ...currentProcess(), startTime: '1' };
  await writeFile(join(dir, 'block-500000'), JSON.stringify({ owner, start: 500_000, count: 4 }));
  const pool = new UidPool(dir, { start: 500_000, count: 4 }, 4);
  expect((await pool.acquire()).uid).toBe(500_000);
  await pool.close();
});

it('does not reclaim a dead owner’s block while a process still runs as one of its uids', async () => {
  const me = process.getuid?.() ?? 0; // this process runs as it
  const dead = { ...currentProcess(), pid: 999_999_999 };
  await writeFile(join(dir, `block-${me}`), JSON.stringify({ owner: dead, start: me, count: 1 }));
  const pool = new UidPool(dir, { start: me, count: 1 }, 1);
  expect(hasCode(await pool.acquire().catch((e: unknown) => e), 'E_CAPACITY')).toBe(true);
  const busy: number[] = [];
  expect(await reapUidLock(join(dir, `block-${me}`), undefined, busy)).toBe('busy');
  expect(busy).toContain(process.pid);
  await pool.close();
});

it('reads lock files of both formats', () => {
  expect(parseUidLock('1234', 'block-600000')).toEqual({ owner: 1234, block: { start: 600_000, count: UID_BLOCK_SIZE } });
  expect(parseUidLock('', 'block-600000')).toEqual({ owner: undefined, block: { start: 600_000, count: UID_BLOCK_SIZE } });
});
