import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { pathArg, pathBytes, sandboxPath } from './paths.js';

describe('sandboxPath', () => {
  it.each([
    ['a.txt', '/workspace/a.txt'],
    ['./src//main.ts/', '/workspace/src/main.ts'],
    ['../tmp/x', '/tmp/x'],
    ['/tmp/../etc/./hosts', '/etc/hosts'],
    ['/', '/'],
    ['.', '/workspace'],
    ['name with\nnewline', '/workspace/name with\nnewline'],
  ])('%j → %j', (input, out) => {
    expect(sandboxPath(input)).toBe(out);
  });

  it.each([[''], ['a\0b'], [42], [null], [undefined], ['x'.repeat(4090)]])('refuses %j with E_INVALID_ARGUMENT', (input) => {
    let err: unknown;
    try {
      sandboxPath(input);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('pathBytes / pathArg', () => {
  it.each([
    ['/a', '2f61'],
    ['é', 'c3a9'],
    ['😀', 'f09f9880'],
    ['\udce9', 'e9'], // an escaped byte
    ['a\udcff\udc80b', '61ff8062'],
    ['😀\udc80', 'f09f988080'],
  ])('%j is the bytes %s', (s, hex) => {
    expect(pathBytes(s).toString('hex')).toBe(hex);
    expect(pathArg(s)).toBe(`hex:${hex}`);
  });

  it.each([['\ud800'], ['x\udbffy'], ['\udc00'], ['\udc7f'], ['\ude00']])('refuses a surrogate that escapes no byte: %j', (s) => {
    expect(() => pathBytes(s)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }) as Error);
  });

  it('round-trips every byte string the helper can send back', () => {
    const raw = Buffer.from([0x2f, 0x61, 0xff, 0xc3, 0xa9, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]);
    // What the helper emits for these bytes (valid UTF-8 raw, every other byte as \udcXX), parsed as JSON.
    const parsed = JSON.parse('"/a\\udcff\u00e9\\udcc3(\\udced\\udca0\\udc80\\udcf4\\udc90\\udc80\\udc80"') as string;
    expect(pathBytes(parsed).equals(raw)).toBe(true);
  });
});
