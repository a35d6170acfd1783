import { describe, expect, it } from 'vitest';
import { magicDetector, magicFindings, nameParts } from './magic.js';
import { ascii, concat, elf, fatMacho, javaClass, macho, pe, png, randomBytes } from './samples.js';
import { HEAD_BYTES, kindOf, sniff } from './sniff.js';

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function tarHeader(name: string, magic: boolean): Uint8Array {
  const h = new Uint8Array(512);
  h.set(ascii(name), 0);
  h.set(ascii('0000644\0'), 100);
  h.set(ascii('00000000000\0'), 124);
  if (magic) h.set(ascii('ustar\x0000'), 257);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(ascii(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return h;
}

describe('sniff: executables', () => {
  it.each([
    ['ELF64 LE exec x86-64', elf(), 'elf', 'executable', 'ELF 64-bit LSB executable, x86-64'],
    ['ELF64 PIE (dyn + PT_INTERP)', elf({ type: 'dyn', interp: true }), 'elf', 'executable', 'ELF 64-bit LSB PIE executable, x86-64'],
    ['ELF64 shared object', elf({ type: 'dyn' }), 'elf', 'library', 'ELF 64-bit LSB shared object, x86-64'],
    ['ELF relocatable', elf({ type: 'rel', machine: 183 }), 'elf', 'object', 'ELF 64-bit LSB relocatable, AArch64'],
    ['ELF core', elf({ type: 'core' }), 'elf', 'core', 'ELF 64-bit LSB core file, x86-64'],
    ['ELF32 BE MIPS', elf({ bits: 32, le: false, machine: 8 }), 'elf', 'executable', 'ELF 32-bit MSB executable, MIPS'],
    ['ELF32 LE ARM PIE', elf({ bits: 32, machine: 40, type: 'dyn', interp: true }), 'elf', 'executable', 'ELF 32-bit LSB PIE executable, ARM'],
    ['ELF RISC-V', elf({ machine: 243 }), 'elf', 'executable', 'ELF 64-bit LSB executable, RISC-V'],
    ['ELF unknown machine', elf({ machine: 0x1234 }), 'elf', 'executable', 'ELF 64-bit LSB executable, machine 0x1234'],
    ['PE32+ console x86-64', pe(), 'pe', 'executable', 'PE32+ executable (console), x86-64'],
    ['PE32 GUI i386 DLL', pe({ plus: false, machine: 0x14c, dll: true, subsystem: 2 }), 'pe', 'library', 'PE32 DLL (GUI), Intel 80386'],
    ['PE .NET assembly', pe({ plus: false, machine: 0x14c, dotnet: true }), 'pe', 'executable', 'PE32 executable (console), Intel 80386, .NET assembly'],
    ['PE EFI application ARM64', pe({ machine: 0xaa64, subsystem: 10 }), 'pe', 'executable', 'PE32+ executable (EFI application), ARM64'],
    ['PE header overlapping the DOS header', pe({ lfanew: 4, plus: false, machine: 0x14c }), 'pe', 'executable', 'PE32 executable (console), Intel 80386'],
    ['Mach-O 64 LE arm64 exec', macho(), 'macho', 'executable', 'Mach-O 64-bit executable, arm64'],
    ['Mach-O 64 x86_64 dylib', macho({ fileType: 6, cpu: 0x01000007 }), 'macho', 'library', 'Mach-O 64-bit dynamically linked shared library, x86_64'],
    ['Mach-O 32 BE ppc object', macho({ bits: 32, le: false, fileType: 1, cpu: 18 }), 'macho', 'object', 'Mach-O 32-bit object, ppc'],
    ['Mach-O 32 LE i386 bundle', macho({ bits: 32, fileType: 8, cpu: 7 }), 'macho', 'library', 'Mach-O 32-bit bundle, i386'],
    ['universal binary', fatMacho([0x01000007, 0x0100000c]), 'macho-fat', 'executable', 'Mach-O universal binary with 2 architectures [x86_64, arm64]'],
    ['Java class (same magic as fat Mach-O)', javaClass(61), 'java-class', 'executable', 'Java class file (version 61)'],
  ])('%s', (_label, sample, type, role, description) => {
    const info = sniff(sample, true);
    expect(info).toMatchObject({ type, kind: 'executable', role, description });
    expect(info.malformed).toBeUndefined();
  });

  it('tells fat64 Mach-O, WebAssembly and DEX apart', () => {
    expect(sniff(concat(bytes(0xca, 0xfe, 0xba, 0xbf, 0, 0, 0, 1), new Uint8Array(32)))).toMatchObject({ type: 'macho-fat', kind: 'executable' });
    expect(sniff(bytes(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0))).toMatchObject({ type: 'wasm', kind: 'executable' });
    expect(sniff(bytes(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)).malformed).toMatch(/version 2/);
    expect(sniff(concat(ascii('dex\n035\0'), new Uint8Array(100)))).toMatchObject({ type: 'dex', kind: 'executable' });
  });

  it('calls an MZ whose PE header is elsewhere or absent a DOS executable, and flags one pointing past the end', () => {
    const dos = new Uint8Array(200);
    dos.set(ascii('MZ'));
    dos[0x3c] = 0x80;
    expect(sniff(dos, true)).toMatchObject({ type: 'mz', kind: 'executable', description: 'MS-DOS (MZ) executable' });
    const far = new Uint8Array(HEAD_BYTES);
    far.set(ascii('MZ'));
    far.set([0xff, 0xff, 0xff, 0x7f], 0x3c);
    expect(sniff(far, false)).toMatchObject({ type: 'mz', description: expect.stringMatching(/not examined/) as unknown });
    expect(sniff(far, true).malformed).toMatch(/past the end/);
  });

  it('reports malformed ELF headers instead of guessing', () => {
    expect(sniff(ascii('\x7fELF')).malformed).toMatch(/truncated/);
    const badClass = elf();
    badClass[4] = 7;
    expect(sniff(badClass)).toMatchObject({ type: 'elf', kind: 'executable', malformed: expect.stringMatching(/class 7/) as unknown });
    const badVersion = elf();
    badVersion[6] = 9;
    expect(sniff(badVersion).malformed).toMatch(/version 9/);
  });

  it('never throws on any prefix of a header, and the type never changes family', () => {
    for (const sample of [elf({ interp: true, type: 'dyn' }), elf({ bits: 32, le: false }), pe(), pe({ plus: false, dotnet: true }), macho(), macho({ bits: 32, le: false }), fatMacho([7, 12, 18])]) {
      const full = sniff(sample, true);
      for (let n = 4; n <= sample.length; n++) {
        const info = sniff(sample.subarray(0, n), true);
        expect(info.kind).toBe('executable');
        expect(info.type.slice(0, 2)).toBe(full.type === 'pe' ? (info.type === 'mz' ? 'mz' : 'pe') : full.type.slice(0, 2));
      }
    }
  });

  it('survives hostile header fields: huge phnum, offsets near 2^32, zero-sized entries', () => {
    const e = elf({ type: 'dyn' });
    const v = new DataView(e.buffer);
    v.setUint16(56, 0xffff, true); // phnum
    v.setUint16(54, 0, true); // phentsize 0
    expect(sniff(e).role).toBe('library');
    v.setUint16(54, 56, true);
    v.setBigUint64(32, 0xfffffff0n, true); // phoff far away
    expect(sniff(e).role).toBe('library');
    const p = pe();
    new DataView(p.buffer).setUint32(0x3c, 0xfffffffc, true);
    expect(() => sniff(p, true)).not.toThrow();
    expect(sniff(fatMacho(new Array<number>(19).fill(7)).subarray(0, 40), true).malformed).toMatch(/19 architectures declared/);
  });
});

describe('sniff: data formats', () => {
  it.each([
    ['zip', concat(ascii('PK\x03\x04'), new Uint8Array(26)), 'zip', 'archive'],
    ['empty zip', concat(ascii('PK\x05\x06'), new Uint8Array(18)), 'zip', 'archive'],
    ['gzip', bytes(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3), 'gzip', 'compressed'],
    ['xz', bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 4), 'xz', 'compressed'],
    ['bzip2', ascii('BZh91AY&SY'), 'bzip2', 'compressed'],
    ['zstd', bytes(0x28, 0xb5, 0x2f, 0xfd, 0, 0), 'zstd', 'compressed'],
    ['7z', bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4), '7z', 'archive'],
    ['rar', ascii('Rar!\x1a\x07\x01\x00'), 'rar', 'archive'],
    ['ar / deb', ascii('!<arch>\ndebian-binary   '), 'ar', 'archive'],
    ['ustar', concat(tarHeader('a.txt', true), new Uint8Array(512)), 'tar', 'archive'],
    ['v7 tar (checksum only)', concat(tarHeader('a.txt', false), new Uint8Array(512)), 'tar', 'archive'],
    ['PNG', png(randomBytes(100)), 'png', 'image'],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46), 'jpeg', 'image'],
    ['GIF', ascii('GIF89a\x01\x00\x01\x00'), 'gif', 'image'],
    ['BMP', concat(ascii('BM'), bytes(0x46, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 40, 0, 0, 0)), 'bmp', 'image'],
    ['WebP', ascii('RIFF\x24\x00\x00\x00WEBPVP8 '), 'webp', 'image'],
    ['WAVE', ascii('RIFF\x24\x00\x00\x00WAVEfmt '), 'wav', 'media'],
    ['MP4', concat(bytes(0, 0, 0, 0x18), ascii('ftypmp42')), 'mp4', 'media'],
    ['PDF', ascii('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), 'pdf', 'document'],
    ['OLE2', bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0), 'ole', 'document'],
    ['SQLite', ascii('SQLite format 3\0\x10\x00'), 'sqlite', 'data'],
  ])('%s', (_label, sample, type, kind) => {
    expect(sniff(sample)).toMatchObject({ type, kind });
    expect(kindOf(type)).toBe(kind);
  });

  it('does not take text that merely starts like BMP, RIFF or ISO media for them', () => {
    expect(sniff(ascii('BMW cars are German.\n')).type).toBe('text');
    expect(sniff(ascii('RIFFRAFF and friends\n')).type).toBe('text');
    expect(sniff(ascii('xxxxftyp is not a box\n')).type).toBe('text');
  });
});

