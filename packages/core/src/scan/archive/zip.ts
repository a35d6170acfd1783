/**
 * Zip structure: the end-of-central-directory record (zip64 too), central
 * directory entries, local headers, and a walk over local headers for
 * archives whose directory is missing (truncated downloads). Nothing here
 * trusts a declared size: every read is bounded by the archive's real size,
 * and sizes are reported for the caller to judge.
 */
import type { Source } from './spool.js';
import { ByteReader } from './streams.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const EOCD_BYTES = 22;
const MAX_COMMENT = 0xffff;

export const FLAG_ENCRYPTED = 0x1;
export const FLAG_DESCRIPTOR = 0x8;
const FLAG_UTF8 = 0x800;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
export const METHOD_AES = 99;
const S_IFMT = 0o170000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

export interface ZipEntry {
  readonly name: string;
  /** Info-ZIP Unicode Path extra field: the name some unpackers use instead. */
  readonly unicodeName?: string;
  readonly flags: number;
  readonly method: number;
  readonly compressedSize: number;
  /** Declared uncompressed size. */
  readonly size: number;
  /** Offset of the local header in the spooled archive. */
  readonly localOffset: number;
  /** File type bits when the entry was made on Unix. */
  readonly unixType?: number;
}

export interface CentralDirectory {
  readonly entries: ZipEntry[];
  /** Count the end record declares (may lie). */
  readonly declared: number;
  /** More entries follow than `maxEntries`. */
  readonly more: boolean;
  /** Non-fatal problems: the directory ends early, counts disagree. */
  readonly problems: string[];
}

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
/** A 64-bit field as a number; values past 2^53 saturate (they are absurd anyway). */
const u64 = (b: Uint8Array, o: number): number => Math.min(Number.MAX_SAFE_INTEGER, u32(b, o) + u32(b, o + 4) * 0x1_0000_0000);

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');
const decodeName = (bytes: Uint8Array, flags: number): string => ((flags & FLAG_UTF8) !== 0 ? utf8 : latin1).decode(bytes);

/**
 * Reads the central directory, or explains why it cannot: no end record, or a
 * directory that is not where the end record says.
 */
export async function readCentralDirectory(src: Source, maxEntries: number): Promise<CentralDirectory | { error: string }> {
  const tailLen = Math.min(src.size, EOCD_BYTES + MAX_COMMENT + 20);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen);
  let e = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (tail[i] === 0x50 && u32(tail, i) === SIG_EOCD && i + EOCD_BYTES + u16(tail, i + 20) <= tail.length) {
      e = i;
      break;
    }
  }
  if (e < 0) return { error: 'no end-of-central-directory record (truncated or not a zip)' };
  const eocdAt = tailStart + e;
  let declared = u16(tail, e + 10);
  let cdSize = u32(tail, e + 12);
  let cdOffset = u32(tail, e + 16);
  // zip64: a locator right before the end record points at the zip64 end record.
  if (e >= 20 && u32(tail, e - 20) === SIG_ZIP64_LOCATOR) {
    const at = u64(tail, e - 20 + 8);
    const z = await src.read(at, 56);
    if (z.length < 56 || u32(z, 0) !== SIG_ZIP64_EOCD) return { error: 'the zip64 end record is missing or damaged' };
    declared = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  const dirEnd = e >= 20 && u32(tail, e - 20) === SIG_ZIP64_LOCATOR ? Math.min(eocdAt, tailStart + e - 20) : eocdAt;
  // Self-extracting archives and prepended data shift every offset by the same amount.
  const shift = cdSize <= dirEnd ? dirEnd - cdSize - cdOffset : 0;
  const cdStart = cdOffset + shift;
  if (cdSize > dirEnd || cdStart < 0 || cdStart + cdSize > dirEnd) return { error: `the central directory (${cdSize} bytes at ${cdOffset}) lies outside the archive` };

  const reader = new ByteReader(src.chunks(cdStart, cdSize));
  const entries: ZipEntry[] = [];
  const problems: string[] = [];
  let more = false;
  try {
    for (;;) {
      const h = await reader.read(46);
      if (h.length === 0) break;
      if (h.length < 46 || u32(h, 0) !== SIG_CENTRAL) {
        problems.push(`the central directory is damaged at entry ${entries.length + 1}`);
        break;
      }
      if (entries.length >= maxEntries) {
        more = true;
        break;
      }
      const flags = u16(h, 8);
      const made = h[5]!; // host system: 3 Unix, 19 OS X
      const fixed = { flags, method: u16(h, 10), csize: u32(h, 20), usize: u32(h, 24), offset: u32(h, 42), attrs: u32(h, 38) };
      const nameLen = u16(h, 28);
      const extraLen = u16(h, 30);
      const commentLen = u16(h, 32);
      const nameBytes = await reader.read(nameLen);
      const name = decodeName(nameBytes, flags);
      const extra = await reader.read(extraLen);
      if (nameBytes.length < nameLen || extra.length < extraLen || (await reader.skip(commentLen)) < commentLen) {
        problems.push(`the central directory ends inside entry ${entries.length + 1}`);
        break;
      }
      const x = parseExtra(extra, fixed.usize, fixed.csize, fixed.offset);
      const mode = fixed.attrs >>> 16;
      entries.push({
        name,
        ...(x.unicodeName === undefined ? {} : { unicodeName: x.unicodeName }),
        flags,
        method: fixed.method,
        compressedSize: x.csize,
        size: x.usize,
        localOffset: x.offset + shift,
        ...(made === 3 || made === 19 ? { unixType: mode & S_IFMT } : {}),
      });
    }
  } finally {
    await reader.close();
  }
  if (!more && entries.length !== declared && problems.length === 0) problems.push(`the end record declares ${declared} entries, the directory holds ${entries.length}`);
  return { entries, declared, more, problems };
}

