import { expect, it } from 'vitest';
import { currentProcess, liveness, parseProcStat, pidsRunningAs } from './processes.js';

it('reads state and start time even when the command name has spaces and parentheses', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 4)); // fields 4, 5, …
  fields[18] = '123456'; // field 22
  expect(parseProcStat(`42 (a) b (c) S ${fields.join(' ')}`)).toEqual({ state: 'S', startTime: '123456' });
  expect(parseProcStat('garbage')).toBeUndefined();
});

it('tells a live owner from a dead one, a reused pid and a pid of another namespace', () => {
  const me = currentProcess();
  expect(liveness(me)).toBe('alive');
  expect(liveness({ ...me, startTime: '1' })).toBe('dead'); // same pid, another process
  expect(liveness({ ...me, pid: 999_999_999 })).toBe('dead');
  expect(liveness({ ...me, bootId: 'another-boot' })).toBe('dead');
  expect(liveness({ ...me, pidNs: 'pid:[1]' })).toBe('unknown');
});

it('finds the processes running as a uid', async () => {
  const uid = process.getuid?.() ?? 0;
  expect(await pidsRunningAs({ start: uid, count: 1 })).toContain(process.pid);
  expect(await pidsRunningAs({ start: 2_146_000_000, count: 1 })).toEqual([]);
});
