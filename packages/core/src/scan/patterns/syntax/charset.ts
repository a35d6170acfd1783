/**
 * Sets of byte values (0..255), the only kind of atom in a pattern. Patterns
 * match bytes, not Unicode text, so both engines see a file the same way.
 */
export type ByteSet = Uint8Array; // 256 entries, 1 = member

export function emptySet(): ByteSet {
  return new Uint8Array(256);
}

export function setOf(...bytes: number[]): ByteSet {
  const s = emptySet();
  for (const b of bytes) s[b] = 1;
  return s;
}

export function rangeSet(lo: number, hi: number): ByteSet {
  const s = emptySet();
  for (let b = lo; b <= hi; b++) s[b] = 1;
  return s;
}

export function union(a: ByteSet, b: ByteSet): ByteSet {
  const s = emptySet();
  for (let i = 0; i < 256; i++) s[i] = a[i]! | b[i]!;
  return s;
}

export function complement(a: ByteSet): ByteSet {
  const s = emptySet();
  for (let i = 0; i < 256; i++) s[i] = a[i]! ^ 1;
  return s;
}

export function intersects(a: ByteSet, b: ByteSet): boolean {
  for (let i = 0; i < 256; i++) if (a[i]! & b[i]!) return true;
  return false;
}

export function size(a: ByteSet): number {
  let n = 0;
  for (let i = 0; i < 256; i++) n += a[i]!;
  return n;
}

export function equals(a: ByteSet, b: ByteSet): boolean {
  for (let i = 0; i < 256; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function members(a: ByteSet): number[] {
  const out: number[] = [];
  for (let i = 0; i < 256; i++) if (a[i]) out.push(i);
  return out;
}

/** ASCII-only case folding, the same in YARA-X (`/…/i`) and in a JS RegExp without the `u` flag for these bytes. */
export function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

export function foldCase(a: ByteSet): ByteSet {
  const s = a.slice();
  for (let b = 0x41; b <= 0x5a; b++) {
    if (a[b] || a[b + 32]) s[b] = s[b + 32] = 1;
  }
  return s;
}

/** `\s` as YARA-X defines it: tab, LF, VT, FF, CR, space. (JS's `\s` adds U+00A0 and more, so JS gets this class spelled out.) */
export const SPACE = setOf(0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20);
export const DIGIT = rangeSet(0x30, 0x39);
export const WORD = union(union(rangeSet(0x30, 0x39), union(rangeSet(0x41, 0x5a), rangeSet(0x61, 0x7a))), setOf(0x5f));
export const NEWLINE = setOf(0x0a);
