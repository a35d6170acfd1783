import { describe, expect, it } from 'vitest';
import { forEachLimit, RwLock } from './concurrency.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('forEachLimit', () => {
  it('never runs more than `limit` calls at once and visits every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit(Array.from({ length: 50 }, (_, i) => i), 4, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      seen.push(i);
      running--;
    });
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rethrows the first error after the running calls finished, and starts no new ones', async () => {
    let started = 0;
    let running = 0;
    const p = forEachLimit(Array.from({ length: 100 }, (_, i) => i), 3, async (i) => {
      started++;
      running++;
      await tick();
      running--;
      if (i === 1) throw new Error('boom');
    });
    await expect(p).rejects.toThrow('boom');
    expect(running).toBe(0);
    expect(started).toBeLessThan(10);
  });

  it('stops with the abort reason', async () => {
    const ac = new AbortController();
    const p = forEachLimit([1, 2, 3, 4, 5, 6], 1, async (i) => {
      if (i === 2) ac.abort(new Error('stop'));
      await tick();
    }, ac.signal);
    await expect(p).rejects.toThrow('stop');
  });
});

describe('RwLock', () => {
  it('lets readers share, and gives a writer the lock alone', async () => {
    const lock = new RwLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const r1 = lock.shared(async () => {
      log.push('r1 in');
      await gate;
      log.push('r1 out');
    });
    const r2 = lock.shared(() => Promise.resolve(void log.push('r2')));
    await r2; // a second reader does not wait for the first
    const w = lock.exclusive(() => Promise.resolve(void log.push('w')));
    const r3 = lock.shared(() => Promise.resolve(void log.push('r3'))); // queued behind the waiting writer
    await tick();
    expect(log).toEqual(['r1 in', 'r2']);
    release();
    await Promise.all([r1, w, r3]);
    expect(log).toEqual(['r1 in', 'r2', 'r1 out', 'w', 'r3']);
  });

  it('releases the lock when the holder throws', async () => {
    const lock = new RwLock();
    await expect(lock.exclusive(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(lock.shared(() => Promise.resolve(7))).resolves.toBe(7);
  });
});
