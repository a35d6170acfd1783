/**
 * (e) Codebases: view build, create on a built view, reads through the
 * overlay, and diff/export of a sandbox's changes. Called from bench/run.ts
 * (`--fs-only` runs just this section).
 *
 * Source trees are generated on /dev/shm when it exists (creating 100k files
 * on this VM's ext4 takes ~45 s, on tmpfs ~2 s): D dirs × 100 small text
 * files, unique contents so every file is its own blob. They are added to the
 * engine's store (under the bench's temp data dir, on disk) and removed
 * afterwards. Reads are timed inside one python3 process (N × open + one read
 * of the whole file + close, elapsed ns), so neither exec nor interpreter
 * start-up is counted; host and sandbox run the same /usr/bin/python3 (the
 * sandbox sees the host's /usr). The host reads the view's own file, i.e. the
 * very inode the overlay serves as its lower layer.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Engine, Sandbox } from '../packages/core/src/index.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';
import type { Target } from './report.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';

const run = promisify(execFile);

export interface FsPlan {
  /** Files in the small and the large codebase (multiples of 100). */
  readonly smallFiles: number;
  readonly largeFiles: number;
  /** Interleaved create+kill pairs (codebase vs plain) after warm-up. */
  readonly createN: number;
  readonly createWarmup: number;
  readonly createBudgetMs: number;
  /** Rounds of the read comparison; each round is one python3 per variant, timing `readBatches` batches of `readLoops` reads. */
  readonly readRounds: number;
  readonly readBatches: number;
  readonly readLoops: number;
  /** Files the sandbox changes for diff/export, and how often each is timed. */
  readonly changed: number;
  readonly deltaRounds: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const FS_PLAN: { readonly quick: FsPlan; readonly full: FsPlan } = {
  quick: { smallFiles: 2_000, largeFiles: 2_000, createN: 5, createWarmup: 1, createBudgetMs: 10_000, readRounds: 3, readBatches: 3, readLoops: 1000, changed: 200, deltaRounds: 2, watchdogMs: 60_000 },
  full: { smallFiles: 10_000, largeFiles: 100_000, createN: 40, createWarmup: 3, createBudgetMs: 40_000, readRounds: 15, readBatches: 5, readLoops: 1000, changed: 1000, deltaRounds: 5, watchdogMs: 240_000 },
};

export interface BuildResult {
  readonly label: string;
  readonly files: number;
  /** codebases.add: walk, hash, copy into the blob store, syncfs, publish the manifest. Undefined when an earlier row added the same codebase. */
  readonly addMs: number | undefined;
  /** The first create on this (version, policy): includes building the view. */
  readonly firstCreateMs: number;
  /** p50 of later creates on the same, already built view. */
  readonly normalCreateMs: number;
  readonly viewBuildMs: number;
}

export interface ReadResult {
  readonly size: string;
  /** Elapsed ms of one batch of `loops` reads, over every batch of every round. Host: the view's file (the overlay's lower inode). */
  readonly host: Summary;
  readonly overlay: Summary;
  /** Sandbox on the same codebase under the read-only preset: the view is bound read-only, no overlay. */
  readonly roView: Summary;
  /** Sandbox reading a file on its plain (bind-mounted host ext4) workspace: namespaces + seccomp, no overlay. */
  readonly bind: Summary;
  readonly loops: number;
  readonly rounds: number;
}

export interface FsResults {
  readonly builds: readonly BuildResult[];
  readonly create: {
    readonly files: number;
    readonly codebase: Summary;
    readonly codebaseKill: Summary;
    readonly plain: Summary;
    readonly plainKill: Summary;
    /** engine.codebases.show of the same version: the manifest read that every codebase create repeats. */
    readonly show: Summary;
  };
  readonly reads: readonly ReadResult[];
  readonly delta: {
    readonly files: number;
    readonly changed: number;
    /** The exec that changes the files (copy-up of each into the upper layer). */
    readonly modifyMs: number;
    readonly diff: Summary;
    readonly tar: Summary;
    readonly tarBytes: number;
    readonly patch: Summary;
    readonly patchBytes: number;
  };
  readonly aborted: boolean;
}

