/**
 * Pure parsers for executable headers (ELF, PE, Mach-O) over the first bytes of
 * a file. Every field is bounds-checked: the input is hostile and may be
 * truncated or lie about its own offsets, so a parser answers `malformed`
 * instead of throwing or reading past the end.
 */

/** What an executable header says the file is. */
export type ExecutableRole = 'executable' | 'library' | 'object' | 'core' | 'other';

export interface ExecutableInfo {
  readonly type: 'elf' | 'pe' | 'mz' | 'macho' | 'macho-fat';
  readonly role: ExecutableRole;
  /** Like file(1): `ELF 64-bit LSB PIE executable, x86-64`. */
  readonly description: string;
  /** Set when the header is truncated or has impossible values (the kernel or loader may still run it). */
  readonly malformed?: string;
}

function u16(h: Uint8Array, off: number, le: boolean): number | undefined {
  if (off < 0 || off + 2 > h.length) return undefined;
  const a = h[off]!;
  const b = h[off + 1]!;
  return le ? a | (b << 8) : (a << 8) | b;
}

function u32(h: Uint8Array, off: number, le: boolean): number | undefined {
  if (off < 0 || off + 4 > h.length) return undefined;
  const a = h[off]!;
  const b = h[off + 1]!;
  const c = h[off + 2]!;
  const d = h[off + 3]!;
  return (le ? a + b * 0x100 + c * 0x10000 + d * 0x1000000 : d + c * 0x100 + b * 0x10000 + a * 0x1000000);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

const ELF_MACHINES: Readonly<Record<number, string>> = {
  2: 'SPARC',
  3: 'x86',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 'S/390',
  40: 'ARM',
  42: 'SuperH',
  43: 'SPARC V9',
  50: 'IA-64',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
  247: 'eBPF',
  258: 'LoongArch',
};

const PT_INTERP = 3;

/** ELF (`\x7fELF`): class, byte order, e_type (rel/exec/dyn/core) and e_machine; PIE is a dyn with PT_INTERP. */
export function parseElf(h: Uint8Array): ExecutableInfo {
  const cls = h[4];
  const data = h[5];
  if (h.length < 20) return { type: 'elf', role: 'other', description: 'ELF (truncated header)', malformed: `ELF header truncated at ${h.length} bytes` };
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) {
    return { type: 'elf', role: 'other', description: 'ELF (invalid class or byte order)', malformed: `ELF class ${cls ?? '?'} / data ${data ?? '?'} is not 1 or 2` };
  }
  const is64 = cls === 2;
  const le = data === 1;
  const eType = u16(h, 16, le)!;
  const machine = u16(h, 18, le)!;
  const arch = ELF_MACHINES[machine] ?? `machine ${hex(machine)}`;
  const bits = `ELF ${is64 ? 64 : 32}-bit ${le ? 'LSB' : 'MSB'}`;
  const headerBytes = is64 ? 64 : 52;
  let malformed: string | undefined;
  if (h.length < headerBytes) malformed = `ELF header truncated at ${h.length} of ${headerBytes} bytes`;
  else if (h[6] !== 1) malformed = `ELF version ${h[6]} is not 1`;

  let role: ExecutableRole;
  let what: string;
  switch (eType) {
    case 1:
      role = 'object';
      what = 'relocatable';
      break;
    case 2:
      role = 'executable';
      what = 'executable';
      break;
    case 3:
      if (hasInterpreter(h, is64, le)) {
        role = 'executable';
        what = 'PIE executable';
      } else {
        role = 'library';
        what = 'shared object';
      }
      break;
    case 4:
      role = 'core';
      what = 'core file';
      break;
    default:
      role = 'other';
      what = `e_type ${hex(eType)}`;
  }
  return { type: 'elf', role, description: `${bits} ${what}, ${arch}`, ...(malformed === undefined ? {} : { malformed }) };
}