/** Zip64 sizes and offset (present only for fields set to 0xFFFFFFFF), and the Info-ZIP Unicode path. */
function parseExtra(extra: Uint8Array, usize: number, csize: number, offset: number): { usize: number; csize: number; offset: number; unicodeName?: string } {
  const out: { usize: number; csize: number; offset: number; unicodeName?: string } = { usize, csize, offset };
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = u16(extra, i);
    const len = u16(extra, i + 2);
    const body = extra.subarray(i + 4, Math.min(extra.length, i + 4 + len));
    if (id === 0x0001) {
      let p = 0;
      if (usize === 0xffffffff && p + 8 <= body.length) {
        out.usize = u64(body, p);
        p += 8;
      }
      if (csize === 0xffffffff && p + 8 <= body.length) {
        out.csize = u64(body, p);
        p += 8;
      }
      if (offset === 0xffffffff && p + 8 <= body.length) out.offset = u64(body, p);
    } else if (id === 0x7075 && body.length > 5 && body[0] === 1) {
      out.unicodeName = utf8.decode(body.subarray(5));
    }
    i += 4 + len;
  }
  return out;
}

export interface LocalHeader {
  readonly name: string;
  readonly dataStart: number;
}

/** The local header of `entry`: where its data starts, and the name it gives there. */
export async function readLocalHeader(src: Source, offset: number): Promise<LocalHeader | { error: string }> {
  const h = await src.read(offset, 30);
  if (h.length < 30 || u32(h, 0) !== SIG_LOCAL) return { error: `no local header at offset ${offset}` };
  const nameLen = u16(h, 26);
  const extraLen = u16(h, 28);
  const name = await src.read(offset + 30, nameLen);
  if (name.length < nameLen) return { error: `the local header at offset ${offset} is cut off` };
  return { name: decodeName(name, u16(h, 6)), dataStart: offset + 30 + nameLen + extraLen };
}

export interface LocalEntry extends ZipEntry {
  readonly dataStart: number;
}

/**
 * Walks local headers from the start of the archive, for when the central
 * directory is missing. Sizes deferred to a data descriptor are found by
 * looking for the next zip signature. Stops at the first thing that is not a
 * local header; always moves forward.
 */
export async function* walkLocalHeaders(src: Source, maxEntries: number): AsyncGenerator<LocalEntry | { error: string; offset: number }> {
  let pos = 0;
  for (let n = 0; n < maxEntries && pos + 30 <= src.size; n++) {
    const h = await src.read(pos, 30);
    if (u32(h, 0) !== SIG_LOCAL) return;
    const flags = u16(h, 6);
    const method = u16(h, 8);
    const nameLen = u16(h, 26);
    const extraLen = u16(h, 28);
    const name = decodeName(await src.read(pos + 30, nameLen), flags);
    const x = parseExtra(await src.read(pos + 30 + nameLen, extraLen), u32(h, 22), u32(h, 18), 0);
    const dataStart = pos + 30 + nameLen + extraLen;
    if (dataStart > src.size) {
      yield { error: `the local header at offset ${pos} is cut off`, offset: pos };
      return;
    }
    let csize = x.csize;
    let next = dataStart + csize;
    if ((flags & FLAG_DESCRIPTOR) !== 0 && csize === 0) {
      const sig = await findSignature(src, dataStart);
      csize = (sig < 0 ? src.size : sig) - dataStart;
      next = sig < 0 ? src.size : sig;
      if (sig >= 0 && u32(await src.read(sig, 4), 0) === SIG_DESCRIPTOR) {
        const d = await src.read(sig, 24);
        next = d.length >= 24 && u32(d, 16) !== SIG_LOCAL && u32(d, 16) !== SIG_CENTRAL ? sig + 24 : sig + 16;
      }
    }
    yield { name, flags, method, compressedSize: Math.min(csize, src.size - dataStart), size: x.usize, localOffset: pos, dataStart };
    if (next > src.size) {
      yield { error: `the data of ${JSON.stringify(name.slice(0, 60))} is cut off`, offset: pos };
      return;
    }
    pos = Math.max(next, pos + 30);
  }
}

/** The next `PK` followed by a local, central, end or descriptor signature, at or after `from`. */
async function findSignature(src: Source, from: number): Promise<number> {
  const BLOCK = 64 * 1024;
  for (let at = from; at + 4 <= src.size; at += BLOCK - 3) {
    const b = await src.read(at, BLOCK);
    for (let i = b.indexOf(0x50); i >= 0 && i + 4 <= b.length; i = b.indexOf(0x50, i + 1)) {
      const sig = u32(b, i);
      if (sig === SIG_LOCAL || sig === SIG_CENTRAL || sig === SIG_EOCD || sig === SIG_DESCRIPTOR) return at + i;
    }
  }
  return -1;
}