const SPEC = { limits: { memoryMb: 256 } } as const;
const PY = '/usr/bin/python3';
/** Times `loops` × (open, one read of the whole file into a preallocated buffer, close) per path. */
const READ_SCRIPT = `
import os, sys, time
n, batches = int(sys.argv[1]), int(sys.argv[2])
for p in sys.argv[3:]:
    size = os.stat(p).st_size
    mv = memoryview(bytearray(size + 1))
    for _ in range(max(10, n // 10)):
        fd = os.open(p, os.O_RDONLY); got = os.readv(fd, [mv]); os.close(fd)
    out = []
    for _ in range(batches):
        t = time.perf_counter_ns()
        for _ in range(n):
            fd = os.open(p, os.O_RDONLY); got = os.readv(fd, [mv]); os.close(fd)
        out.append(time.perf_counter_ns() - t)
    if got != size: sys.exit("short read of %s: %d of %d" % (p, got, size))
    print(" ".join(map(str, out)))
`;

const READ_FILES = [
  { name: '1 KiB', file: 'bench/read-1k.bin', bytes: 1024 },
  { name: '1 MiB', file: 'bench/read-1m.bin', bytes: 1024 * 1024 },
] as const;

const median = (xs: readonly number[]): number => summarize(xs).p50Ms;

/** `files` small text files in dirs of 100; every content is different, also across tags (one blob each). */
function generateTree(root: string, files: number, tag: string): void {
  const dirs = Math.ceil(files / 100);
  const pad = 'x'.repeat(120);
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < 100 && d * 100 + f < files; f++) writeFileSync(join(dir, `f${String(f).padStart(2, '0')}.txt`), `${tag} file ${d}/${f}\n${pad}\nend\n`);
  }
}

