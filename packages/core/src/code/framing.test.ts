/** The host side of the code protocol: requests, line splitting, and events checked as untrusted input. */
import { describe, expect, it } from 'vitest';
import { EventReader, LineSplitter, ProtocolViolation, bootstrapFrame, encodeRun, parseEvent, resultBytes, type ServerEvent } from './framing.js';

describe('bootstrapFrame', () => {
  it('prefixes the source with its length in bytes, not characters', () => {
    const frame = bootstrapFrame('print("é")\n');
    const nl = frame.indexOf(0x0a);
    expect(frame.subarray(0, nl).toString()).toBe('12');
    expect(frame.subarray(nl + 1).toString()).toBe('print("é")\n');
  });
});

describe('encodeRun', () => {
  it('is one JSON line however many newlines the code has', () => {
    const line = encodeRun({ id: 7, code: 'a = 1\nb = 2\r\n"\\n"' }).toString();
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ op: 'run', id: 7, code: 'a = 1\nb = 2\r\n"\\n"' });
  });

  it('marks rewritten async cells, and only those', () => {
    expect(JSON.parse(encodeRun({ id: 1, code: 'x', async: true }).toString())).toMatchObject({ async: true });
    expect(JSON.parse(encodeRun({ id: 1, code: 'x', async: false }).toString())).not.toHaveProperty('async');
  });
});

describe('LineSplitter', () => {
  it('yields whole lines across chunk boundaries, including a character split in two', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('{"a":"é"}\n{"b":2}\n{"c"');
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...s.push(bytes.subarray(i, i + 1)));
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}']);
    expect(s.pendingBytes).toBe(4);
    expect(s.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
    expect(s.pendingBytes).toBe(0);
  });

  it('yields several lines of one chunk, and empty lines', () => {
    expect(new LineSplitter().push(Buffer.from('1\n\n2\n'))).toEqual(['1', '', '2']);
  });

  it('does not keep a view of a chunk the caller may reuse', () => {
    const s = new LineSplitter();
    const chunk = Buffer.from('abc');
    s.push(chunk);
    chunk.fill(0x78);
    expect(s.push(Buffer.from('\n'))).toEqual(['abc']);
  });

  it.each([
    ['in one chunk', ['x'.repeat(11) + '\n']],
    ['across chunks', ['x'.repeat(6), 'x'.repeat(6)]],
    ['across chunks, ended', ['x'.repeat(6), 'x'.repeat(6) + '\n']],
  ])('refuses a line longer than its limit (%s)', (_what, chunks) => {
    const s = new LineSplitter(10);
    expect(() => chunks.forEach((c) => s.push(Buffer.from(c)))).toThrow(ProtocolViolation);
  });

  it('takes a line of exactly its limit', () => {
    expect(new LineSplitter(10).push(Buffer.from('x'.repeat(10) + '\n'))).toEqual(['x'.repeat(10)]);
  });
});

