/**
 * Minimal, structurally valid sample files for the scanner's tests and
 * benchmarks: ELF, PE and Mach-O headers as the loaders lay them out, PNG
 * framing, and reproducible pseudo-random bytes. Not part of the public API.
 */

/** Deterministic pseudo-random bytes (xorshift32): high-entropy, but the same on every run. */
export function randomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

class Writer {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly #le: boolean;
  constructor(size: number, le = true) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
    this.#le = le;
  }
  u8(off: number, v: number): this {
    this.bytes[off] = v;
    return this;
  }
  u16(off: number, v: number): this {
    this.#view.setUint16(off, v, this.#le);
    return this;
  }
  u32(off: number, v: number): this {
    this.#view.setUint32(off, v >>> 0, this.#le);
    return this;
  }
  u64(off: number, v: number): this {
    this.#view.setBigUint64(off, BigInt(v), this.#le);
    return this;
  }
  set(off: number, b: Uint8Array | readonly number[]): this {
    this.bytes.set(b, off);
    return this;
  }
}

export interface ElfSpec {
  readonly bits?: 32 | 64;
  readonly le?: boolean;
  readonly type?: 'rel' | 'exec' | 'dyn' | 'core';
  /** e_machine; default x86-64 (62). */
  readonly machine?: number;
  /** Adds a PT_INTERP program header (a dynamically linked executable). */
  readonly interp?: boolean;
  readonly body?: Uint8Array;
}

const ELF_TYPES = { rel: 1, exec: 2, dyn: 3, core: 4 } as const;

/** An ELF header and one program header (PT_INTERP or PT_LOAD), then `body`. */
export function elf(spec: ElfSpec = {}): Uint8Array {
  const is64 = (spec.bits ?? 64) === 64;
  const le = spec.le ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const w = new Writer(ehsize + phentsize, le);
  w.set(0, [0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, 0]);
  w.u16(16, ELF_TYPES[spec.type ?? 'exec']).u16(18, spec.machine ?? 62).u32(20, 1);
  if (is64) w.u64(24, 0x401000).u64(32, ehsize).u64(40, 0).u32(48, 0).u16(52, ehsize).u16(54, phentsize).u16(56, 1).u16(58, 64).u16(60, 0).u16(62, 0);
  else w.u32(24, 0x8048000).u32(28, ehsize).u32(32, 0).u32(36, 0).u16(40, ehsize).u16(42, phentsize).u16(44, 1).u16(46, 40).u16(48, 0).u16(50, 0);
  w.u32(ehsize, spec.interp === true ? 3 : 1);
  return concat(w.bytes, spec.body ?? new Uint8Array(0));
}

export interface PeSpec {
  /** IMAGE_FILE_MACHINE_*; default AMD64. */
  readonly machine?: number;
  readonly plus?: boolean;
  readonly dll?: boolean;
  /** Default 3 (console). */
  readonly subsystem?: number;
  readonly dotnet?: boolean;
  /** e_lfanew; default 0x80. */
  readonly lfanew?: number;
  readonly body?: Uint8Array;
}

/** DOS stub, `PE\0\0`, COFF header, optional header with data directories, then `body`. */
export function pe(spec: PeSpec = {}): Uint8Array {
  const plus = spec.plus ?? true;
  const lfanew = spec.lfanew ?? 0x80;
  const optSize = plus ? 240 : 224;
  const w = new Writer(lfanew + 24 + optSize);
  w.set(0, ascii('MZ')).u32(0x3c, lfanew);
  w.set(lfanew, ascii('PE\0\0'));
  const coff = lfanew + 4;
  w.u16(coff, spec.machine ?? 0x8664).u16(coff + 2, 0).u16(coff + 16, optSize).u16(coff + 18, 0x0002 | (spec.dll === true ? 0x2000 : 0) | (plus ? 0x0020 : 0x0100));
  const opt = coff + 20;
  w.u16(opt, plus ? 0x20b : 0x10b).u16(opt + 68, spec.subsystem ?? 3).u32(opt + (plus ? 108 : 92), 16);
  if (spec.dotnet === true) w.u32(opt + (plus ? 112 : 96) + 14 * 8, 0x2008).u32(opt + (plus ? 112 : 96) + 14 * 8 + 4, 0x48);
  return concat(w.bytes, spec.body ?? new Uint8Array(0));
}

export interface MachOSpec {
  readonly bits?: 32 | 64;
  readonly le?: boolean;
  /** MH_EXECUTE (2) by default; 6 is a dylib, 1 an object. */
  readonly fileType?: number;
  /** Default arm64 (0x0100000c). */
  readonly cpu?: number;
  readonly body?: Uint8Array;
}

export function macho(spec: MachOSpec = {}): Uint8Array {
  const is64 = (spec.bits ?? 64) === 64;
  const le = spec.le ?? true;
  const w = new Writer(is64 ? 32 : 28, le);
  w.u32(0, is64 ? 0xfeedfacf : 0xfeedface).u32(4, spec.cpu ?? 0x0100000c).u32(8, 0).u32(12, spec.fileType ?? 2).u32(16, 0).u32(20, 0).u32(24, 0);
  return concat(w.bytes, spec.body ?? new Uint8Array(0));
}

/** A universal binary header listing `cpus` (each arch entry points nowhere useful; sniffing only reads the header). */
export function fatMacho(cpus: readonly number[], body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new Writer(8 + cpus.length * 20, false);
  w.u32(0, 0xcafebabe).u32(4, cpus.length);
  cpus.forEach((cpu, i) => w.u32(8 + i * 20, cpu).u32(8 + i * 20 + 8, 0x1000).u32(8 + i * 20 + 12, body.length).u32(8 + i * 20 + 16, 12));
  return concat(w.bytes, body);
}

/** A Java class file header (magic, minor 0, major `major`). */
export function javaClass(major = 61, body: Uint8Array = new Uint8Array(16)): Uint8Array {
  return concat(new Writer(8, false).u32(0, 0xcafebabe).u16(4, 0).u16(6, major).bytes, body);
}

/** PNG signature and an IHDR chunk, then `body` as an IDAT chunk's data (compressed image data looks random). */
export function png(body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = new Writer(25, false).u32(0, 13).set(4, ascii('IHDR')).u32(8, 64).u32(12, 64).u8(16, 8).u8(17, 2).bytes;
  const idat = new Writer(8, false).u32(0, body.length).set(4, ascii('IDAT')).bytes;
  return concat(Uint8Array.from(sig), ihdr, idat, body, new Uint8Array(4));
}

/** Feeds `bytes` in pieces of `size` (1 for every chunk boundary), each a fresh copy. */
export function chunked(bytes: Uint8Array, size: number): AsyncIterableIterator<Uint8Array> {
  let i = 0;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next(): Promise<IteratorResult<Uint8Array>> {
      if (i >= bytes.length) return Promise.resolve({ done: true, value: undefined });
      const piece = bytes.slice(i, i + size);
      i += size;
      return Promise.resolve({ done: false, value: piece });
    },
  };
}