/** Whether a program header of type PT_INTERP lies within `h` (headers beyond the sniffed prefix are not seen). */
function hasInterpreter(h: Uint8Array, is64: boolean, le: boolean): boolean {
  const phoffLow = u32(h, is64 ? 32 : 28, le);
  const phoffHigh = is64 ? u32(h, 36, le) : 0;
  const phentsize = u16(h, is64 ? 54 : 42, le);
  const phnum = u16(h, is64 ? 56 : 44, le);
  if (phoffLow === undefined || phoffHigh !== 0 || phentsize === undefined || phnum === undefined || phentsize < 4) return false;
  const n = Math.min(phnum, 64);
  for (let i = 0; i < n; i++) {
    const type = u32(h, phoffLow + i * phentsize, le);
    if (type === undefined) return false;
    if (type === PT_INTERP) return true;
  }
  return false;
}

const PE_MACHINES: Readonly<Record<number, string>> = {
  0x14c: 'Intel 80386',
  0x8664: 'x86-64',
  0x1c0: 'ARM',
  0x1c4: 'ARMv7 Thumb-2',
  0xaa64: 'ARM64',
  0x200: 'IA-64',
  0x5064: 'RISC-V 64',
  0xebc: 'EFI byte code',
};

const PE_SUBSYSTEMS: Readonly<Record<number, string>> = {
  1: 'native (driver)',
  2: 'GUI',
  3: 'console',
  9: 'Windows CE',
  10: 'EFI application',
  11: 'EFI boot service driver',
  12: 'EFI runtime driver',
  16: 'boot application',
};

const IMAGE_FILE_EXECUTABLE_IMAGE = 0x0002;
const IMAGE_FILE_DLL = 0x2000;
const PE32 = 0x10b;
const PE32_PLUS = 0x20b;
/** The COM descriptor (CLR header) is data directory 14: non-empty for .NET assemblies. */
const CLR_DIRECTORY = 14;

/**
 * `MZ` files: a PE image when e_lfanew points at `PE\0\0` inside `h`, else a DOS
 * (MZ) executable. `complete` says whether `h` is the whole file, so a PE header
 * beyond the sniffed prefix can be told from one beyond the end of the file.
 */
export function parseMz(h: Uint8Array, complete: boolean): ExecutableInfo {
  const lfanew = u32(h, 0x3c, true);
  if (lfanew === undefined) {
    return { type: 'mz', role: 'executable', description: 'MS-DOS (MZ) executable, truncated header', malformed: `MZ header truncated at ${h.length} bytes` };
  }
  const sig = u32(h, lfanew, true);
  if (sig === undefined) {
    if (complete) return { type: 'mz', role: 'executable', description: 'MS-DOS (MZ) executable', malformed: `e_lfanew ${hex(lfanew)} points past the end of the file` };
    return { type: 'mz', role: 'executable', description: `MZ executable, PE header at ${hex(lfanew)} not examined` };
  }
  if (sig !== 0x00004550) return { type: 'mz', role: 'executable', description: 'MS-DOS (MZ) executable' };

  const coff = lfanew + 4;
  const machine = u16(h, coff, true);
  const characteristics = u16(h, coff + 18, true);
  const optSize = u16(h, coff + 16, true);
  const opt = coff + 20;
  const optMagic = u16(h, opt, true);
  if (machine === undefined || characteristics === undefined || optSize === undefined) {
    return { type: 'pe', role: 'other', description: 'PE image, truncated COFF header', malformed: `COFF header truncated at ${h.length} bytes` };
  }
  const arch = PE_MACHINES[machine] ?? `machine ${hex(machine)}`;
  const dll = (characteristics & IMAGE_FILE_DLL) !== 0;
  const image = (characteristics & IMAGE_FILE_EXECUTABLE_IMAGE) !== 0;
  const role: ExecutableRole = dll ? 'library' : image ? 'executable' : 'object';
  const what = dll ? 'DLL' : image ? 'executable' : 'object';
  if (optMagic !== PE32 && optMagic !== PE32_PLUS) {
    const malformed = optSize === 0 ? undefined : `optional header magic ${optMagic === undefined ? 'truncated' : hex(optMagic)} is not PE32 or PE32+`;
    return { type: 'pe', role, description: `PE ${what}, ${arch}`, ...(malformed === undefined ? {} : { malformed }) };
  }
  const plus = optMagic === PE32_PLUS;
  const subsystem = u16(h, opt + 68, true);
  const clr = u32(h, opt + (plus ? 112 : 96) + CLR_DIRECTORY * 8, true);
  const parts = [`PE32${plus ? '+' : ''} ${what}`];
  if (subsystem !== undefined) parts[0] += ` (${PE_SUBSYSTEMS[subsystem] ?? `subsystem ${subsystem}`})`;
  parts.push(arch);
  if (clr !== undefined && clr !== 0) parts.push('.NET assembly');
  return { type: 'pe', role, description: parts.join(', ') };
}

