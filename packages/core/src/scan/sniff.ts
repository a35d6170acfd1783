/**
 * Pure: the content type of a file from its first bytes, like file(1) but only
 * for what the scanner needs to decide (executables, scripts, archives and
 * compressed data, media, text). A function of the prefix alone, so the
 * scanner, the magic detector and the entropy detector always agree.
 */
import { parseElf, parseFat, parseMachO, parseMz, type ExecutableRole } from './headers.js';

/** How many leading bytes identify a file. Enough for tar (257), PE headers at usual offsets, and a text sample. */
export const HEAD_BYTES = 8192;

export type ContentKind = 'empty' | 'executable' | 'script' | 'archive' | 'compressed' | 'image' | 'media' | 'document' | 'data' | 'text' | 'binary';

export interface ContentInfo {
  /** `elf`, `pe`, `mz`, `macho`, `macho-fat`, `wasm`, `java-class`, `dex`, `script/sh`, `zip`, `png`, `text`, `binary`, … */
  readonly type: string;
  readonly kind: ContentKind;
  /** For people: `ELF 64-bit LSB PIE executable, x86-64`, `POSIX shell script (/bin/sh)`. */
  readonly description: string;
  /** Executables: what the header says the file is. */
  readonly role?: ExecutableRole;
  /** Set when an executable header is truncated or has impossible values. */
  readonly malformed?: string;
  /** Bytes of the identifying signature at offset 0 (for evidence). */
  readonly magicBytes: number;
}

interface Signature {
  readonly bytes: readonly number[];
  readonly offset?: number;
  readonly type: string;
  readonly kind: ContentKind;
  readonly description: string;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** Fixed signatures, checked in order after the executables. */
const SIGNATURES: readonly Signature[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], type: 'zip', kind: 'archive', description: 'Zip archive' },
  { bytes: [0x50, 0x4b, 0x05, 0x06], type: 'zip', kind: 'archive', description: 'Zip archive (empty)' },
  { bytes: [0x50, 0x4b, 0x07, 0x08], type: 'zip', kind: 'archive', description: 'Zip archive (spanned)' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], type: '7z', kind: 'archive', description: '7-zip archive' },
  { bytes: ascii('Rar!\x1a\x07'), type: 'rar', kind: 'archive', description: 'RAR archive' },
  { bytes: ascii('!<arch>\n'), type: 'ar', kind: 'archive', description: 'ar archive (static library or .deb)' },
  { bytes: ascii('MSCF\0\0\0\0'), type: 'cab', kind: 'archive', description: 'Microsoft Cabinet archive' },
  { bytes: ascii('070701'), type: 'cpio', kind: 'archive', description: 'cpio archive (newc)' },
  { bytes: ascii('070702'), type: 'cpio', kind: 'archive', description: 'cpio archive (crc)' },
  { bytes: ascii('070707'), type: 'cpio', kind: 'archive', description: 'cpio archive (odc)' },
  { bytes: [0x1f, 0x8b, 0x08], type: 'gzip', kind: 'compressed', description: 'gzip compressed data' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], type: 'xz', kind: 'compressed', description: 'XZ compressed data' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], type: 'zstd', kind: 'compressed', description: 'Zstandard compressed data' },
  { bytes: [0x04, 0x22, 0x4d, 0x18], type: 'lz4', kind: 'compressed', description: 'LZ4 compressed data' },
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], type: 'png', kind: 'image', description: 'PNG image' },
  { bytes: [0xff, 0xd8, 0xff], type: 'jpeg', kind: 'image', description: 'JPEG image' },
  { bytes: ascii('GIF87a'), type: 'gif', kind: 'image', description: 'GIF image' },
  { bytes: ascii('GIF89a'), type: 'gif', kind: 'image', description: 'GIF image' },
  { bytes: ascii('II*\0'), type: 'tiff', kind: 'image', description: 'TIFF image (little-endian)' },
  { bytes: ascii('MM\0*'), type: 'tiff', kind: 'image', description: 'TIFF image (big-endian)' },
  { bytes: ascii('WEBP'), offset: 8, type: 'webp', kind: 'image', description: 'WebP image' },
  { bytes: ascii('WAVE'), offset: 8, type: 'wav', kind: 'media', description: 'WAVE audio' },
  { bytes: ascii('AVI '), offset: 8, type: 'avi', kind: 'media', description: 'AVI video' },
  { bytes: ascii('OggS'), type: 'ogg', kind: 'media', description: 'Ogg media' },
  { bytes: ascii('fLaC'), type: 'flac', kind: 'media', description: 'FLAC audio' },
  { bytes: ascii('ID3\x02'), type: 'mp3', kind: 'media', description: 'MP3 audio (ID3v2.2)' },
  { bytes: ascii('ID3\x03'), type: 'mp3', kind: 'media', description: 'MP3 audio (ID3v2.3)' },
  { bytes: ascii('ID3\x04'), type: 'mp3', kind: 'media', description: 'MP3 audio (ID3v2.4)' },
  { bytes: ascii('%PDF-'), type: 'pdf', kind: 'document', description: 'PDF document' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], type: 'ole', kind: 'document', description: 'OLE2 compound document (Office 97–2003, MSI)' },
  { bytes: ascii('{\\rtf'), type: 'rtf', kind: 'document', description: 'RTF document' },
  { bytes: ascii('SQLite format 3\0'), type: 'sqlite', kind: 'data', description: 'SQLite 3 database' },
];

