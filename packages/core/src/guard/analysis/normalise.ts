import type { Normalisation } from '../types.js';

/*
 * Characters that render as nothing but change what a parser or a regex sees:
 * zero-width joiners/spaces, word joiner and invisible operators, BOM, soft
 * hyphen, combining grapheme joiner, Mongolian and variation selectors, Hangul
 * fillers and Unicode tag characters (used to smuggle hidden text). Checked by
 * code point rather than a regex: several are combining marks.
 */
function invisible(c: number): boolean {
  return (
    c === 0xad ||
    c === 0x34f ||
    c === 0x115f ||
    c === 0x1160 ||
    (c >= 0x180b && c <= 0x180f) ||
    (c >= 0x200b && c <= 0x200d) ||
    (c >= 0x2060 && c <= 0x2064) ||
    c === 0x3164 ||
    (c >= 0xfe00 && c <= 0xfe0f) ||
    c === 0xfeff ||
    c === 0xffa0 ||
    (c >= 0xe0000 && c <= 0xe007f) ||
    (c >= 0xe0100 && c <= 0xe01ef)
  );
}

/** Bidi embeddings, overrides, isolates and marks: they reorder what a reviewer sees (Trojan Source). */
function bidi(c: number): boolean {
  return c === 0x61c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

const NON_ASCII = /[\u0080-\uFFFF]/;

/**
 * Makes the text the guard analyses and approvals bind to: strips invisible and
 * bidi control characters, applies NFKC (fullwidth `ｒｍ` → `rm`) and caps the
 * length at `maxChars` UTF-16 code units (never splitting a surrogate pair).
 *
 * @example normalise('r\u200bm -rf /', 1024).text // 'rm -rf /'
 */
export function normalise(code: string, maxChars: number): { text: string; normalisation: Normalisation } {
  const cap = Math.max(0, Math.floor(maxChars));
  // Bound the work on huge inputs; whatever is cut is reported as truncated.
  let truncated = code.length > cap * 2;
  let text = truncated ? code.slice(0, cap * 2) : code;
  let removedInvisible = 0;
  let removedBidi = 0;
  let nfkcChanged = false;
  if (NON_ASCII.test(text)) {
    const strip = (t: string): string => {
      let out = '';
      let from = 0;
      for (let i = 0; i < t.length; i++) {
        const c = t.codePointAt(i) as number;
        const wide = c > 0xffff ? 2 : 1;
        const inv = invisible(c);
        if (inv || bidi(c)) {
          if (inv) removedInvisible++;
          else removedBidi++;
          out += t.slice(from, i);
          from = i + wide;
        }
        i += wide - 1;
      }
      return from === 0 ? t : out + t.slice(from);
    };
    text = strip(text);
    const nfkc = text.normalize('NFKC');
    if (nfkc !== text) {
      nfkcChanged = true;
      // NFKC can produce fillers again (U+3164 → U+1160).
      text = strip(nfkc);
    }
  }
  if (text.length > cap) {
    truncated = true;
    text = cutAt(text, cap);
  }
  return { text, normalisation: { removedInvisible, removedBidi, nfkcChanged, truncated } };
}

/** Cuts to at most `maxBytes` of UTF-8, on a code point boundary. Returns the input when it fits. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    if (size === 4) i++;
  }
  return text;
}

function cutAt(text: string, n: number): string {
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}
