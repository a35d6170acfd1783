/** Helpers for building findings' evidence. */
import type { Evidence } from './types.js';

const MAX_EXCERPT = 80;

/** Printable ASCII as is, everything else as `\xHH`, cut to about 80 characters. */
export function excerpt(bytes: Uint8Array, max = MAX_EXCERPT): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    const piece = c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : c === 0x5c ? '\\\\' : `\\x${c.toString(16).padStart(2, '0')}`;
    if (out.length + piece.length > max) return `${out}…`;
    out += piece;
  }
  return out;
}

export function evidenceAt(offset: number, length: number, bytes?: Uint8Array): Evidence {
  return bytes === undefined || bytes.length === 0 ? { offset, length } : { offset, length, excerpt: excerpt(bytes) };
}
