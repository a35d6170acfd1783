/**
 * (l) The file API's overhead: reading a whole 1 KiB and 1 MiB file of a
 * running sandbox's /workspace with `sandbox.files.readBytes` (the agent's
 * `fs` helper, started in the sandbox, streams it back), next to `cat` of the
 * same file through `sandbox.exec` (a process in the sandbox, output
 * collected), and a plain `readFile` on the host of a file with the same
 * bytes (the floor: no sandbox, no process). Section (e) measures reads by a
 * process inside; this is what getting the bytes out costs.
 *
 * The six variants (2 sizes × 3 ways) run interleaved, one of each per round
 * in rotating order, after untimed warm-up rounds. Every read is checked
 * against the bytes written. Called from bench/run.ts (`--files-only` runs
 * just this section); it makes its own sandbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, Sandbox } from '../packages/core/src/index.js';
import { LAT_RATIO_HEAD, latencyRatioRow, ratio, table } from './format.js';
import { elapsedMs, now, rotated, summarize, type Summary } from './stats.js';

export interface FilesPlan {
  readonly rounds: number;
  readonly warmup: number;
  /** The rounds also stop here. */
  readonly budgetMs: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const FILES_PLAN: { readonly quick: FilesPlan; readonly full: FilesPlan } = {
  quick: { rounds: 30, warmup: 3, budgetMs: 5_000, watchdogMs: 30_000 },
  full: { rounds: 400, warmup: 20, budgetMs: 30_000, watchdogMs: 60_000 },
};

type Via = 'files.readBytes' | 'exec cat' | 'host readFile';
const VIAS: readonly Via[] = ['files.readBytes', 'exec cat', 'host readFile'];
const SIZES = [
  { label: '1 KiB', bytes: 1024 },
  { label: '1 MiB', bytes: 1024 * 1024 },
] as const;

export interface FileReadRow {
  readonly size: string;
  readonly bytes: number;
  readonly via: Via;
  readonly latency: Summary;
}

export interface FilesResults {
  readonly rows: readonly FileReadRow[];
  readonly aborted: boolean;
}

/** Printable ASCII, so `cat`'s stdout (a string) holds the same bytes. */
function content(bytes: number): Buffer {
  const b = randomBytes(bytes);
  for (let i = 0; i < b.length; i++) b[i] = 0x21 + (b[i]! % 94);
  return b;
}

export async function filesBench(engine: Engine, spec: Parameters<Engine['create']>[0], plan: FilesPlan, signal: AbortSignal, log: (s: string) => void): Promise<FilesResults> {
  const hostDir = await mkdtemp(join(tmpdir(), 'warden-bench-files-'));
  let sbx: Sandbox | undefined;
  try {
    sbx = await engine.create(spec);
    const box = sbx;
    const variants: Array<{ size: (typeof SIZES)[number]; via: Via; read: () => Promise<void> }> = [];
    for (const size of SIZES) {
      const want = content(size.bytes);
      const name = `read-${size.bytes}.txt`;
      const hostPath = join(hostDir, name);
      await box.files.write(name, want);
      await writeFile(hostPath, want);
      const wantText = want.toString('latin1');
      const fail = (via: Via, got: string): never => {
        throw new Error(`${via} of ${name} in ${box.id}: ${got}, expected ${size.bytes} bytes as written`);
      };
      variants.push(
        {
          size,
          via: 'files.readBytes',
          read: async () => {
            const got = await box.files.readBytes(name, { timeoutMs: 10_000 });
            if (!got.equals(want)) fail('files.readBytes', `${got.length} bytes`);
          },
        },
        {
          size,
          via: 'exec cat',
          read: async () => {
            const r = await box.exec(['cat', name], { timeoutMs: 10_000 });
            if (r.reason !== 'exited' || r.exitCode !== 0 || r.stdout !== wantText) fail('exec cat', `${r.reason} ${r.exitCode ?? r.signal}, ${r.stdout.length} characters, stderr ${JSON.stringify(r.stderr)}`);
          },
        },
        {
          size,
          via: 'host readFile',
          read: async () => {
            const got = await readFile(hostPath);
            if (!got.equals(want)) fail('host readFile', `${got.length} bytes`);
          },
        },
      );
    }
    // The check is part of each read; its cost (a memcmp) is microseconds even at 1 MiB, on every variant alike.
    const samples = variants.map(() => [] as number[]);
    const until = Date.now() + plan.budgetMs;
    for (let i = 0; i < plan.warmup + plan.rounds && Date.now() < until && !signal.aborted; i++) {
      for (const j of rotated(variants.map((_, k) => k), i)) {
        const t = now();
        await variants[j]!.read();
        if (i >= plan.warmup) samples[j]!.push(elapsedMs(t));
      }
    }
    const rows = variants.map((v, j) => ({ size: v.size.label, bytes: v.size.bytes, via: v.via, latency: summarize(samples[j]!) }));
    for (const r of rows) log(`files: ${r.size} ${r.via}: p50 ${r.latency.p50Ms.toFixed(3)} ms (n=${r.latency.n})`);
    return { rows, aborted: signal.aborted };
  } finally {
    await sbx?.kill();
    await rm(hostDir, { recursive: true, force: true });
  }
}

export function printFilesReport(r: FilesResults, out: (line: string) => void): void {
  out('(l) file API: one whole-file read from a running sandbox\'s /workspace, ms; 6 variants interleaved in rotating order');
  out('    files.readBytes = the agent\'s fs helper in the sandbox; exec cat = cat via sandbox.exec; host readFile = the same bytes in a host file (floor); ratios ÷ host readFile');
  const rows: string[][] = [[...LAT_RATIO_HEAD, 'p50 vs cat']];
  for (const size of SIZES) {
    const of = (via: Via): FileReadRow | undefined => r.rows.find((x) => x.size === size.label && x.via === via);
    const host = of('host readFile');
    const cat = of('exec cat');
    if (!host || !cat) continue;
    for (const via of VIAS) {
      const row = of(via)!;
      rows.push([...latencyRatioRow(`${size.label}, ${via}`, row.latency, host.latency), via === 'files.readBytes' ? ratio(row.latency.p50Ms, cat.latency.p50Ms) : '']);
    }
  }
  for (const l of table(rows)) out(`  ${l}`);
  if (r.aborted) out('  (aborted: partial)');
}
