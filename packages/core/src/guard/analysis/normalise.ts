import type { Normalisation } from '../types.js';

/*
 * Characters that render as nothing but change what a parser or a regex sees:
 * zero-width joiners/spaces, word joiner and invisible operators, BOM, soft
 * hyphen, combining grapheme joiner, Mongolian and variation selectors, Hangul
 * fillers and Unicode tag characters (used to smuggle hidden text).
 */
const INVISIBLE =
  /[\u00AD\u034F\u115F\u1160\u180B-\u180F\u200B-\u200D\u2060-\u2064\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDC7F\uDD00-\uDDEF]/g;
/** Bidi embeddings, overrides, isolates and marks: they reorder what a reviewer sees (Trojan Source). */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const ASCII_ONLY = /^[\x00-\x7F]*$/;

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
  if (!ASCII_ONLY.test(text)) {
    const strip = (s: string): string =>
      s
        .replace(INVISIBLE, () => {
          removedInvisible++;
          return '';
        })
        .replace(BIDI, () => {
          removedBidi++;
          return '';
        });
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