describe('sniff: scripts and text', () => {
  it.each([
    ['#!/bin/sh\necho hi\n', 'script/sh'],
    ['#! /bin/bash -e\n', 'script/sh'],
    ['#!/usr/bin/env python3\nimport os\n', 'script/python'],
    ['#!/usr/bin/python3.12\n', 'script/python'],
    ['#!/usr/bin/env -S node --experimental-vm-modules\n', 'script/node'],
    ['#!/usr/bin/env FOO=1 ruby\n', 'script/ruby'],
    ['#!/usr/bin/perl -w\r\n', 'script/perl'],
    ['#!/usr/bin/env deno run\n', 'script/node'],
    ['#!/usr/bin/pwsh\n', 'script/powershell'],
    ['#!/usr/bin/awk -f\n', 'script/awk'],
    ['#!/opt/thing/interp\n', 'script/other'],
    ['#!\n', 'script/other'],
    ['<?php system($_GET["c"]);', 'script/php'],
    ['\ufeff<?php echo 1;', 'script/php'],
  ])('%j → %s', (text, type) => {
    expect(sniff(new TextEncoder().encode(text))).toMatchObject({ type, kind: 'script' });
  });

  it('treats a shebang followed by binary as a script: the kernel runs it', () => {
    expect(sniff(concat(ascii('#!/bin/sh\n'), randomBytes(500))).type).toBe('script/sh');
  });

  it.each([
    ['ASCII', ascii('hello world\n\tindented\r\n'), 'text'],
    ['UTF-8', new TextEncoder().encode('naïve café — 日本語 ✓\n'), 'text'],
    ['UTF-8 cut mid-character at the end of the sample', new TextEncoder().encode('日本語').subarray(0, 8), 'text'],
    ['UTF-16 with BOM', bytes(0xff, 0xfe, 0x68, 0, 0x69, 0), 'text/utf16'],
    ['a little Latin-1', ascii(`${'plain words '.repeat(20)}caf\xe9\n`), 'text'],
    ['NUL byte', ascii('abc\0def'), 'binary'],
    ['many control characters', ascii('\x01\x02\x03abc\x04\x05'), 'binary'],
    ['random bytes', randomBytes(4096), 'binary'],
    ['a lone byte', bytes(0x80), 'binary'],
  ])('%s → %s', (_label, sample, type) => {
    expect(sniff(sample).type).toBe(type);
  });

  it('answers empty for no bytes and ignores bytes past HEAD_BYTES', () => {
    expect(sniff(new Uint8Array(0))).toMatchObject({ type: 'empty', kind: 'empty' });
    const text = new Uint8Array(HEAD_BYTES + 10).fill(0x61);
    text[HEAD_BYTES + 5] = 0;
    expect(sniff(text).type).toBe('text');
  });

  it('never throws on random input of any length', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const b = randomBytes(seed % 300, seed);
      if (seed % 3 === 0 && b.length > 4) b.set([0x7f, 0x45, 0x4c, 0x46]);
      if (seed % 3 === 1 && b.length > 2) b.set([0x4d, 0x5a]);
      if (seed % 5 === 0 && b.length > 4) b.set([0xca, 0xfe, 0xba, 0xbe]);
      expect(() => sniff(b, seed % 2 === 0)).not.toThrow();
    }
  });
});

