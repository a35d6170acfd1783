/**
 * (g) Scanner (issue 9): throughput of the threat scanner per detector and end
 * to end, how it scales from 1 KiB to 1 GiB, the latency of a small file, and
 * the ≥ 500 MB/s per core target. Called from bench/run.ts (`--scan-only`
 * runs just this section; it needs neither root nor an engine).
 *
 * MB/s is 10^6 bytes per second. "CPU" rates divide the bytes by this
 * process's CPU time (process.cpuUsage: user + system, all threads, so GC
 * helper threads count too): that is the rate per core, and what the target
 * is judged on. "wall" rates use elapsed time.
 *
 * Input: "mixed" is 64 KiB blocks taken in turn from the node binary (ELF),
 * TypeScript's own JavaScript, Python's standard library (text), pseudo-random
 * bytes (like compressed data) and base64 text. Files up to 16 MiB are slices
 * of a 16 MiB pool held in memory (1 KiB and 64 KiB files are the same five
 * kinds in five equal pieces, so they start with an ELF header too); 256 MiB
 * and 1 GiB are streamed from a generator that cycles over the pool at a
 * shifting offset, so nothing that size is allocated. Every source yields
 * 1 MiB chunks, the scanner's default chunkBytes.
 *
 * "Alone" rows call the detector directly (start → update per 1 MiB → finish,
 * with the content type the scanner would pass), without hashing or the
 * scanner's loop; "sha256 + scanner" is createScanner({ detectors: [] }), the
 * cost every scan pays before any detector. "End to end" is
 * createScanner({ timeoutMs: 600000 }) with defaultDetectors() (the default
 * rules; the time budget is raised so a 1 GiB scan is never cut short), via
 * scanStream. The scanner is created once per row; each cell repeats its pass
 * until `minMs` has passed (after one untimed warm-up pass up to 16 MiB).
 */
import { createCipheriv } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createScanner, type Scanner } from '../packages/core/src/scan/scanner.js';
import { defaultDetectors } from '../packages/core/src/scan/detectors.js';
import { patternsDetector } from '../packages/core/src/scan/patterns/index.js';
import { loadYaraX } from '../packages/core/src/scan/patterns/engines/yarax.js';
import { HEAD_BYTES, sniff } from '../packages/core/src/scan/sniff.js';
import type { Detector, ScanContext, Verdict } from '../packages/core/src/scan/types.js';
import { tar, zip } from '../test/helpers/archives.js';
import { hostCpuTicks } from './host.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';
import type { Target } from './report.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
/** Bytes per chunk handed to detectors: the scanner's default chunkBytes. */
const CHUNK = MIB;
const BLOCK = 64 * KIB;
const POOL = 16 * MIB;
/** The target: end to end, mixed data, default rules, per core. */
const TARGET_MBPS = 500;
/** Per byte, the largest size may be at most this much slower than 1 MiB before it is flagged. */
const LINEAR_SLACK = 1.5;
const SCAN_TIMEOUT_MS = 600_000;

