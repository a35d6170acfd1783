/**
 * Tiny archive writers for tests and benches: zip (stored or deflated, Unix
 * modes, symlinks, zip64 sizes, entries sharing data, encrypted flags) and
 * ustar tar. Deliberately able to write malformed archives.
 */
import { deflateRawSync } from 'node:zlib';

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipMember {
  readonly name: string;
  readonly data?: Uint8Array;
  /** 0 stored, 8 deflate (default), or any number (written as is, data stored raw). */
  readonly method?: number;
  /** Makes it a symlink to this target (Unix mode 0120777). */
  readonly symlink?: string;
  /** Unix mode bits (file type included), e.g. 0o020644 for a character device. */
  readonly mode?: number;
  /** Sets the encrypted flag (the data is written as given). */
  readonly encrypted?: boolean;
  /** Declared uncompressed size instead of the real one (≥ 2^32 uses a zip64 field). */
  readonly declaredSize?: number;
  /** Name written in the local header instead of `name`. */
  readonly localName?: string;
  /** Info-ZIP Unicode Path extra field. */
  readonly unicodeName?: string;
  /** Reuse the local header and data of the member at this index (entries sharing data). */
  readonly sameAs?: number;
}

export interface ZipOptions {
  /** deflate level. Default 6. */
  readonly level?: number;
  /** Leave out the central directory and end record (a truncated download). */
  readonly noDirectory?: boolean;
  /** Bytes before the first local header (self-extractor stub). */
  readonly prefix?: Uint8Array;
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n & 0xffff);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

export function zip(members: readonly (ZipMember | { name: string; data: Uint8Array })[], options: ZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  if (options.prefix !== undefined) push(Buffer.from(options.prefix));
  // Offsets are relative to the zip itself, as when a stub is prepended with cat.
  const base = options.prefix?.length ?? 0;
  const written: { offset: number; crc: number; csize: number; usize: number; method: number }[] = [];
  for (const m of members as readonly ZipMember[]) {
    const mode = m.symlink !== undefined ? 0o120777 : m.mode;
    const data = m.symlink !== undefined ? Buffer.from(m.symlink) : Buffer.from(m.data ?? new Uint8Array(0));
    const name = Buffer.from(m.name);
    let w = m.sameAs === undefined ? undefined : written[m.sameAs];
    if (w === undefined) {
      const method = m.method ?? 8;
      const body = method === 8 ? deflateRawSync(data, { level: options.level ?? 6 }) : data;
      const crc = crc32(data);
      const localName = Buffer.from(m.localName ?? m.name);
      w = { offset: offset - base, crc, csize: body.length, usize: data.length, method };
      push(Buffer.concat([u32(0x04034b50), u16(20), u16((m.encrypted ? 1 : 0) | 0x800), u16(method), u16(0), u16(0x21), u32(crc), u32(body.length), u32(data.length), u16(localName.length), u16(0), localName, body]));
    }
    written.push(w);
    const declared = m.declaredSize ?? w.usize;
    const extras: Buffer[] = [];
    if (declared >= 0x1_0000_0000) extras.push(Buffer.concat([u16(0x0001), u16(8), u64(declared)]));
    if (m.unicodeName !== undefined) {
      const un = Buffer.from(m.unicodeName);
      extras.push(Buffer.concat([u16(0x7075), u16(5 + un.length), Buffer.of(1), u32(crc32(name)), un]));
    }
    const extra = Buffer.concat(extras);
    central.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(mode !== undefined ? (3 << 8) | 20 : 20),
        u16(20),
        u16((m.encrypted ? 1 : 0) | 0x800),
        u16(w.method),
        u16(0),
        u16(0x21),
        u32(w.crc),
        u32(w.csize),
        u32(declared >= 0x1_0000_0000 ? 0xffffffff : declared),
        u16(name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(mode !== undefined ? (mode << 16) >>> 0 : 0),
        u32(w.offset),
        name,
        extra,
      ]),
    );
  }
  if (options.noDirectory === true) return Buffer.concat(parts);
  const cd = Buffer.concat(central);
  const cdOffset = offset - base;
  return Buffer.concat([...parts, cd, u32(0x06054b50), u16(0), u16(0), u16(central.length), u16(central.length), u32(cd.length), u32(cdOffset), u16(0)]);
}

export interface TarMember {
  readonly name: string;
  readonly data?: Uint8Array;
  /** '0' file (default), '1' hard link, '2' symlink, '3' char device, '5' directory. */
  readonly type?: string;
  readonly linkname?: string;
  /** Size field instead of the real one. */
  readonly declaredSize?: number;
}

function tarHeader(name: string, size: number, type: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname.slice(0, 100), 157, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

/** A ustar archive; names over 100 bytes get a pax header. `end: false` leaves out the end marker. */
export function tar(members: readonly TarMember[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? new Uint8Array(0));
    if (Buffer.byteLength(m.name) > 100) {
      const rec = ` path=${m.name}\n`;
      let len = rec.length + 2;
      while (`${len}${rec}`.length !== len) len = `${len}${rec}`.length;
      const body = Buffer.from(`${len}${rec}`);
      parts.push(tarHeader('PaxHeader', body.length, 'x'), body, pad(body.length));
    }
    parts.push(tarHeader(m.name, m.declaredSize ?? data.length, m.type ?? '0', m.linkname), data, pad(data.length));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
