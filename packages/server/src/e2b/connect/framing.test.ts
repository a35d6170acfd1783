import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { FLAG_END_STREAM, envelope, jsonEnvelope, parseEnvelopes, parseSingleMessage } from './framing.js';

describe('Connect envelopes', () => {
  it('frames a message as flags, a big-endian length and the bytes', () => {
    expect([...envelope(FLAG_END_STREAM, Buffer.from('{}'))]).toEqual([2, 0, 0, 0, 2, 0x7b, 0x7d]);
    expect(parseEnvelopes(Buffer.concat([jsonEnvelope({ a: 1 }), jsonEnvelope({}, FLAG_END_STREAM)])).map((e) => [e.flags, e.data.toString()])).toEqual([
      [0, '{"a":1}'],
      [2, '{}'],
    ]);
  });

  it('reads the one message of a server-streaming request', () => {
    expect(parseSingleMessage(jsonEnvelope({ path: '/x' }))).toEqual({ path: '/x' });
    expect(parseEnvelopes(Buffer.alloc(0))).toEqual([]);
  });

  it.each([
    ['a truncated header', Buffer.from([0, 0, 0])],
    ['a length past the end', Buffer.from([0, 0, 0, 0, 9, 0x7b, 0x7d])],
    ['a compressed message', envelope(1, Buffer.from('{}'))],
    ['two messages', Buffer.concat([jsonEnvelope({}), jsonEnvelope({})])],
    ['no message', Buffer.alloc(0)],
    ['an end-of-stream flag', jsonEnvelope({}, FLAG_END_STREAM)],
    ['a message that is not JSON', envelope(0, Buffer.from('{nope'))],
  ])('refuses %s with E_INVALID_REQUEST', (_what, body) => {
    let caught: unknown;
    try {
      parseSingleMessage(body);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'E_INVALID_REQUEST')).toBe(true);
  });
});