async function sh(sbx: Sandbox, argv: readonly string[], timeoutMs = 60_000): Promise<string> {
  const r = await sbx.exec(argv, { timeoutMs, maxOutputBytes: 1 << 20 });
  if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`${argv.join(' ').slice(0, 80)} in ${sbx.id} ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** One line of batch times (ns) per file → ms per file. */
const parseNs = (stdout: string): number[][] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map((s) => Number(s) / 1e6));

async function timedCreate(engine: Engine, spec: Parameters<Engine['create']>[0]): Promise<{ sbx: Sandbox; ms: number }> {
  const t = now();
  const sbx = await engine.create(spec);
  return { sbx, ms: elapsedMs(t) };
}

async function timedKill(sbx: Sandbox): Promise<number> {
  const t = now();
  await sbx.kill();
  return elapsedMs(t);
}

export async function fsBench(engine: Engine, plan: FsPlan, signal: AbortSignal, log: (s: string) => void): Promise<FsResults> {
  const work = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'warden-bench-fs-'));
  const live = new Set<Sandbox>();
  const kill = async (s: Sandbox): Promise<number> => {
    live.delete(s);
    return timedKill(s);
  };
  const open = async (spec: Parameters<Engine['create']>[0]): Promise<{ sbx: Sandbox; ms: number }> => {
    const r = await timedCreate(engine, spec);
    live.add(r.sbx);
    return r;
  };
  try {
    const small = { name: 'bench-small', dir: join(work, 'small'), files: plan.smallFiles };
    const large = { name: 'bench-large', dir: join(work, 'large'), files: plan.largeFiles };
    for (const c of [small, large]) {
      const t = now();
      mkdirSync(c.dir);
      generateTree(c.dir, c.files, c.name);
      log(`fs: generated ${c.files} files in ${elapsedMs(t).toFixed(0)} ms`);
    }
    mkdirSync(join(large.dir, 'bench'));
    for (const r of READ_FILES) writeFileSync(join(large.dir, r.file), randomBytes(r.bytes));

    // 1. add, first create (builds the view), then later creates on the built view.
    const builds: BuildResult[] = [];
    const addMs = new Map<string, number>();
    for (const c of [small, large]) {
      // add ends with a syncfs of the store's filesystem: flush everything else first, so it waits for its own blobs only.
      await run('sync', ['-f', engine.config.dataDir]);
      const t = now();
      await engine.codebases.add({ dir: c.dir }, { name: c.name });
      addMs.set(c.name, elapsedMs(t));
      log(`fs: codebases.add ${c.files} files: ${addMs.get(c.name)!.toFixed(0)} ms`);
    }
    const build = async (c: typeof small, preset: string, label: string, normalN: number): Promise<void> => {
      const first = await open({ ...SPEC, codebase: { name: c.name }, preset });
      await kill(first.sbx);
      const normal: number[] = [];
      for (let i = 0; i < normalN && !signal.aborted; i++) {
        const r = await open({ ...SPEC, codebase: { name: c.name }, preset });
        normal.push(r.ms);
        await kill(r.sbx);
      }
      const normalCreateMs = median(normal);
      const added = addMs.get(c.name);
      addMs.delete(c.name);
      builds.push({ label, files: c.files, addMs: added, firstCreateMs: first.ms, normalCreateMs, viewBuildMs: first.ms - normalCreateMs });
      log(`fs: view ${label}: first create ${first.ms.toFixed(0)} ms, then ${normalCreateMs.toFixed(1)} ms`);
    };
    await build(small, 'agent-safe', 'agent-safe (hard links)', 5);
    await build(large, 'agent-safe', 'agent-safe (hard links)', 5);
    await build(small, 'full-write', 'full-write (0666 copies)', 5);

    // 2. create + kill on the built view of the large codebase vs a plain workspace, interleaved.
    log(`fs: create+kill, ${large.files}-file codebase vs plain…`);
    const cr = { codebase: [] as number[], codebaseKill: [] as number[], plain: [] as number[], plainKill: [] as number[] };
    const until = Date.now() + plan.createBudgetMs;
    for (let i = 0; i < plan.createWarmup + plan.createN && Date.now() < until && !signal.aborted; i++) {
      const keep = i >= plan.createWarmup;
      const a = await open({ ...SPEC, codebase: { name: large.name }, preset: 'agent-safe' });
      const ak = await kill(a.sbx);
      const b = await open(SPEC);
      const bk = await kill(b.sbx);
      if (keep) {
        cr.codebase.push(a.ms);
        cr.codebaseKill.push(ak);
        cr.plain.push(b.ms);
        cr.plainKill.push(bk);
      }
    }
    const show: number[] = [];
    for (let i = 0; i < 6 && !signal.aborted; i++) {
      const t = now();
      await engine.codebases.show(large.name);
      if (i > 0) show.push(elapsedMs(t));
    }

    // 3. Reads: host (the view's own file) vs sandbox through the overlay vs sandbox on a bind-mounted ext4 workspace.
    log('fs: reads…');
    // The read files sit in bench/, made writable here so that they are read through an overlay (only writable
    // directories are overlaid; everything else, as in the read-only case below, is a read-only bind).
    const onOverlay = (await open({ ...SPEC, codebase: { name: large.name }, policy: { default: 'read', rules: [{ pattern: '/bench/', level: 'write' }] } })).sbx;
    if (!(await sh(onOverlay, ['sh', '-c', 'grep " /workspace/bench " /proc/self/mountinfo'])).includes('overlay')) throw new Error('the overlay variant did not get an overlay');
    const onBind = (await open(SPEC)).sbx;
    const onRoView = (await open({ ...SPEC, codebase: { name: large.name }, preset: 'read-only' })).sbx;
    // The same sizes on the plain workspace (host ext4, bind-mounted), each written with one write(2).
    await sh(onBind, [PY, '-c', `import os\nos.mkdir('bench')\n${READ_FILES.map((r) => `open('${r.file}', 'wb').write(os.urandom(${r.bytes}))`).join('\n')}`]);
    const viewsDir = join(engine.config.dataDir, 'views');
    const view = (await readdir(viewsDir)).find((n) => n.startsWith(`${large.name}@1~`));
    if (!view) throw new Error(`no view of ${large.name} in ${viewsDir}`);
    const hostPaths = READ_FILES.map((r) => join(viewsDir, view, 'tree', r.file));
    const sbxPaths = READ_FILES.map((r) => `/workspace/${r.file}`);
    const samples = READ_FILES.map(() => ({ host: [] as number[], overlay: [] as number[], bind: [] as number[], roView: [] as number[] }));
    const args = [String(plan.readLoops), String(plan.readBatches)];
    for (let round = 0; round < plan.readRounds && !signal.aborted; round++) {
      // Rotate the order so none of the variants always runs first.
      const variants = [
        async () => parseNs((await run(PY, ['-c', READ_SCRIPT, ...args, ...hostPaths])).stdout).forEach((ms, i) => samples[i]!.host.push(...ms)),
        async () => parseNs(await sh(onOverlay, [PY, '-c', READ_SCRIPT, ...args, ...sbxPaths])).forEach((ms, i) => samples[i]!.overlay.push(...ms)),
        async () => parseNs(await sh(onBind, [PY, '-c', READ_SCRIPT, ...args, ...sbxPaths])).forEach((ms, i) => samples[i]!.bind.push(...ms)),
        async () => parseNs(await sh(onRoView, [PY, '-c', READ_SCRIPT, ...args, ...sbxPaths])).forEach((ms, i) => samples[i]!.roView.push(...ms)),
      ];
      for (let v = 0; v < variants.length; v++) await variants[(v + round) % variants.length]!();
    }
    await kill(onOverlay);
    await kill(onBind);
    await kill(onRoView);
    const reads: ReadResult[] = READ_FILES.map((r, i) => ({
      size: r.name,
      host: summarize(samples[i]!.host),
      overlay: summarize(samples[i]!.overlay),
      bind: summarize(samples[i]!.bind),
      roView: summarize(samples[i]!.roView),
      loops: plan.readLoops,
      rounds: Math.ceil(samples[i]!.host.length / plan.readBatches),
    }));

    // 4. diff and export of `changed` modified files of the small codebase.
    log(`fs: diff/export of ${plan.changed} changed files…`);
    const writer = (await open({ ...SPEC, codebase: { name: small.name }, preset: 'full-write' })).sbx;
    const dirsNeeded = Math.ceil(plan.changed / 100);
    const modifyScript = `i=0; for d in $(seq -f %04g 0 ${dirsNeeded - 1}); do for f in d$d/*.txt; do [ $i -lt ${plan.changed} ] || exit 0; echo changed >> $f; i=$((i+1)); done; done`;
    let t = now();
    await sh(writer, ['sh', '-c', modifyScript]);
    const modifyMs = elapsedMs(t);
    const d = { diff: [] as number[], tar: [] as number[], patch: [] as number[] };
    let tarBytes = 0;
    let patchBytes = 0;
    const tarFile = join(work, 'changes.tar');
    for (let round = 0; round < plan.deltaRounds && !signal.aborted; round++) {
      t = now();
      const diff = await writer.diff();
      d.diff.push(elapsedMs(t));
      if (diff.modified.length !== plan.changed || diff.added.length + diff.deleted.length !== 0) {
        throw new Error(`diff saw ${diff.modified.length} modified, ${diff.added.length} added, ${diff.deleted.length} deleted; expected ${plan.changed} modified`);
      }
      t = now();
      await writer.exportChanges({ format: 'tar', file: tarFile });
      d.tar.push(elapsedMs(t));
      tarBytes = (await stat(tarFile)).size;
      await rm(tarFile, { force: true });
      t = now();
      const patch = await writer.exportChanges({ format: 'patch' });
      d.patch.push(elapsedMs(t));
      patchBytes = Buffer.byteLength(patch);
    }
    await kill(writer);

    return {
      builds,
      create: {
        files: large.files,
        codebase: summarize(cr.codebase),
        codebaseKill: summarize(cr.codebaseKill),
        plain: summarize(cr.plain),
        plainKill: summarize(cr.plainKill),
        show: summarize(show),
      },
      reads,
      delta: {
        files: small.files,
        changed: plan.changed,
        modifyMs,
        diff: summarize(d.diff),
        tar: summarize(d.tar),
        tarBytes,
        patch: summarize(d.patch),
        patchBytes,
      },
      aborted: signal.aborted,
    };
  } finally {
    await Promise.allSettled([...live].map((s) => s.kill()));
    await rm(work, { recursive: true, force: true });
  }
}

const kb = (b: number): string => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);

export function fsTargets(r: FsResults): Target[] {
  return r.reads.flatMap((x) => {
    const ratio = x.overlay.p50Ms / x.host.p50Ms;
    const roRatio = x.roView.p50Ms / x.host.p50Ms;
    return [
      {
        name: `read ${x.size} ×${x.loops}, file in a writable dir (overlay)`,
        goal: '≤ 1.03× native on the host (p50)',
        measured: `${f1(x.overlay.p50Ms)} ms vs ${f1(x.host.p50Ms)} ms = ${ratio.toFixed(2)}× (min ${(x.overlay.minMs / x.host.minMs).toFixed(2)}×; sandbox without overlay ${(x.bind.p50Ms / x.host.p50Ms).toFixed(2)}×)`,
        pass: ratio <= 1.03,
      },
      {
        name: `read ${x.size} ×${x.loops}, file not in a writable dir (read-only bind)`,
        goal: '≤ 1.03× native on the host (p50)',
        measured: `${f1(x.roView.p50Ms)} ms vs ${f1(x.host.p50Ms)} ms = ${roRatio.toFixed(2)}× (min ${(x.roView.minMs / x.host.minMs).toFixed(2)}×)`,
        pass: roRatio <= 1.03,
      },
    ];
  });
}



export function printFsReport(r: FsResults, out: (line: string) => void): void {
  if (r.aborted) out('WARNING: the fs section was cut short; numbers are partial.');
  out('(e) codebases');
  out('  view build, ms (view build = first create − p50 of 5 later creates on the built view)');
  for (const l of table([
    ['', 'files', 'add', 'first create', 'later create', 'view build'],
    ...r.builds.map((b) => [b.label, String(b.files), b.addMs === undefined ? '(same)' : f1(b.addMs), f1(b.firstCreateMs), f1(b.normalCreateMs), f1(b.viewBuildMs)]),
  ]))
    out(`    ${l}`);
  out(`  create and kill, ms: ${r.create.files}-file codebase (view built) vs plain workspace, interleaved`);
  for (const l of table([
    LAT_HEAD,
    latencyRow('create, codebase (agent-safe)', r.create.codebase),
    latencyRow('manifest read alone (codebases.show)', r.create.show),
    latencyRow('create, plain', r.create.plain),
    latencyRow('kill, codebase', r.create.codebaseKill),
    latencyRow('kill, plain', r.create.plainKill),
  ]))
    out(`    ${l}`);
  const first = r.reads[0];
  out(`  reads, ms per batch of ${first?.loops ?? 0} × (open + read + close) timed inside one python3; ${first?.rounds ?? 0} interleaved rounds`);
  out('    host = the view file itself (the overlay lower inode); plain ws = a sandbox reading its bind-mounted ext4 workspace');
  const rows: string[][] = [['', 'n', 'min', 'p50', 'p95', 'p99', 'p50 ratio', 'min ratio']];
  for (const x of r.reads) {
    const row = (name: string, s: Summary): string[] => [
      `${x.size}, ${name}`,
      String(s.n),
      f1(s.minMs),
      f1(s.p50Ms),
      f1(s.p95Ms),
      f1(s.p99Ms),
      `${(s.p50Ms / x.host.p50Ms).toFixed(3)}×`,
      `${(s.minMs / x.host.minMs).toFixed(3)}×`,
    ];
    rows.push(row('host', x.host), row('overlay', x.overlay), row('ro view', x.roView), row('plain ws', x.bind));
  }
  for (const l of table(rows)) out(`    ${l}`);
  const d = r.delta;
  out(`  diff and export, ms: ${d.changed} of ${d.files} files changed (full-write), modified by one exec in ${f1(d.modifyMs)} ms`);
  for (const l of table([LAT_HEAD, latencyRow('diff()', d.diff), latencyRow(`exportChanges tar (${kb(d.tarBytes)})`, d.tar), latencyRow(`exportChanges patch (${kb(d.patchBytes)})`, d.patch)])) out(`    ${l}`);
}