const MACHO_CPUS: Readonly<Record<number, string>> = {
  7: 'i386',
  0x01000007: 'x86_64',
  12: 'arm',
  0x0100000c: 'arm64',
  0x0200000c: 'arm64_32',
  18: 'ppc',
  0x01000012: 'ppc64',
};

const MACHO_FILETYPES: Readonly<Record<number, readonly [ExecutableRole, string]>> = {
  1: ['object', 'object'],
  2: ['executable', 'executable'],
  4: ['core', 'core'],
  5: ['executable', 'preloaded executable'],
  6: ['library', 'dynamically linked shared library'],
  7: ['library', 'dynamic linker'],
  8: ['library', 'bundle'],
  9: ['library', 'shared library stub'],
  10: ['other', 'dSYM companion file'],
  11: ['library', 'kext bundle'],
  12: ['other', 'file set'],
};

const cpuName = (cpu: number): string => MACHO_CPUS[cpu] ?? `cpu ${hex(cpu)}`;

/** Thin Mach-O: `feedface`/`feedfacf` in either byte order. */
export function parseMachO(h: Uint8Array, is64: boolean, le: boolean): ExecutableInfo {
  const cpu = u32(h, 4, le);
  const fileType = u32(h, 12, le);
  const bits = is64 ? '64-bit' : '32-bit';
  if (cpu === undefined || fileType === undefined) {
    return { type: 'macho', role: 'other', description: `Mach-O ${bits} (truncated header)`, malformed: `Mach-O header truncated at ${h.length} bytes` };
  }
  const [role, what] = MACHO_FILETYPES[fileType] ?? (['other', `filetype ${fileType}`] as const);
  const headerBytes = is64 ? 32 : 28;
  const malformed = h.length < headerBytes ? `Mach-O header truncated at ${h.length} of ${headerBytes} bytes` : undefined;
  return { type: 'macho', role, description: `Mach-O ${bits} ${what}, ${cpuName(cpu)}`, ...(malformed === undefined ? {} : { malformed }) };
}

/**
 * `cafebabe` is both a universal (fat) Mach-O and a Java class file. Like file(1),
 * a small architecture count means Mach-O; Java's minor/major version makes a
 * large number there. Returns undefined for Java.
 */
export function parseFat(h: Uint8Array, is64: boolean): ExecutableInfo | undefined {
  const n = u32(h, 4, false);
  if (n === undefined) return { type: 'macho-fat', role: 'other', description: 'Mach-O universal binary (truncated header)', malformed: `fat header truncated at ${h.length} bytes` };
  if (n === 0 || n >= 20) return undefined;
  const entry = is64 ? 32 : 20;
  const cpus: string[] = [];
  let truncated = false;
  for (let i = 0; i < n; i++) {
    const cpu = u32(h, 8 + i * entry, false);
    if (cpu === undefined) {
      truncated = true;
      break;
    }
    cpus.push(cpuName(cpu));
  }
  const malformed = truncated && 8 + n * entry > h.length ? `fat header truncated: ${n} architectures declared, ${cpus.length} present` : undefined;
  return {
    type: 'macho-fat',
    role: 'executable',
    description: `Mach-O universal binary with ${n} architecture${n === 1 ? '' : 's'}${cpus.length > 0 ? ` [${cpus.join(', ')}]` : ''}`,
    ...(malformed === undefined ? {} : { malformed }),
  };
}
