/**
 * A streaming tar walker: ustar, pax (`x`/`g` records for long names and
 * sizes) and GNU long names (`L`/`K`). Headers are checksummed; the walk
 * stops at the end marker, the end of the data or the first bad header.
 */
import type { ByteReader } from './streams.js';

export type TarKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'device' | 'other';

export interface TarEntry {
  readonly name: string;
  readonly kind: TarKind;
  /** Symlink or hard link target. */
  readonly linkTarget?: string;
  readonly size: number;
  /** Offset of the header in the tar stream. */
  readonly offset: number;
}

/** Sees each entry with its body (empty but for files); may stop early. The walker skips what it did not read. */
export type TarVisitor = (entry: TarEntry, body: AsyncGenerator<Uint8Array>) => Promise<'continue' | 'stop'>;

export interface TarWalk {
  /** Why the walk ended early: a bad header, data cut off. */
  readonly error?: string;
  readonly stopped: boolean;
}

const BLOCK = 512;
/** pax and GNU long-name records are tiny; a huge one is an attack on the parser. */
const MAX_META_BYTES = 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: false });

async function* nothing(): AsyncGenerator<Uint8Array> {}

export async function walkTar(reader: ByteReader, visit: TarVisitor): Promise<TarWalk> {
  let zeros = 0;
  let pax = new Map<string, string>();
  let globalPax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const at = reader.position;
    const h = Uint8Array.from(await reader.read(BLOCK));
    if (h.length === 0) return { stopped: false };
    if (h.length < BLOCK) return { stopped: false, error: `the archive ends inside the header at offset ${at}` };
    if (h.every((c) => c === 0)) {
      if (++zeros >= 2) return { stopped: false };
      continue;
    }
    zeros = 0;
    if (!checksumOk(h)) return { stopped: false, error: `the header at offset ${at} has a bad checksum` };
    const headerSize = parseNumber(h, 124, 12);
    if (headerSize === undefined) return { stopped: false, error: `the header at offset ${at} has a bad size field` };
    const type = String.fromCharCode(h[156]!);

    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (headerSize > MAX_META_BYTES) return { stopped: false, error: `the ${type} record at offset ${at} is ${headerSize} bytes long` };
      const data = await reader.read(headerSize);
      if (data.length < headerSize || (await reader.skip(padding(headerSize))) < padding(headerSize)) return { stopped: false, error: `the archive ends inside the record at offset ${at}` };
      if (type === 'x') pax = parsePax(data);
      else if (type === 'g') globalPax = new Map([...globalPax, ...parsePax(data)]);
      else if (type === 'L') longName = cString(data, 0, data.length);
      else longLink = cString(data, 0, data.length);
      continue;
    }

    const attrs = new Map([...globalPax, ...pax]);
    const paxSize = attrs.has('size') ? Number(attrs.get('size')) : undefined;
    const size = paxSize !== undefined && Number.isSafeInteger(paxSize) && paxSize >= 0 ? paxSize : headerSize;
    const ustar = cString(h, 257, 6) === 'ustar' && h[262] === 0;
    const prefix = ustar ? cString(h, 345, 155) : '';
    const name = attrs.get('path') ?? longName ?? (prefix === '' ? cString(h, 0, 100) : `${prefix}/${cString(h, 0, 100)}`);
    const link = attrs.get('linkpath') ?? longLink ?? cString(h, 157, 100);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const kind = kindOf(type);
    const entry: TarEntry = { name, kind, size, offset: at, ...(kind === 'symlink' || kind === 'hardlink' ? { linkTarget: link } : {}) };

    const bodyStart = reader.position;
    // Only regular files have content; other types' sizes are skipped unread.
    const verdict = await visit(entry, kind === 'file' ? reader.take(size) : nothing());
    const left = size + padding(size) - (reader.position - bodyStart);
    if ((await reader.skip(left)) < left) return { stopped: false, error: `the archive ends inside ${JSON.stringify(name.slice(0, 60))}` };
    if (verdict === 'stop') return { stopped: true };
  }
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

function kindOf(type: string): TarKind {
  switch (type) {
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
    case '4':
      return 'device';
    case '5':
    case 'D':
      return 'dir';
    case '6':
    case 'V':
    case 'M':
    case 'N':
      return 'other';
    default:
      // '0', '\0', '7', GNU sparse 'S', and unknown types, which POSIX says to treat as regular files.
      return 'file';
  }
}

/** The header checksum: the byte sum with the checksum field read as spaces (unsigned, or signed as some old tars wrote it). */
function checksumOk(h: Uint8Array): boolean {
  const stored = parseNumber(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

/** Octal (space/NUL terminated) or GNU base-256 (high bit set); undefined when malformed or negative. */
export function parseNumber(h: Uint8Array, off: number, len: number): number | undefined {
  if ((h[off]! & 0x80) !== 0) {
    if (h[off] === 0xff) return undefined;
    let n = h[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + h[off + i]!;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  let i = off;
  const end = off + len;
  while (i < end && h[i] === 0x20) i++;
  let n = 0;
  for (; i < end && h[i]! >= 0x30 && h[i]! <= 0x37; i++) n = n * 8 + (h[i]! - 0x30);
  return i === end || h[i] === 0 || h[i] === 0x20 ? n : undefined;
}

function cString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && end < b.length && b[end] !== 0) end++;
  return utf8.decode(b.subarray(off, end));
}

/** `LEN key=value\n` records; stops at the first malformed one. */
function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < data.length; ) {
    let sp = i;
    while (sp < data.length && sp - i < 20 && data[sp] !== 0x20) sp++;
    const len = Number(utf8.decode(data.subarray(i, sp)));
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > data.length) break;
    const record = utf8.decode(data.subarray(sp + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}