describe('parseEvent', () => {
  it.each([
    ['{"type":"stdout","text":"hi\\n"}', { type: 'stdout', text: 'hi\n' }],
    ['{"type":"stderr","text":""}', { type: 'stderr', text: '' }],
    ['{"type":"error","name":"ValueError","value":"bad","traceback":"Traceback…"}', { type: 'error', name: 'ValueError', value: 'bad', traceback: 'Traceback…' }],
    ['{"type":"done","id":3,"executionCount":2}', { type: 'done', id: 3, executionCount: 2 }],
    ['{"type":"ready","language":"python","version":"3.11.2","pid":12}', { type: 'ready', language: 'python', version: '3.11.2', pid: 12 }],
    ['{"type":"result","result":{"isMainResult":true,"text":"42","json":[1,{"a":null}]}}', { type: 'result', result: { isMainResult: true, text: '42', json: [1, { a: null }] } }],
  ])('parses %s', (line, event) => {
    expect(parseEvent(line)).toEqual(event);
  });

  it('keeps only the known fields of a result, each of the right type', () => {
    const e = parseEvent('{"type":"result","result":{"isMainResult":false,"png":"iVBOR","html":5,"constructor":"x","__proto__":{"polluted":true},"extra":{"text/csv":"a,b"},"stack":"x"}}');
    expect(e).toEqual({ type: 'result', result: { isMainResult: false, png: 'iVBOR', extra: { 'text/csv': 'a,b' } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['not JSON', 'Traceback (most recent call last):'],
    ['not an object', '[1,2]'],
    ['JSON null', 'null'],
    ['an unknown type', '{"type":"exec","argv":["sh"]}'],
    ['no type', '{"text":"x"}'],
    ['text that is not a string', '{"type":"stdout","text":5}'],
    ['a done without id', '{"type":"done","executionCount":1}'],
    ['a negative id', '{"type":"done","id":-1,"executionCount":1}'],
    ['a fractional count', '{"type":"done","id":1,"executionCount":1.5}'],
    ['an error without traceback', '{"type":"error","name":"E","value":"v"}'],
    ['a result without isMainResult', '{"type":"result","result":{"text":"1"}}'],
    ['a result that is not an object', '{"type":"result","result":"1"}'],
  ])('refuses %s', (_what, line) => {
    expect(() => parseEvent(line)).toThrow(ProtocolViolation);
  });
});

/** A text event as the servers write it: a header line, then the raw UTF-8 bytes. */
const raw = (type: 'stdout' | 'stderr', text: string): Buffer => {
  const data = Buffer.from(text);
  return Buffer.concat([Buffer.from(`{"type":"${type}","bytes":${data.length}}\n`), data]);
};

describe('EventReader', () => {
  const stream = Buffer.concat([
    raw('stdout', 'line one\n{"type":"done","id":1,"executionCount":1}\n'),
    Buffer.from('{"type":"result","result":{"isMainResult":true,"text":"é"}}\n'),
    raw('stderr', ''),
    raw('stdout', 'no newline 🌍'),
    Buffer.from('{"type":"done","id":2,"executionCount":1}\n'),
  ]);
  const want: ServerEvent[] = [
    { type: 'stdout', text: 'line one\n{"type":"done","id":1,"executionCount":1}\n' },
    { type: 'result', result: { isMainResult: true, text: 'é' } },
    { type: 'stderr', text: '' },
    { type: 'stdout', text: 'no newline 🌍' },
    { type: 'done', id: 2, executionCount: 1 },
  ];

  it('reads raw text after its header exactly, whatever it contains, then the next event', () => {
    expect(new EventReader().push(stream)).toEqual(want);
  });

  it.each([1, 2, 3, 7, 64])('gives the same events when the stream arrives %i bytes at a time', (size) => {
    const r = new EventReader();
    const got: ServerEvent[] = [];
    for (let i = 0; i < stream.length; i += size) got.push(...r.push(stream.subarray(i, i + size)));
    expect(got).toEqual(want);
  });

  it('does not keep a view of a chunk the caller may reuse while text is incomplete', () => {
    const r = new EventReader();
    const chunk = Buffer.from('{"type":"stdout","bytes":6}\nabc');
    expect(r.push(chunk)).toEqual([]);
    chunk.fill(0x78);
    expect(r.push(Buffer.from('def'))).toEqual([{ type: 'stdout', text: 'abcdef' }]);
  });

  it.each([
    ['a header with a negative length', '{"type":"stdout","bytes":-1}\n'],
    ['a header over the limit', '{"type":"stderr","bytes":99999999999}\n'],
    ['garbage between events', 'oops\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => new EventReader().push(Buffer.from(text))).toThrow(ProtocolViolation);
  });

  it('refuses a text header where a single event is parsed', () => {
    expect(() => parseEvent('{"type":"stdout","bytes":3}')).toThrow(ProtocolViolation);
  });
});

describe('resultBytes', () => {
  it('counts every representation, JSON included', () => {
    expect(resultBytes({ isMainResult: true, text: 'ab', png: 'é' })).toBe(4);
    expect(resultBytes({ isMainResult: true, json: { a: 1 } })).toBe(JSON.stringify([{ a: 1 }, undefined]).length);
  });
});
