import { describe, expect, it } from 'vitest';
import { normalizePath, parentOf, previewOf } from './preview.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('file previews', () => {
  it('shows text as text, and cuts it at the limit', () => {
    expect(previewOf(enc('héllo <b>'))).toEqual({ kind: 'text', text: 'héllo <b>', truncated: false });
    expect(previewOf(enc('abcdef'), 3)).toEqual({ kind: 'text', text: 'abc', truncated: true });
  });

  it('calls bytes with a NUL binary', () => {
    expect(previewOf(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1]))).toEqual({ kind: 'binary', size: 6 });
  });

  it('decodes invalid UTF-8 with replacement characters instead of failing', () => {
    const p = previewOf(new Uint8Array([0x61, 0xff, 0x62]));
    expect(p).toEqual({ kind: 'text', text: 'a\uFFFDb', truncated: false });
  });
});

describe('paths', () => {
  it.each([
    ['/workspace/src', '/workspace'],
    ['/workspace', '/'],
    ['/', '/'],
    ['/a/b/', '/a'],
  ])('parentOf(%s) = %s', (p, parent) => expect(parentOf(p)).toBe(parent));

  it.each([
    ['', '/workspace'],
    ['  ', '/workspace'],
    ['src', '/workspace/src'],
    ['/etc/', '/etc'],
    ['/', '/'],
    ['//', '/'],
  ])('normalizePath(%j) = %s', (p, out) => expect(normalizePath(p)).toBe(out));
});