const SPECIAL_KINDS: Readonly<Record<string, ContentKind>> = {
  empty: 'empty',
  elf: 'executable',
  pe: 'executable',
  mz: 'executable',
  macho: 'executable',
  'macho-fat': 'executable',
  'java-class': 'executable',
  wasm: 'executable',
  dex: 'executable',
  tar: 'archive',
  bmp: 'image',
  mp4: 'media',
  bzip2: 'compressed',
  text: 'text',
  'text/utf16': 'text',
  binary: 'binary',
};

/** The kind of a content type string as `sniff` makes them (`script/*` → script); unknown types are `binary`. */
export function kindOf(type: string): ContentKind {
  if (type.startsWith('script/')) return 'script';
  return SPECIAL_KINDS[type] ?? SIGNATURES.find((s) => s.type === type)?.kind ?? 'binary';
}

function startsWith(h: Uint8Array, bytes: readonly number[], offset = 0): boolean {
  if (h.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (h[offset + i] !== bytes[i]) return false;
  return true;
}

const be32 = (h: Uint8Array): number => ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;

/**
 * What `head` (the first min(HEAD_BYTES, size) bytes) is. `complete` says that
 * `head` is the whole file (so a header pointing past it is really broken).
 */
export function sniff(head: Uint8Array, complete = head.length < HEAD_BYTES): ContentInfo {
  const h = head.length > HEAD_BYTES ? head.subarray(0, HEAD_BYTES) : head;
  if (h.length === 0) return { type: 'empty', kind: 'empty', description: 'empty', magicBytes: 0 };

  if (startsWith(h, [0x7f, 0x45, 0x4c, 0x46])) return { ...parseElf(h), kind: 'executable', magicBytes: 4 };
  if (h.length >= 4) {
    const m = be32(h);
    if (m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe) {
      const is64 = m === 0xfeedfacf || m === 0xcffaedfe;
      return { ...parseMachO(h, is64, m === 0xcefaedfe || m === 0xcffaedfe), kind: 'executable', magicBytes: 4 };
    }
    if (m === 0xcafebabe || m === 0xcafebabf) {
      const fat = parseFat(h, m === 0xcafebabf);
      if (fat) return { ...fat, kind: 'executable', magicBytes: 4 };
      const major = h.length >= 8 ? (h[6]! << 8) | h[7]! : 0;
      if (m === 0xcafebabe && major >= 45) return { type: 'java-class', kind: 'executable', role: 'executable', description: `Java class file (version ${major})`, magicBytes: 4 };
    }
  }
  if (startsWith(h, [0x00, 0x61, 0x73, 0x6d])) {
    const version = h.length >= 8 ? h[4]! | (h[5]! << 8) | (h[6]! << 16) | (h[7]! << 24) : undefined;
    const malformed = version === undefined ? 'WebAssembly header truncated' : version !== 1 ? `WebAssembly version ${version} is not 1` : undefined;
    return { type: 'wasm', kind: 'executable', role: 'executable', description: 'WebAssembly module', magicBytes: 4, ...(malformed === undefined ? {} : { malformed }) };
  }
  if (startsWith(h, ascii('dex\n')) && h.length >= 8 && h[7] === 0) {
    return { type: 'dex', kind: 'executable', role: 'executable', description: 'Android Dalvik executable (DEX)', magicBytes: 8 };
  }

  for (const s of SIGNATURES) {
    if (!startsWith(h, s.bytes, s.offset)) continue;
    if (s.offset === 8 && !startsWith(h, ascii('RIFF'))) continue;
    return { type: s.type, kind: s.kind, description: s.description, magicBytes: (s.offset ?? 0) + s.bytes.length };
  }
  // ISO media: a big-endian box size (binary: high byte 0) then `ftyp`.
  if (h[0] === 0 && startsWith(h, ascii('ftyp'), 4)) return { type: 'mp4', kind: 'media', description: 'ISO media (MP4/MOV/HEIF)', magicBytes: 8 };
  if (isTar(h)) return { type: 'tar', kind: 'archive', description: 'tar archive', magicBytes: 0 };
  if (isBmp(h)) return { type: 'bmp', kind: 'image', description: 'BMP image', magicBytes: 2 };
  if (startsWith(h, ascii('BZh')) && h.length >= 4 && h[3]! >= 0x31 && h[3]! <= 0x39) return { type: 'bzip2', kind: 'compressed', description: 'bzip2 compressed data', magicBytes: 4 };

  // The kernel runs any file that starts with `#!`, text or not.
  if (h[0] === 0x23 && h[1] === 0x21) return shebang(h);
  const text = textKind(h);
  // `MZ` is also how some text starts; an MZ stub is binary.
  if (text === undefined && startsWith(h, [0x4d, 0x5a])) return { ...parseMz(h, complete), kind: 'executable', magicBytes: 2 };
  if (text === undefined) return { type: 'binary', kind: 'binary', description: 'data', magicBytes: 0 };
  const body = text === 'utf8-bom' ? h.subarray(3) : h;
  if (startsWith(body, ascii('<?php'))) return { type: 'script/php', kind: 'script', description: 'PHP script', magicBytes: 5 };
  if (text === 'utf16') return { type: 'text/utf16', kind: 'text', description: 'UTF-16 text', magicBytes: 2 };
  return { type: 'text', kind: 'text', description: 'text', magicBytes: 0 };
}

/** ustar magic at 257, else a v7 header whose checksum adds up. */
function isTar(h: Uint8Array): boolean {
  if (h.length < 512) return false;
  if (startsWith(h, ascii('ustar'), 257) && (h[262] === 0 || h[262] === 0x20)) return true;
  if (h[0] === 0) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  let declared = 0;
  let digits = 0;
  for (let i = 148; i < 156; i++) {
    const c = h[i]!;
    if (c === 0 || c === 0x20) {
      if (digits > 0) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) return false;
    declared = declared * 8 + (c - 0x30);
    digits++;
  }
  return digits > 0 && declared === sum;
}

/** `BM` alone is too weak (text starts with it); require a known DIB header size. */
function isBmp(h: Uint8Array): boolean {
  if (h.length < 18 || h[0] !== 0x42 || h[1] !== 0x4d) return false;
  const dib = h[14]! | (h[15]! << 8) | (h[16]! << 16) | (h[17]! << 24);
  return dib === 12 || dib === 40 || dib === 52 || dib === 56 || dib === 64 || dib === 108 || dib === 124;
}

/**
 * Text when there is no NUL, almost no control characters and almost no
 * invalid UTF-8 (some Latin-1 is tolerated). UTF-16 only with a BOM.
 */
function textKind(h: Uint8Array): 'utf8' | 'utf8-bom' | 'utf16' | undefined {
  if ((h[0] === 0xff && h[1] === 0xfe) || (h[0] === 0xfe && h[1] === 0xff)) return 'utf16';
  let control = 0;
  let invalid = 0;
  const n = h.length;
  for (let i = 0; i < n; ) {
    const c = h[i]!;
    if (c < 0x80) {
      if (c === 0) return undefined;
      // tab, LF, VT, FF, CR, ESC, and BS (man pages) are text.
      if ((c < 0x20 && c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13 && c !== 27 && c !== 8) || c === 0x7f) control++;
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0) {
      invalid++;
      i++;
      continue;
    }
    let ok = true;
    let j = 1;
    for (; j < len && i + j < n; j++) {
      if ((h[i + j]! & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
    }
    // A sequence cut off by the end of the sample is fine.
    if (!ok) {
      invalid++;
      i++;
    } else i += j;
  }
  if (control * 50 > n || invalid * 10 > n) return undefined;
  return h[0] === 0xef && h[1] === 0xbb && h[2] === 0xbf ? 'utf8-bom' : 'utf8';
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'pdksh', 'ash', 'csh', 'tcsh', 'fish', 'yash', 'busybox', 'rbash']);

/** Interpreter family from its base name: `python3.12` → python. */
function family(interp: string): string {
  if (SHELLS.has(interp)) return 'sh';
  const rules: readonly (readonly [RegExp, string])[] = [
    [/^(python|pypy)[\d.]*$/, 'python'],
    [/^perl[\d.]*$/, 'perl'],
    [/^(node|nodejs|deno|bun|ts-node|tsx|qjs)$/, 'node'],
    [/^ruby[\d.]*$/, 'ruby'],
    [/^php[\d.]*(-cli)?$/, 'php'],
    [/^(lua[\d.]*|luajit)$/, 'lua'],
    [/^(pwsh|powershell)$/, 'powershell'],
    [/^[gmn]?awk$/, 'awk'],
    [/^(tclsh[\d.]*|wish[\d.]*|expect)$/, 'tcl'],
    [/^osascript$/, 'applescript'],
    [/^Rscript$/, 'r'],
  ];
  for (const [re, name] of rules) if (re.test(interp)) return name;
  return 'other';
}

/** `#!/usr/bin/env -S node --flag` → script/node. */
function shebang(h: Uint8Array): ContentInfo {
  let end = 2;
  while (end < h.length && end < 512 && h[end] !== 0x0a) end++;
  const line = String.fromCharCode(...h.subarray(2, end)).replace(/\r$/, '');
  const words = line.trim().split(/[ \t]+/).filter((w) => w !== '');
  let interp = words[0] ?? '';
  let base = interp.slice(interp.lastIndexOf('/') + 1);
  if (base === 'env') {
    // env's options and VAR=value assignments come before the program.
    const program = words.slice(1).find((w) => !w.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    interp = program ?? '';
    base = interp.slice(interp.lastIndexOf('/') + 1);
  }
  const fam = family(base);
  const printable = line.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  return { type: `script/${fam}`, kind: 'script', description: `script with interpreter ${JSON.stringify(printable.trim())}`, magicBytes: 2 };
}
