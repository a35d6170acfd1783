import { describe, expect, it } from 'vitest';
import type { ExecResult } from '@warden/protocol';
import { ConnectFailure } from '../errors.js';
import { dataOf, endOf } from './process-events.js';

const result = (r: Partial<ExecResult>): ExecResult => ({ reason: 'exited', exitCode: 0, signal: null, stdout: '', stderr: '', truncated: false, durationMs: 1, cpuUserMs: 0, cpuSystemMs: 0, maxRssKb: 0, ...r });

describe('process ends as envd reports them', () => {
  it.each([
    [{ reason: 'exited', exitCode: 0 }, { exitCode: 0, exited: true, status: 'exit status 0' }],
    [{ reason: 'exited', exitCode: 3 }, { exitCode: 3, exited: true, status: 'exit status 3', error: 'exit status 3' }],
    [{ reason: 'signaled', exitCode: null, signal: 'SIGKILL' }, { exitCode: -1, exited: false, status: 'signal: killed', error: 'signal: killed' }],
    [{ reason: 'signaled', exitCode: null, signal: 'SIGTERM' }, { exitCode: -1, exited: false, status: 'signal: terminated', error: 'signal: terminated' }],
    [{ reason: 'signaled', exitCode: null, signal: 'SIGWINCH' }, { exitCode: -1, exited: false, status: 'signal: SIGWINCH', error: 'signal: SIGWINCH' }],
    [{ reason: 'oom', exitCode: null, signal: 'SIGKILL' }, { exitCode: -1, exited: false, status: 'signal: killed', error: 'signal: killed (the sandbox ran out of memory)' }],
    [{ reason: 'output-limit', exitCode: null, signal: 'SIGKILL' }, { exitCode: -1, exited: false, status: 'signal: killed', error: "signal: killed (its output passed the sandbox's output cap (limits.maxOutputBytes))" }],
  ] as const)('%j → %j', (r, want) => {
    expect(endOf(result(r), 1000)).toEqual(want);
  });

  it.each([
    ['timeout', 'deadline_exceeded'],
    ['sandbox-closed', 'unavailable'],
  ] as const)('ends the stream instead when the reason is %s (%s)', (reason, code) => {
    const end = endOf(result({ reason, exitCode: null }), 1500);
    expect(end).toBeInstanceOf(ConnectFailure);
    expect((end as ConnectFailure).code).toBe(code);
  });

  it("sends a terminal's output as pty data", () => {
    expect(dataOf({ type: 'stdout', seq: 1, data: 'aGk=' }, true)).toEqual({ data: { pty: 'aGk=' } });
    expect(dataOf({ type: 'stderr', seq: 2, data: 'aGk=' }, false)).toEqual({ data: { stderr: 'aGk=' } });
  });
});
