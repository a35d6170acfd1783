import { describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { entropyDetector, shannon, type EntropyOptions } from './entropy.js';
import { ascii, concat, elf, pe, png, randomBytes } from './samples.js';
import type { Finding } from './types.js';

/** Machine-code-like filler: a small, skewed alphabet (about 4–5 bits/byte). */
function code(n: number, seed = 7): Uint8Array {
  const r = randomBytes(n, seed);
  const alphabet = [0x48, 0x89, 0xe5, 0x8b, 0x45, 0x00, 0x00, 0x00, 0xc3, 0xe8, 0x0f, 0x1f, 0x44, 0x00, 0x55, 0x5d, 0x31, 0xc0, 0xff, 0x24];
  return r.map((x) => alphabet[x % alphabet.length]!);
}

function run(sample: Uint8Array, name = 'x', chunk = sample.length || 1, options: EntropyOptions = {}): { ran: boolean; findings: Finding[] } {
  const r = entropyDetector(options).start({ name, depth: 0, scanMember: () => Promise.reject(new Error('unused')) });
  for (let i = 0; i < sample.length; i += chunk) r.update(sample.subarray(i, i + chunk), i);
  return r.finish({ contentType: 'ignored', bytes: sample.length }) as { ran: boolean; findings: Finding[] };
}

const ids = (r: { findings: Finding[] }): string[] => r.findings.map((f) => f.ruleId).sort();

describe('shannon', () => {
  it.each([
    ['one symbol', [[0x41, 100]], 0],
    ['two equally likely', [[0, 5], [1, 5]], 1],
    ['four equally likely', [[0, 1], [1, 1], [2, 1], [3, 1]], 2],
    ['empty', [], 0],
  ] as const)('%s', (_label, counts, bits) => {
    const h = new Uint32Array(256);
    for (const [b, c] of counts) h[b] = c;
    expect(shannon(h)).toBeCloseTo(bits, 10);
  });

  it('is 8 bits for a uniform histogram', () => {
    expect(shannon(new Uint32Array(256).fill(3))).toBeCloseTo(8, 10);
  });
});

describe('entropy detector', () => {
  it('flags a packed (high-entropy) ELF', () => {
    const r = run(elf({ body: randomBytes(200_000) }), 'server');
    expect(r.ran).toBe(true);
    expect(ids(r)).toEqual(['entropy/packed-executable']);
    expect(r.findings[0]).toMatchObject({ severity: 'medium', evidence: [{ offset: 0, length: 200_120 }] });
    expect(r.findings[0]!.message).toMatch(/ELF 64-bit.*[78]\.\d\d bits\/byte/);
  });

  it('leaves ordinary machine code alone', () => {
    const r = run(elf({ body: code(200_000) }));
    expect(r).toEqual({ ran: true, findings: [] });
  });

  it('finds one encrypted region in an otherwise ordinary executable, at its window', () => {
    const body = concat(code(100_000), randomBytes(32_768), code(100_000));
    const r = run(pe({ body }));
    expect(ids(r)).toEqual(['entropy/high-entropy-region']);
    const e = r.findings[0]!.evidence[0]!;
    const start = pe().length + 100_000;
    expect(e.length).toBe(8192);
    expect(e.offset % 8192).toBe(0);
    expect(e.offset).toBeGreaterThanOrEqual(start - 8192);
    expect(e.offset).toBeLessThan(start + 32_768);
  });

  it('spots UPX markers at their offset, even split across chunks', () => {
    const sample = elf({ body: concat(code(5000), ascii('UPX!'), code(5000)) });
    const at = elf().length + 5000;
    for (const chunk of [1, 2, 3, 5, 4096, at + 2, sample.length]) {
      const r = run(sample, 'x', chunk);
      expect(r.findings.map((f) => [f.ruleId, f.evidence[0]?.offset])).toEqual([['entropy/upx', at]]);
    }
  });

  it('spots a UPX PackHeader in the trailer of a large file, at its offset', () => {
    const body = concat(code(300_000), ascii('UPX!'), code(32));
    const sample = elf({ body });
    const at = sample.length - 36;
    for (const chunk of [1000, 4093, 65_536, sample.length]) {
      expect(run(sample, 'x', chunk).findings.map((f) => [f.ruleId, f.evidence[0]?.offset, f.certainty])).toEqual([['entropy/upx', at, 0.7]]);
    }
  });

  it('calls UPX plus high entropy one finding, with more certainty', () => {
    const r = run(elf({ body: concat(ascii('UPX!'), randomBytes(100_000)) }));
    expect(r.findings.map((f) => [f.ruleId, f.certainty])).toEqual([['entropy/upx', 0.95]]);
  });

  it('spots UPX section names in a PE header', () => {
    const p = pe({ body: concat(ascii('UPX0\0\0\0\0'), code(2000)) });
    expect(ids(run(p))).toEqual(['entropy/upx']);
  });

  it('calls random data named .bin encrypted, but leaves a PNG of random-looking data alone', () => {
    const blob = run(randomBytes(100_000), 'x.bin');
    expect(blob.ran).toBe(true);
    expect(ids(blob)).toEqual(['entropy/encrypted-data']);
    expect(blob.findings[0]!.severity).toBe('low');
    expect(run(png(randomBytes(100_000)), 'x.png')).toEqual({ ran: false, findings: [] });
  });

  it('does not apply to text, archives or compressed data', () => {
    expect(run(ascii('hello '.repeat(1000))).ran).toBe(false);
    expect(run(concat(Uint8Array.from([0x1f, 0x8b, 8]), randomBytes(50_000))).ran).toBe(false);
    expect(run(concat(ascii('PK\x03\x04'), randomBytes(50_000))).ran).toBe(false);
  });

  it('says nothing about tiny files (too few bytes to judge)', () => {
    expect(run(elf({ body: randomBytes(300) }))).toEqual({ ran: true, findings: [] });
    expect(run(new Uint8Array(0))).toEqual({ ran: false, findings: [] });
  });

  it('gives the same findings whatever the chunking', () => {
    const samples = [elf({ body: randomBytes(30_000) }), pe({ body: concat(code(20_000), randomBytes(9000), ascii('UPX!'), code(3000)) }), randomBytes(20_001), concat(code(8191), randomBytes(8193))];
    for (const s of samples) {
      const whole = run(s);
      for (const chunk of [1, 3, 4, 1023, 8191, 8192, 8193, 65_536]) expect(run(s, 'x', chunk)).toEqual(whole);
    }
  });

  it('honours its thresholds and window size', () => {
    const sample = elf({ body: concat(code(50_000), randomBytes(4096)) });
    expect(ids(run(sample, 'x', sample.length, { windowBytes: 4096 }))).toEqual(['entropy/high-entropy-region']);
    expect(ids(run(sample, 'x', sample.length, { windowBits: 7.99 }))).toEqual([]);
    expect(ids(run(sample, 'x', sample.length, { averageBits: 1 }))).toEqual(['entropy/packed-executable']);
  });

  it.each([{ windowBytes: 1000 }, { windowBytes: 512 }, { averageBits: 9 }, { windowBits: 0 }, { averageBits: Number.NaN }] as EntropyOptions[])('rejects options %j', (o) => {
    let caught: unknown;
    try {
      entropyDetector(o);
    } catch (err) {
      caught = err;
    }
    expect(isWardenError(caught) && caught.code).toBe('E_INVALID_ARGUMENT');
  });

  it('never throws on adversarial input', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const b = randomBytes((seed * 97) % 20_000, seed);
      if (seed % 2 === 0 && b.length > 4) b.set([0x7f, 0x45, 0x4c, 0x46]);
      expect(() => run(b, 'x', 1 + (seed % 5000))).not.toThrow();
    }
  });
});
