import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

/** A queue whose jobs finish when the test says so. */
function harness() {
  const log: string[] = [];
  const finish = new Map<string, (r: string) => void>();
  let stopped = false;
  const q = new SerialQueue<string, string>({
    execute: (job) => {
      log.push(`start ${job}`);
      return new Promise((resolve) => finish.set(job, resolve));
    },
    stopped: () => stopped,
    abortedBeforeStart: (job) => `${job}: not run`,
    interrupt: (job) => finish.get(job)?.(`${job}: interrupted`),
    onResult: (job, r) => log.push(`result ${r}`),
  });
  return { q, log, finish, stop: () => (stopped = true) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SerialQueue', () => {
  it('runs one job at a time, in call order', async () => {
    const { q, log, finish } = harness();
    const a = q.run('a', undefined);
    const b = q.run('b', undefined);
    await tick();
    expect(log).toEqual(['start a']);
    expect([q.current, q.queued]).toEqual(['a', 1]);
    finish.get('a')!('a done');
    expect(await a).toBe('a done');
    await tick();
    finish.get('b')!('b done');
    expect(await b).toBe('b done');
    expect(log).toEqual(['start a', 'result a done', 'start b', 'result b done']);
  });

  it('an abort takes a waiting job out of the line and interrupts the running one', async () => {
    const { q, log } = harness();
    const ac = { a: new AbortController(), b: new AbortController() };
    const a = q.run('a', ac.a.signal);
    const b = q.run('b', ac.b.signal);
    ac.b.abort();
    expect(await b).toBe('b: not run');
    ac.a.abort();
    expect(await a).toBe('a: interrupted');
    expect(log).not.toContain('start b');
    expect(await q.run('c', AbortSignal.abort())).toBe('c: not run');
  });

  it('once stopped, starts nothing more and drain settles what waits', async () => {
    const { q, log, finish, stop } = harness();
    const a = q.run('a', undefined);
    const b = q.run('b', undefined);
    stop();
    q.drain((job) => `${job}: drained`);
    expect(await b).toBe('b: drained');
    finish.get('a')!('a done');
    await a;
    await q.idle;
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start a']);
  });
});