export interface ScanPlan {
  /** File sizes for the throughput matrix, ascending; must include 1 MiB. */
  readonly sizes: readonly number[];
  /** Each cell repeats its pass until this much wall time has passed. */
  readonly minMs: number;
  /** Bytes per content kind for the per-kind table, and its minMs. */
  readonly kindBytes: number;
  readonly kindMinMs: number;
  /** Mixed bytes packed into the zip and tar.gz (4 MiB members). */
  readonly archiveBytes: number;
  /** Mixed bytes for the YARA-X comparison; 0 skips it. */
  readonly yaraBytes: number;
  /** 1 KiB scans timed per variant, after warm-up ones. */
  readonly latencyN: number;
  readonly latencyWarmup: number;
  readonly latencyBudgetMs: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const SCAN_PLAN: { readonly quick: ScanPlan; readonly full: ScanPlan } = {
  quick: { sizes: [KIB, 64 * KIB, MIB, 16 * MIB], minMs: 25, kindBytes: MIB, kindMinMs: 10, archiveBytes: 4 * MIB, yaraBytes: 0, latencyN: 300, latencyWarmup: 30, latencyBudgetMs: 1_000, watchdogMs: 60_000 },
  full: {
    sizes: [KIB, 64 * KIB, MIB, 16 * MIB, 256 * MIB, GIB],
    minMs: 1_500,
    kindBytes: 16 * MIB,
    kindMinMs: 300,
    archiveBytes: 64 * MIB,
    yaraBytes: 16 * MIB,
    latencyN: 5_000,
    latencyWarmup: 500,
    latencyBudgetMs: 20_000,
    watchdogMs: 420_000,
  },
};

export interface Rate {
  /** Bytes scanned in all timed passes. */
  readonly bytes: number;
  readonly passes: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  /** 10^6 bytes per CPU second (per core) and per wall second. */
  readonly cpuMBps: number;
  readonly wallMBps: number;
}

export interface RowResult {
  readonly label: string;
  /** One rate per plan size, in order. */
  readonly rates: readonly Rate[];
  /** CPU time per byte at the largest size ÷ at 1 MiB (> LINEAR_SLACK is flagged). */
  readonly largestVs1MiB: number;
}

export interface KindResult {
  readonly kind: string;
  /** CPU MB/s by row label (same labels as the matrix). */
  readonly cpuMBps: Readonly<Record<string, number>>;
}

export interface ArchiveResult {
  readonly label: string;
  readonly archiveBytes: number;
  readonly expandedBytes: number;
  /** Rates over the archive's own bytes; expanded MB/s = cpuMBps × expandedBytes / archiveBytes. */
  readonly alone: Rate;
  readonly endToEnd: Rate;
  readonly findings: readonly string[];
}

export interface ScanResults {
  readonly sizes: readonly number[];
  readonly kindBytes: number;
  readonly patternsEngine: string;
  readonly rows: readonly RowResult[];
  /** End to end at the largest size: milliseconds each detector spent, as the verdicts report it (wall, summed over passes). */
  readonly largestDetectorMs: Readonly<Record<string, number>>;
  /** End to end at the largest size: what the verdict said (findings' rule ids), truncated or not, and RSS before/after. */
  readonly largestVerdict: { readonly level: string; readonly ruleIds: readonly string[]; readonly truncated: boolean; readonly rssMiBBefore: number; readonly rssMiBAfter: number };
  readonly kinds: readonly KindResult[];
  readonly archives: readonly ArchiveResult[];
  /** Patterns alone with the YARA-X engine (not the default) against the default JS engine, same bytes; undefined when skipped or unavailable. */
  readonly yara: { readonly bytes: number; readonly yarax: Rate; readonly js: Rate } | { readonly unavailable: string } | undefined;
  /** Share of all the host's CPUs busy during the section (0..100), and how much of it was this process: the rest was other work, which skews the numbers. */
  readonly hostBusy: { readonly percent: number; readonly ownPercent: number };
  /** 1 KiB end to end, scanner created once. */
  readonly latency: readonly { readonly label: string; readonly summary: Summary; readonly detectorMeanMs: Readonly<Record<string, number>> }[];
}

// ---------------------------------------------------------------- input

type Kind = 'elf' | 'js' | 'py' | 'random' | 'base64' | 'zeros';
const MIXED_KINDS: readonly Kind[] = ['elf', 'js', 'py', 'random', 'base64'];
const ALL_KINDS: readonly Kind[] = [...MIXED_KINDS, 'zeros'];

/** Deterministic pseudo-random bytes (AES-128-CTR of zeros, fixed key). */
function prng(bytes: number, seed: number): Buffer {
  const key = Buffer.alloc(16, seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
}

function pythonText(): Buffer {
  for (const dir of ['/usr/lib/python3.11', '/usr/lib/python3.12', '/usr/lib/python3']) {
    try {
      const files = readdirSync(dir).filter((f) => f.endsWith('.py'));
      if (files.length > 0) return Buffer.concat(files.sort().map((f) => readFileSync(join(dir, f))));
    } catch {
      // try the next one
    }
  }
  return Buffer.from('def f(x):\n    """Add one."""\n    return x + 1\n\n'.repeat(200_000));
}

function loadSources(): Record<Kind, Buffer> {
  const elf = readFileSync(process.execPath);
  return {
    // 24 MiB of the binary: its headers, code and data.
    elf: Buffer.from(elf.subarray(0, Math.min(elf.length, 24 * MIB))),
    js: readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js')),
    py: pythonText(),
    random: prng(8 * MIB, 7),
    base64: Buffer.from(prng(6 * MIB, 9).toString('base64')),
    zeros: Buffer.alloc(2 * MIB),
  };
}

/** `size` bytes in blocks of `block`, cycling through `kinds`, each kind read on from where it left off. */
function build(sources: Record<Kind, Buffer>, kinds: readonly Kind[], size: number, block: number): Buffer {
  const out = Buffer.alloc(size);
  const at = new Map<Kind, number>();
  for (let o = 0, i = 0; o < size; o += block, i++) {
    const kind = kinds[i % kinds.length]!;
    const src = sources[kind];
    const n = Math.min(block, size - o);
    let p = at.get(kind) ?? 0;
    if (p + n > src.length) p = 0;
    src.copy(out, o, p, p + n);
    at.set(kind, p + n);
  }
  return out;
}

interface Input {
  readonly size: number;
  /** The bytes when they are held in memory (≤ POOL); otherwise chunks come from cycling over `pool`. */
  readonly bytes: Buffer | undefined;
  readonly pool: Buffer;
  /** What the scanner's sniff of the head says: the content type detectors are told in finish. */
  readonly contentType: string;
}

/** A pool has POOL + CHUNK bytes so every chunk of a lap is a full view. */
function input(pool: Buffer, sources: Record<Kind, Buffer>, size: number): Input {
  const bytes = size > POOL ? undefined : size < MIXED_KINDS.length * BLOCK ? build(sources, MIXED_KINDS, size, Math.max(1, Math.ceil(size / MIXED_KINDS.length))) : pool.subarray(0, size);
  const head = (bytes ?? pool).subarray(0, Math.min(size, HEAD_BYTES));
  return { size, bytes, pool, contentType: sniff(head, size <= HEAD_BYTES).type };
}

/** 1 MiB views: of the bytes, or of the pool lap after lap, each lap shifted by a few blocks. */
function* chunks(inp: Input): Generator<Uint8Array> {
  if (inp.bytes) {
    for (let o = 0; o < inp.size; o += CHUNK) yield inp.bytes.subarray(o, o + CHUNK);
    return;
  }
  const perLap = POOL / CHUNK;
  for (let o = 0, i = 0; o < inp.size; o += CHUNK, i++) {
    const lap = Math.floor(i / perLap);
    const at = (i % perLap) * CHUNK + ((lap * 3 * BLOCK) % CHUNK);
    yield inp.pool.subarray(at, at + Math.min(CHUNK, inp.size - o));
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- scanStream needs an async iterable
async function* asyncChunks(inp: Input): AsyncGenerator<Uint8Array> {
  yield* chunks(inp);
}

// ---------------------------------------------------------------- timing

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function rate(bytes: number, passes: number, cpuMs: number, wallMs: number): Rate {
  return { bytes, passes, cpuMs, wallMs, cpuMBps: bytes / 1e6 / (cpuMs / 1000), wallMBps: bytes / 1e6 / (wallMs / 1000) };
}

/** Repeats `pass` (which scans `bytes`) until `minMs` has passed; one untimed warm-up pass first for files up to POOL. */
async function timed(pass: () => Promise<unknown>, bytes: number, minMs: number, signal: AbortSignal): Promise<Rate> {
  gc();
  if (bytes <= POOL) await pass();
  let passes = 0;
  const c0 = process.cpuUsage();
  const t0 = now();
  do {
    await pass();
    passes++;
  } while (elapsedMs(t0) < minMs && !signal.aborted);
  const wallMs = elapsedMs(t0);
  const c = process.cpuUsage(c0);
  return rate(bytes * passes, passes, (c.user + c.system) / 1000, wallMs);
}

const cleanVerdict: Verdict = Object.freeze({ level: 'clean', score: 0, confidence: 1, findings: [], explanation: '', detectors: [], bytes: 0, sha256: '', contentType: 'binary' });

/** A member scan for detectors run alone: reads every member byte and calls it clean. */
async function drainMember(counter: { bytes: number }, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<Verdict> {
  if (data instanceof Uint8Array) counter.bytes += data.length;
  else for await (const c of data) counter.bytes += c.length;
  return cleanVerdict;
}

/** One pass of a detector alone, fed like the scanner feeds it. */
async function detectorPass(det: Detector, inp: Input, counter = { bytes: 0 }): Promise<number> {
  const ctx: ScanContext = { name: 'bench.bin', size: inp.size, depth: 0, scanMember: (_name, data) => drainMember(counter, data) };
  const run = det.start(ctx);
  let off = 0;
  for (const c of chunks(inp)) {
    run.update(c, off);
    off += c.length;
  }
  return (await run.finish({ contentType: inp.contentType, bytes: inp.size })).findings.length;
}

function scanPass(scanner: Scanner, inp: Input, last?: { v?: Verdict }): () => Promise<unknown> {
  return async () => {
    const v = await scanner.scanStream(asyncChunks(inp), { name: 'bench.bin', size: inp.size });
    if (last) last.v = v;
    if (v.truncated === true) throw new Error(`the ${inp.size}-byte scan was cut short: ${v.findings.map((f) => f.ruleId).join(', ')}`);
    const failed = v.detectors.find((d) => d.error !== undefined);
    if (failed) throw new Error(`detector ${failed.name} failed: ${failed.error}`);
  };
}

const sizeLabel = (n: number): string => (n >= GIB ? `${n / GIB} GiB` : n >= MIB ? `${n / MIB} MiB` : `${n / KIB} KiB`);

// ---------------------------------------------------------------- the section

export async function scanBench(plan: ScanPlan, signal: AbortSignal, log: (s: string) => void): Promise<ScanResults> {
  if (!plan.sizes.includes(MIB)) throw new Error('the scan plan must include 1 MiB (the linearity baseline)');
  const ticks0 = await hostCpuTicks();
  const cpu0 = process.cpuUsage();
  const sources = loadSources();
  const pool = build(sources, MIXED_KINDS, POOL + CHUNK, BLOCK);
  const inputs = plan.sizes.map((s) => input(pool, sources, s));
  const detectors = await defaultDetectors();
  const patternsEngine = (detectors.find((d) => d.name === 'patterns') as { engine?: string } | undefined)?.engine ?? 'unknown';
  const floorScanner = createScanner({ detectors: [], timeoutMs: SCAN_TIMEOUT_MS });
  const scanner = createScanner({ timeoutMs: SCAN_TIMEOUT_MS });
  const largest = inputs[inputs.length - 1]!;

  // Throughput matrix: one row per detector (alone), the floor, and end to end; sizes ascending.
  const rows: RowResult[] = [];
  const largestDetectorMs: Record<string, number> = {};
  let largestVerdict: ScanResults['largestVerdict'] = { level: '-', ruleIds: [], truncated: false, rssMiBBefore: 0, rssMiBAfter: 0 };
  const variants: { label: string; pass: (inp: Input) => () => Promise<unknown> }[] = [
    { label: 'sha256 + scanner, no detectors', pass: (inp) => scanPass(floorScanner, inp) },
    ...detectors.map((d) => ({ label: `${d.name} alone`, pass: (inp: Input) => () => detectorPass(d, inp) })),
    { label: 'end to end, defaultDetectors()', pass: (inp) => scanPass(scanner, inp) },
  ];
  for (const v of variants) {
    const rates: Rate[] = [];
    for (const inp of inputs) {
      if (signal.aborted) break;
      const e2e = v.label.startsWith('end to end');
      if (e2e && inp === largest) {
        // The largest end-to-end pass also records where the verdict says the time went, and memory.
        const last: { v?: Verdict } = {};
        gc();
        const rssBefore = process.memoryUsage().rss;
        const r = await timed(scanPass(scanner, inp, last), inp.size, plan.minMs, signal);
        rates.push(r);
        const verdict = last.v;
        if (verdict) {
          for (const d of verdict.detectors) largestDetectorMs[d.name] = d.durationMs;
          largestVerdict = {
            level: verdict.level,
            ruleIds: [...new Set(verdict.findings.map((f) => f.ruleId))],
            truncated: verdict.truncated === true,
            rssMiBBefore: rssBefore / MIB,
            rssMiBAfter: process.memoryUsage().rss / MIB,
          };
        }
      } else {
        rates.push(await timed(v.pass(inp), inp.size, plan.minMs, signal));
      }
      const r = rates[rates.length - 1]!;
      log(`(g) ${v.label}, ${sizeLabel(inp.size)}: ${r.cpuMBps.toFixed(0)} MB/s CPU, ${r.wallMBps.toFixed(0)} wall (${r.passes} passes)`);
    }
    const at1 = rates[plan.sizes.indexOf(MIB)];
    const atMax = rates[plan.sizes.length - 1];
    rows.push({ label: v.label, rates, largestVs1MiB: at1 && atMax ? at1.cpuMBps / atMax.cpuMBps : Number.NaN });
  }

  // Per content kind: which data is expensive for which detector.
  const kinds: KindResult[] = [];
  for (const kind of ALL_KINDS) {
    if (signal.aborted) break;
    const bytes = build(sources, [kind], plan.kindBytes, BLOCK);
    const inp: Input = { size: bytes.length, bytes, pool, contentType: sniff(bytes.subarray(0, HEAD_BYTES), false).type };
    const cpu: Record<string, number> = {};
    for (const v of variants) cpu[v.label] = (await timed(v.pass(inp), inp.size, plan.kindMinMs, signal)).cpuMBps;
    kinds.push({ kind, cpuMBps: cpu });
    log(`(g) ${kind}: end to end ${cpu['end to end, defaultDetectors()']!.toFixed(0)} MB/s CPU`);
  }

  // Archives of mixed data: the archive detector alone (members drained), and end to end (members scanned too).
  const archives: ArchiveResult[] = [];
  if (!signal.aborted && plan.archiveBytes > 0) {
    const payload = build(sources, MIXED_KINDS, plan.archiveBytes, BLOCK);
    const members = Array.from({ length: Math.ceil(payload.length / (4 * MIB)) }, (_, i) => ({ name: `m${i}.bin`, data: payload.subarray(i * 4 * MIB, (i + 1) * 4 * MIB) }));
    const archive = detectors.find((d) => d.name === 'archive')!;
    for (const [label, bytes] of [
      [`zip (deflate level 1) of ${sizeLabel(payload.length)} mixed, 4 MiB members`, zip(members, { level: 1 })],
      [`tar.gz (gzip level 1) of ${sizeLabel(payload.length)} mixed, 4 MiB members`, gzipSync(tar(members), { level: 1 })],
    ] as const) {
      if (signal.aborted) break;
      const inp: Input = { size: bytes.length, bytes, pool, contentType: sniff(bytes.subarray(0, HEAD_BYTES), false).type };
      const counter = { bytes: 0 };
      await detectorPass(archive, inp, counter);
      const expandedBytes = counter.bytes;
      const alone = await timed(() => detectorPass(archive, inp), inp.size, plan.minMs, signal);
      const last: { v?: Verdict } = {};
      const endToEnd = await timed(scanPass(scanner, inp, last), inp.size, plan.minMs, signal);
      archives.push({ label, archiveBytes: bytes.length, expandedBytes, alone, endToEnd, findings: [...new Set(last.v?.findings.map((f) => f.ruleId) ?? [])] });
      log(`(g) ${label}: alone ${alone.cpuMBps.toFixed(0)} MB/s, end to end ${endToEnd.cpuMBps.toFixed(0)} MB/s (archive bytes, CPU)`);
    }
  }

  // Latency of a 1 KiB file end to end, the scanner created once; variants interleaved in rotating order.
  const latency: ScanResults['latency'][number][] = [];
  if (!signal.aborted) {
    const dir = await mkdtemp(join(tmpdir(), 'warden-bench-scan-'));
    try {
      const mixed1k = input(pool, sources, KIB).bytes!;
      const text1k = build(sources, ['js'], KIB, KIB);
      const file = join(dir, 'bench.bin');
      await writeFile(file, mixed1k);
      const lat: { label: string; run: () => Promise<Verdict>; ms: number[]; det: Record<string, number> }[] = [
        { label: 'scanBytes, 1 KiB mixed', run: () => scanner.scanBytes(mixed1k, 'bench.bin'), ms: [], det: {} },
        { label: 'scanBytes, 1 KiB JavaScript text', run: () => scanner.scanBytes(text1k, 'bench.js'), ms: [], det: {} },
        { label: 'scanFile, 1 KiB mixed (open+stat+read+close)', run: () => scanner.scanFile(file), ms: [], det: {} },
      ];
      gc();
      const until = Date.now() + plan.latencyBudgetMs;
      for (let i = 0; i < plan.latencyWarmup + plan.latencyN && Date.now() < until && !signal.aborted; i++) {
        const keep = i >= plan.latencyWarmup;
        for (let k = 0; k < lat.length; k++) {
          const x = lat[(i + k) % lat.length]!;
          const t = now();
          const v = await x.run();
          const ms = elapsedMs(t);
          if (!keep) continue;
          x.ms.push(ms);
          for (const d of v.detectors) x.det[d.name] = (x.det[d.name] ?? 0) + d.durationMs;
        }
      }
      for (const x of lat) {
        const n = Math.max(1, x.ms.length);
        latency.push({ label: x.label, summary: summarize(x.ms), detectorMeanMs: Object.fromEntries(Object.entries(x.det).map(([k, v]) => [k, v / n])) });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  // Last, so the shared pattern code turns polymorphic only after everything else: the YARA-X engine against the default one on the same bytes.
  let yara: ScanResults['yara'];
  if (!signal.aborted && plan.yaraBytes > 0) {
    const loaded = loadYaraX();
    if ('binding' in loaded) {
      const inp = input(pool, sources, plan.yaraBytes);
      // The default detector's JS engine first: once a YARA-X run has gone through the shared code, its call sites are polymorphic.
      const jsDetector = detectors.find((d) => d.name === 'patterns')!;
      const js = await timed(() => detectorPass(jsDetector, inp), inp.size, plan.minMs, signal);
      const yaraDetector = patternsDetector({ engine: 'yara-x' });
      const yarax = await timed(() => detectorPass(yaraDetector, inp), inp.size, plan.minMs, signal);
      yara = { bytes: inp.size, yarax, js };
      log(`(g) patterns alone, yara-x ${yarax.cpuMBps.toFixed(0)} vs ${patternsEngine} ${js.cpuMBps.toFixed(0)} MB/s CPU`);
    } else {
      yara = { unavailable: loaded.error };
    }
  }

  const ticks1 = await hostCpuTicks();
  const cpu1 = process.cpuUsage(cpu0);
  const allTicks = Math.max(1, ticks1.all - ticks0.all);
  // USER_HZ is 100: one tick is 10 ms of CPU.
  const hostBusy = { percent: (100 * (ticks1.busy - ticks0.busy)) / allTicks, ownPercent: (100 * ((cpu1.user + cpu1.system) / 10_000)) / allTicks };
  return { sizes: plan.sizes, kindBytes: plan.kindBytes, patternsEngine, hostBusy, rows, largestDetectorMs, largestVerdict, kinds, archives, yara, latency };
}

// ---------------------------------------------------------------- targets and report

const E2E = 'end to end, defaultDetectors()';
/** MB/s; rates of detectors that do no per-byte work run into the millions, shown as k or M. */
const mbps = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e5 ? `${(x / 1e3).toFixed(0)}k` : x >= 100 ? x.toFixed(0) : x.toFixed(1);

export function scanTargets(r: ScanResults): Target[] {
  const e2e = r.rows.find((x) => x.label === E2E);
  const last = e2e?.rates[r.sizes.length - 1];
  const from1 = e2e ? e2e.rates.slice(r.sizes.indexOf(MIB)).map((x) => x.cpuMBps) : [];
  return [
    {
      name: 'scanner throughput, end to end',
      goal: `≥ ${TARGET_MBPS} MB/s per core, mixed binary/text, default rules`,
      measured: last
        ? `${mbps(last.cpuMBps)} MB/s per core at ${sizeLabel(r.sizes[r.sizes.length - 1]!)} (wall ${mbps(last.wallMBps)}; 1 MiB and up: ${mbps(Math.min(...from1))}–${mbps(Math.max(...from1))})`
        : 'not measured',
      pass: (last?.cpuMBps ?? 0) >= TARGET_MBPS,
    },
  ];
}

export function printScanReport(r: ScanResults, out: (line: string) => void): void {
  const largest = sizeLabel(r.sizes[r.sizes.length - 1]!);
  out(`(g) scanner: MB/s = 10^6 bytes/s; CPU = per core (bytes ÷ this process's CPU time), wall in parentheses; patterns engine: ${r.patternsEngine}`);
  out('  input: mixed ELF / JavaScript / Python text / random / base64 in 64 KiB blocks, 1 MiB chunks; > 16 MiB streamed from a generator');
  const others = Math.max(0, r.hostBusy.percent - r.hostBusy.ownPercent);
  out(`  host CPUs busy during (g): ${r.hostBusy.percent.toFixed(0)}%, this process ${r.hostBusy.ownPercent.toFixed(0)}%, other work ${others.toFixed(0)}%${others > 10 ? ' — WARNING: other work competed for the CPUs' : ''}`);
  out(`  throughput by file size, MB/s CPU (wall); "${largest} vs 1 MiB" = CPU time per byte, ≤ ${LINEAR_SLACK}× is linear`);
  const head = ['', ...r.sizes.map(sizeLabel), `${largest} vs 1 MiB`];
  const rows = r.rows.map((x) => [
    x.label,
    ...r.sizes.map((_, i) => {
      const c = x.rates[i];
      return c ? `${mbps(c.cpuMBps)} (${mbps(c.wallMBps)})` : '-';
    }),
    Number.isFinite(x.largestVs1MiB) ? `${x.largestVs1MiB.toFixed(2)}×${x.largestVs1MiB > LINEAR_SLACK ? '  NOT LINEAR' : ''}` : '-',
  ]);
  for (const l of table([head, ...rows])) out(`    ${l}`);

  // Where the time goes at the largest size: ns per byte, alone and as the end-to-end verdict reports it.
  const at = r.sizes.length - 1;
  const nsPerByte = (x: RowResult | undefined): number => (x?.rates[at] ? (x.rates[at].cpuMs * 1e6) / x.rates[at].bytes : Number.NaN);
  const e2eNs = nsPerByte(r.rows.find((x) => x.label === E2E));
  const parts = r.rows.filter((x) => x.label !== E2E);
  const sumNs = parts.reduce((a, x) => a + (Number.isFinite(nsPerByte(x)) ? nsPerByte(x) : 0), 0);
  const e2eRow = r.rows.find((x) => x.label === E2E);
  const e2ePasses = e2eRow?.rates[at]?.passes ?? 1;
  const verdictMsTotal = Object.values(r.largestDetectorMs).reduce((a, b) => a + b, 0);
  const e2eWallMsPerPass = e2eRow?.rates[at] ? e2eRow.rates[at].wallMs / e2ePasses : Number.NaN;
  out(`  where the CPU goes at ${largest}: ns per byte alone (share of their sum), and each detector's share of the last end-to-end scan's wall time (its verdict's durationMs)`);
  const share: string[][] = [['', 'ns/B alone', 'share', 'in the e2e verdict']];
  for (const x of parts) {
    const ns = nsPerByte(x);
    const name = x.label.replace(/ alone$/, '');
    const vms = r.largestDetectorMs[name];
    share.push([x.label, ns.toFixed(2), `${((ns / sumNs) * 100).toFixed(0)}%`, vms === undefined ? '-' : `${f1(vms)} ms (${((vms / e2eWallMsPerPass) * 100).toFixed(0)}%)`]);
  }
  share.push(['sum of the above', sumNs.toFixed(2), '100%', `${f1(verdictMsTotal)} ms of ${f1(e2eWallMsPerPass)} ms`]);
  share.push(['end to end', e2eNs.toFixed(2), `${((e2eNs / sumNs) * 100).toFixed(0)}% of sum`, '']);
  for (const l of table(share)) out(`    ${l}`);
  const lv = r.largestVerdict;
  out(`  ${largest} verdict: ${lv.level}${lv.truncated ? ' (TRUNCATED)' : ''}, rules ${lv.ruleIds.join(', ') || 'none'}; RSS ${lv.rssMiBBefore.toFixed(0)} → ${lv.rssMiBAfter.toFixed(0)} MiB`);

  if (r.kinds.length > 0) {
    out(`  by content kind, MB/s CPU: ${sizeLabel(r.kindBytes)} of each kind alone`);
    const labels = r.rows.map((x) => x.label);
    const short = labels.map((l) => (l === E2E ? 'end to end' : l.startsWith('sha256') ? 'sha256+scanner' : l.replace(/ alone$/, '')));
    for (const l of table([['', ...short], ...r.kinds.map((k) => [k.kind, ...labels.map((l) => mbps(k.cpuMBps[l]))])])) out(`    ${l}`);
  }

  if (r.archives.length > 0) {
    out('  archives: MB/s CPU of archive bytes (of expanded bytes); alone = archive detector, members drained unscanned; end to end = members scanned by every detector');
    const rowsA = r.archives.map((a) => {
      const k = a.expandedBytes / a.archiveBytes;
      return [a.label, `${(a.archiveBytes / MIB).toFixed(1)} MiB`, `${mbps(a.alone.cpuMBps)} (${mbps(a.alone.cpuMBps * k)})`, `${mbps(a.endToEnd.cpuMBps)} (${mbps(a.endToEnd.cpuMBps * k)})`, a.findings.join(', ') || 'none'];
    });
    for (const l of table([['', 'size', 'alone', 'end to end', 'findings'], ...rowsA])) out(`    ${l.trimEnd()}`);
  }

  if (r.yara) {
    if ('unavailable' in r.yara) out(`  patterns with the yara-x engine: unavailable (${r.yara.unavailable})`);
    else out(`  patterns alone on ${sizeLabel(r.yara.bytes)} mixed: yara-x engine ${mbps(r.yara.yarax.cpuMBps)} MB/s CPU (${mbps(r.yara.yarax.wallMBps)}) vs the default ${r.patternsEngine} engine ${mbps(r.yara.js.cpuMBps)} (${mbps(r.yara.js.wallMBps)})`);
  }

  if (r.latency.length > 0) {
    out('  latency, ms: 1 KiB end to end, scanner created once, variants interleaved; then each detector\'s mean durationMs from the verdicts');
    for (const l of table([LAT_HEAD, ...r.latency.map((x) => latencyRow(x.label, x.summary))])) out(`    ${l}`);
    const names = Object.keys(r.latency[0]!.detectorMeanMs);
    for (const l of table([['', ...names.map((n) => `${n} µs`)], ...r.latency.map((x) => [x.label, ...names.map((n) => ((x.detectorMeanMs[n] ?? 0) * 1000).toFixed(1))])])) out(`    ${l}`);
  }
}

