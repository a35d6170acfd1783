import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { decodeAck, decodeEntry, decodeFlag, decodeWatchEvent } from './decode.js';
import { JsonLines, MAX_LINE_BYTES } from './lines.js';

const protocolError = (fn: () => unknown): boolean => {
  try {
    fn();
    return false;
  } catch (e) {
    return hasCode(e, 'E_AGENT_PROTOCOL');
  }
};

describe('JsonLines', () => {
  it('reassembles lines split anywhere, multi-byte characters included', () => {
    const got: unknown[] = [];
    const lines = new JsonLines((v) => got.push(v));
    const text = Buffer.from('{"a":"é😀"}\n{"b":1}\n{"c":"\\udcff"}\n');
    for (let i = 0; i < text.length; i++) lines.push(text.subarray(i, i + 1));
    lines.end();
    expect(got).toEqual([{ a: 'é😀' }, { b: 1 }, { c: '\udcff' }]);
  });

  it('refuses a line that is not JSON, one that never ends, and output cut mid-line', () => {
    expect(protocolError(() => new JsonLines(() => undefined).push(Buffer.from('nope\n')))).toBe(true);
    expect(protocolError(() => new JsonLines(() => undefined).push(Buffer.alloc(MAX_LINE_BYTES + 1, 0x20)))).toBe(true);
    const cut = new JsonLines(() => undefined);
    cut.push(Buffer.from('{"a":'));
    expect(protocolError(() => cut.end())).toBe(true);
  });
});

describe('decoders', () => {
  const entry = { name: 'a', path: '/workspace/a', type: 'file', size: 3, mode: 0o644, mtime: 1_700_000_000_123 };

  it('decodes an entry, with mtime as a Date and a symlink target', () => {
    expect(decodeEntry(entry)).toEqual({ ...entry, mtime: new Date(1_700_000_000_123) });
    expect(decodeEntry({ ...entry, type: 'symlink', target: '../x' }).target).toBe('../x');
  });

  it.each([
    ['a string', 'x'],
    ['an unknown type', { ...entry, type: 'device' }],
    ['a negative size', { ...entry, size: -1 }],
    ['a fractional size', { ...entry, size: 1.5 }],
    ['a mode with file-type bits', { ...entry, mode: 0o100644 }],
    ['a missing path', { ...entry, path: undefined }],
    ['a numeric target', { ...entry, target: 5 }],
  ])('refuses an entry with %s', (_what, v) => {
    expect(protocolError(() => decodeEntry(v))).toBe(true);
  });

  it('decodes events, flags and acks strictly', () => {
    expect(decodeWatchEvent({ type: 'create', path: '/w/x' })).toEqual({ type: 'create', path: '/w/x' });
    expect(protocolError(() => decodeWatchEvent({ type: 'explode', path: '/w/x' }))).toBe(true);
    expect(decodeFlag({ exists: false }, 'exists')).toBe(false);
    expect(protocolError(() => decodeFlag({ exists: 'no' }, 'exists'))).toBe(true);
    expect(decodeAck({ written: 1048576 })).toBe(1048576);
    expect(decodeAck(entry)).toBeUndefined();
    expect(protocolError(() => decodeAck({ written: -1 }))).toBe(true);
  });
});
