import { describe, expect, it } from 'vitest';
import { commandText, formatBytes, formatDuration, formatRelative, localInputToIso, outcomeOf, parseMetadataFilter, succeeded } from './format.js';

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [512 * 1_048_576, '512 MiB'],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s));

  it.each([
    [12, '12 ms'],
    [1500, '1.5 s'],
    [42_000, '42 s'],
    [60_000, '1 min 0 s'],
    [3_600_000, '1 h 0 min'],
    [9_970, '10 s'],
    [59_700, '1 min 0 s'],
    [3_599_600, '1 h 0 min'],
    [119_600, '2 min 0 s'],
  ])('formatDuration(%d) = %s', (ms, s) => expect(formatDuration(ms)).toBe(s));

  it('says times relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(formatRelative('2026-01-01T00:05:00Z', now)).toBe('in 5 min 0 s');
    expect(formatRelative('2025-12-31T23:59:30Z', now)).toBe('30 s ago');
    expect(formatRelative('2026-01-01T00:00:00.400Z', now)).toBe('now');
    expect(formatRelative('not a date', now)).toBe('not a date');
  });

  it.each([
    [{ reason: 'exited', exitCode: 0, signal: null, truncated: false }, 'exit 0', true],
    [{ reason: 'exited', exitCode: 2, signal: null, truncated: false }, 'exit 2', false],
    [{ reason: 'signaled', exitCode: null, signal: 'SIGKILL', truncated: false }, 'killed by SIGKILL', false],
    [{ reason: 'timeout', exitCode: null, signal: 'SIGKILL', truncated: true }, 'timed out (output truncated)', false],
    [{ reason: 'output-limit', exitCode: null, signal: 'SIGKILL', truncated: true }, 'output limit reached', false],
  ] as const)('outcome of %j is %s', (r, text, ok) => {
    expect(outcomeOf(r)).toBe(text);
    expect(succeeded(r)).toBe(ok);
  });

  it.each([
    [['/bin/bash', '-c', 'ls -la | wc -l'], 'ls -la | wc -l'],
    [['sh', '-c', 'echo hi'], 'echo hi'],
    [['python3', '-c', 'print(1)'], "python3 -c 'print(1)'"],
    [['ls', 'a b', ''], "ls 'a b' ''"],
    [['echo', "it's"], `echo 'it'\\''s'`],
  ])('commandText(%j) = %s', (argv, text) => expect(commandText(argv)).toBe(text));
});

describe('the metadata filter', () => {
  it('reads key=value pairs separated by commas', () => {
    expect(parseMetadataFilter(' team=ml , job=42,, ')).toEqual({ ok: true, value: { team: 'ml', job: '42' } });
    expect(parseMetadataFilter('')).toEqual({ ok: true, value: {} });
    expect(parseMetadataFilter('q=a=b')).toEqual({ ok: true, value: { q: 'a=b' } });
  });

  it.each(['team', '=ml', 'team=ml, job'])('refuses %j, saying what it expects', (text) => {
    const r = parseMetadataFilter(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/is not key=value\. Write filters as key=value, separated by commas\./);
  });
});

describe('datetime-local values', () => {
  it('become ISO instants, and empty or invalid ones no filter', () => {
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('garbage')).toBeUndefined();
    expect(localInputToIso('2026-01-02T03:04:05')).toBe(new Date('2026-01-02T03:04:05').toISOString());
  });
});