describe('nameParts', () => {
  it.each([
    ['photo.PNG', 'png', ''],
    ['dir/sub/archive.tar.gz', 'gz', 'tar'],
    ['C:\\Users\\me\\invoice.pdf.exe', 'exe', 'pdf'],
    ['.bashrc', '', ''],
    ['Makefile', '', ''],
    ['evil.png. . ', 'png', ''],
    ['', '', ''],
  ])('%j → ext %j, prev %j', (name, ext, prev) => {
    expect(nameParts(name)).toMatchObject({ ext, prev });
  });
});

describe('magicFindings', () => {
  const rules = (head: Uint8Array, name: string): string[] =>
    magicFindings(head, name, true)
      .findings.map((f) => `${f.ruleId}:${f.severity}`)
      .sort();

  it.each([
    ['ELF named a.out', elf(), 'a.out', ['magic/elf-executable:low']],
    ['ELF named .png', elf(), 'cat.png', ['magic/elf-executable:low', 'magic/extension-mismatch:medium']],
    ['ELF named .txt', elf(), 'notes.txt', ['magic/elf-executable:low', 'magic/extension-mismatch:medium']],
    ['ELF .so is fine', elf({ type: 'dyn' }), 'libx.so', ['magic/elf-shared-library:low']],
    ['ELF object', elf({ type: 'rel' }), 'x.o', ['magic/elf-object:info']],
    ['ELF named .exe: code either way', elf(), 'setup.exe', ['magic/elf-executable:low', 'magic/extension-mismatch:low']],
    ['PE named .exe', pe(), 'setup.exe', ['magic/pe-executable:low']],
    ['PE DLL', pe({ dll: true }), 'x.dll', ['magic/pe-shared-library:low']],
    ['PE named .jpg', pe(), 'holiday.jpg', ['magic/extension-mismatch:medium', 'magic/pe-executable:low']],
    ['Mach-O', macho(), 'tool', ['magic/macho-executable:low']],
    ['universal binary', fatMacho([7, 12]), 'tool', ['magic/macho-executable:low']],
    ['Java class', javaClass(), 'A.class', ['magic/java-class:info']],
    ['shell script named .png', ascii('#!/bin/sh\nrm -rf ~\n'), 'kitten.png', ['magic/extension-mismatch:medium', 'magic/script:info']],
    ['shell script named .sh', ascii('#!/bin/sh\necho\n'), 'run.sh', ['magic/script:info']],
    ['shell script named .txt', ascii('#!/bin/sh\necho\n'), 'readme.txt', ['magic/script:info']],
    ['PHP named .gif', ascii('<?php eval($_POST[1]);'), 'avatar.gif', ['magic/extension-mismatch:medium', 'magic/script:info']],
    ['JPEG named .png', bytes(0xff, 0xd8, 0xff, 0xe0, 1, 2), 'x.png', ['magic/extension-mismatch:low']],
    ['PNG named .png', png(), 'x.png', []],
    ['text named .exe', ascii('hello\n'), 'x.exe', ['magic/extension-mismatch:low']],
    ['binary named .json', randomBytes(100), 'x.json', ['magic/extension-mismatch:low']],
    ['unknown extension is not checked', elf(), 'x.bin', ['magic/elf-executable:low']],
    ['empty file named .png', new Uint8Array(0), 'x.png', []],
    ['double extension', pe(), 'invoice.pdf.exe', ['magic/double-extension:medium', 'magic/pe-executable:low']],
    ['right-to-left override', pe(), 'invoice\u202efdp.exe', ['magic/bidi-name:high', 'magic/pe-executable:low']],
    ['trailing dots do not hide .png', elf(), 'x.png...', ['magic/elf-executable:low', 'magic/extension-mismatch:medium']],
  ])('%s', (_label, head, name, expected) => {
    expect(rules(head, name)).toEqual(expected);
  });

  it('names the offset and the magic bytes in the evidence', () => {
    const { findings } = magicFindings(elf(), 'x.png', true);
    const mismatch = findings.find((f) => f.ruleId === 'magic/extension-mismatch')!;
    expect(mismatch.evidence).toEqual([{ offset: 0, length: 4, excerpt: '\\x7fELF' }]);
    expect(mismatch.message).toMatch(/ELF 64-bit LSB executable.*\.png/);
  });

  it('flags a malformed executable header (low)', () => {
    const e = elf();
    e[6] = 0;
    const f = magicFindings(e, 'x', true).findings.find((x) => x.ruleId === 'magic/malformed-header');
    expect(f).toMatchObject({ severity: 'low' });
  });

  it('gives the same findings whatever the chunking', () => {
    const sample = concat(elf(), randomBytes(20_000));
    const run = (size: number): unknown => {
      const r = magicDetector().start({ name: 'x.png', depth: 0, scanMember: () => Promise.reject(new Error('unused')) });
      for (let i = 0; i < sample.length; i += size) r.update(sample.subarray(i, i + size), i);
      return r.finish({ contentType: 'elf', bytes: sample.length });
    };
    const whole = run(sample.length);
    for (const size of [1, 3, 4096, 8191, 8192, 8193]) expect(run(size)).toEqual(whole);
  });
});
