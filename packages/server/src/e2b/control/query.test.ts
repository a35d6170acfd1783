import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { parseMetadata, parseStartedAfter, parseStates } from './query.js';

describe('E2B list filters', () => {
  it('decodes metadata the way the SDK double-encodes it', () => {
    // What the SDK sends for { user: 'a b', 'k=1': 'x&y' } once the query string itself is decoded.
    const sent = new URLSearchParams({ user: encodeURIComponent('a b'), [encodeURIComponent('k=1')]: encodeURIComponent('x&y') }).toString();
    expect(parseMetadata(sent)).toEqual([
      ['user', 'a b'],
      ['k=1', 'x&y'],
    ]);
    expect(parseMetadata(undefined)).toEqual([]);
    expect(hasCode(catchErr(() => parseMetadata('a=%E0%A4%A')), 'E_INVALID_REQUEST')).toBe(true);
  });

  it.each([
    [undefined, ['running', 'paused']],
    ['running', ['running']],
    ['running,paused', ['running', 'paused']],
    [['paused'], ['paused']],
  ] as const)('reads state %j', (q, want) => {
    expect([...parseStates(q)]).toEqual(want);
  });

  it('refuses unknown states and bad times', () => {
    expect(hasCode(catchErr(() => parseStates('killed')), 'E_INVALID_REQUEST')).toBe(true);
    expect(hasCode(catchErr(() => parseStartedAfter('yesterday')), 'E_INVALID_REQUEST')).toBe(true);
    expect(parseStartedAfter('2025-01-31T12:00:00Z')).toBe(Date.UTC(2025, 0, 31, 12));
  });
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
