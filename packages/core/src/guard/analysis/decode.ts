import { gunzipSync, inflateSync, unzipSync } from 'node:zlib';

/*
 * Decoders for the obfuscation layers agents (and attackers) wrap code in.
 * They only ever see literals from the code under analysis, never run it,
 * and every output is capped so a decompression bomb costs nothing.
 */

const BASE64 = /^[A-Za-z0-9+/\-_\s]*={0,2}\s*$/;
const HEX = /^(?:[0-9a-fA-F]{2}|\s)*$/;

/** Strict enough that ordinary words are not "decoded": at least 4 symbols, base64 alphabet only. */
export function fromBase64(s: string): Buffer | null {
  const t = s.trim();
  if (t.length < 4 || !BASE64.test(t)) return null;
  return Buffer.from(t.replace(/\s+/g, ''), t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
}

export function fromHex(s: string): Buffer | null {
  const t = s.trim().replace(/^0x/i, '');
  if (t.length < 2 || !HEX.test(t)) return null;
  return Buffer.from(t.replace(/\s+/g, ''), 'hex');
}

export function rot13(s: string): string {
  return s.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** gzip, zlib or raw deflate, whichever the header says; null when it is none of them or too big. */
export function decompress(data: Uint8Array, maxBytes: number): Buffer | null {
  const opts = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    if (data[0] === 0x1f && data[1] === 0x8b) return gunzipSync(data, opts);
    if (data[0] === 0x78) return unzipSync(data, opts);
    return inflateSync(data, opts);
  } catch {
    return null;
  }
}

const SIMPLE: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

function codePoint(hex: string): string {
  const n = parseInt(hex, 16);
  return n <= 0x10ffff ? String.fromCodePoint(n) : '';
}

/** Bash `$'…'` body: \xHH, \NNN octal, \uHHHH, \UHHHHHHHH, \cX and C escapes. */
export function decodeAnsiC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|c.|.)/gs, (m, e: string) => {
    const k = e[0] ?? '';
    if (k === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (k >= '0' && k <= '7') return String.fromCharCode(parseInt(e, 8) & 0xff);
    if (k === 'u' || k === 'U') return codePoint(e.slice(1));
    if (k === 'c') return String.fromCharCode((e.charCodeAt(1) || 0) & 0x1f);
    return SIMPLE[k] ?? m;
  });
}

/** `echo -e` and printf format escapes (\0NNN octal as well). */
export function decodeEchoEscapes(s: string): string {
  return s.replace(/\\(0[0-7]{0,3}|x[0-9a-fA-F]{1,2}|.)/gs, (m, e: string) => {
    const k = e[0] ?? '';
    if (k === '0') return String.fromCharCode(parseInt(e, 8) & 0xff);
    if (k === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return SIMPLE[k] ?? m;
  });
}

/** Python (non-raw) string escapes. Unknown escapes keep their backslash, as Python does. */
export function decodePythonEscapes(s: string, bytes: boolean): string {
  return s.replace(/\\(\n|x[0-9a-fA-F]{2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|.)/gs, (m, e: string) => {
    const k = e[0] ?? '';
    if (k === '\n') return '';
    if (k === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (k >= '0' && k <= '7') return String.fromCharCode(parseInt(e, 8));
    if ((k === 'u' || k === 'U') && !bytes) return codePoint(e.slice(1));
    if (k === 'N') return m;
    if (k === 'e' || k === 'E' || k === '?') return m;
    return SIMPLE[k] ?? m;
  });
}

/** JavaScript string and template escapes; an unknown escape is the character itself. */
export function decodeJsEscapes(s: string): string {
  return s.replace(/\\(\r\n|\n|\r|\u2028|\u2029|x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|0(?![0-9])|.)/gs, (_m, e: string) => {
    const k = e[0] ?? '';
    if (k === '\n' || k === '\r' || k === '\u2028' || k === '\u2029') return '';
    if (k === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (k === 'u') return codePoint(e[1] === '{' ? e.slice(2, -1) : e.slice(1));
    if (k === '0') return '\0';
    if (k === 'a' || k === 'e' || k === 'E' || k === '?') return k;
    return SIMPLE[k] ?? k;
  });
}
