/**
 * (h) Audit log: what recording an event costs. Called from bench/run.ts
 * (`--audit-only` runs just this section; it needs neither root nor an engine).
 *
 * - durable append: `append(e, { durable: true })` one at a time, each
 *   committed with synchronous=FULL (an fsync of the WAL) before it returns;
 *   the latency a guard decision or an approval adds before its action runs.
 * - batched: `append(e)` in a loop that yields to the event loop every 1,000
 *   events (as a server would), so the 5 ms flush timer and maxBatch (256)
 *   both commit; events/s from the first append to the final flush, and the
 *   latency of a single append call (which sometimes carries a commit).
 * - mixed: the same with one event in 100 durable.
 * - verify / export / verifyExport over the batched log: events/s.
 * - query: filters a dashboard uses on the batched log, limit 100.
 *
 * Events look like the engine's: a command preview, digest, ids, decision and
 * small details, so canonicalisation, redaction and hashing are all paid.
 *
 * The log lives in a temp dir on the same file system as the default data
 * dir ($WARDEN_DATA_DIR or /var/lib/warden), because fsync cost is a property
 * of the disk: a tmpfs /tmp would make durable appends look free.
 */
import { closeSync, mkdtempSync, openSync, readSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { openAuditLog, verifyExport, type AuditEventInput, type AuditLog } from '../packages/core/src/audit/index.js';
import { elapsedMs, now, summarize, type Summary } from './stats.js';
import type { Target } from './report.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';

/** Targets: a durable append adds at most 1 ms at p99; buffered appends sustain 50,000 events/s. */
const TARGET_DURABLE_P99_MS = 1;
const TARGET_BATCHED_PER_SEC = 50_000;

export interface AuditPlan {
  readonly durableN: number;
  readonly durableWarmup: number;
  /** Events appended in the batched run (also the size of the log verify, export and query work on). */
  readonly batchedEvents: number;
  readonly mixedEvents: number;
  readonly queryN: number;
  /** Every loop also stops here. */
  readonly budgetMs: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const AUDIT_PLAN: { readonly quick: AuditPlan; readonly full: AuditPlan } = {
  quick: { durableN: 500, durableWarmup: 50, batchedEvents: 20_000, mixedEvents: 10_000, queryN: 100, budgetMs: 5_000, watchdogMs: 40_000 },
  full: { durableN: 10_000, durableWarmup: 200, batchedEvents: 300_000, mixedEvents: 100_000, queryN: 1_000, budgetMs: 30_000, watchdogMs: 180_000 },
};

export interface Rate {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

export interface AuditResults {
  /** Where the log lived, its file system, and why there. */
  readonly place: { readonly dir: string; readonly fsType: string; readonly note: string };
  readonly durable: Summary;
  readonly batched: Rate & { readonly appendCall: Summary; readonly checkpoints: number; readonly dbBytesPerEvent: number };
  readonly mixed: Rate & { readonly durableCall: Summary };
  readonly verify: Rate;
  readonly export: Rate & { readonly bytes: number };
  readonly verifyExport: Rate;
  readonly checkpoint: Summary;
  readonly query: readonly { readonly label: string; readonly rows: number; readonly summary: Summary }[];
  readonly aborted: boolean;
}

const rate = (events: number, ms: number): Rate => ({ events, seconds: ms / 1000, eventsPerSec: events / (ms / 1000) });
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

const PREVIEWS = [
  'npm test -- --run src/parser.test.ts',
  'python3 -c "import os; print(os.listdir(\'/workspace\'))"',
  'git clone https://github.com/example/project.git && cd project && make -j4',
  'curl -fsSL https://example.com/install.sh | sh',
  'rm -rf /workspace/build/cache/*',
];
const ACTIONS = ['command.start', 'command.end', 'guard.decision', 'file.write', 'session.command'];

function event(i: number): AuditEventInput {
  return {
    action: ACTIONS[i % ACTIONS.length]!,
    actor: `key:k_${i % 7}`,
    tenant: `tenant-${i % 3}`,
    sandboxId: `sbx_${(i % 100).toString(36).padStart(12, 'a')}`,
    inputDigest: (i * 2654435761 >>> 0).toString(16).padStart(64, '0'),
    preview: PREVIEWS[i % PREVIEWS.length],
    decision: i % 10 === 0 ? 'ask' : 'allow',
    ruleIds: i % 10 === 0 ? ['network-egress/curl-pipe-sh'] : [],
    risk: i % 10 === 0 ? 'high' : 'none',
    outcome: 'ok',
    durationMs: (i % 50) / 10,
    details: { cwd: '/workspace', exitCode: 0, bytes: i % 4096 },
  };
}

/** The mount holding `path`, from /proc/self/mountinfo (longest mount point that is a prefix). */
function fsTypeOf(path: string): string {
  try {
    let best = { point: '', type: 'unknown' };
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      const point = (f[4] ?? '').replace(/\\040/g, ' ');
      const type = f[f.indexOf('-') + 1] ?? 'unknown';
      if ((path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`)) && point.length >= best.point.length) best = { point, type };
    }
    return best.type;
  } catch {
    return 'unknown';
  }
}

/** A temp dir on the file system of the default data dir. */
function benchDir(): AuditResults['place'] {
  const dataDir = process.env.WARDEN_DATA_DIR ?? '/var/lib/warden';
  let anchor = dataDir;
  while (anchor !== dirname(anchor)) {
    try {
      statSync(anchor);
      break;
    } catch {
      anchor = dirname(anchor);
    }
  }
  const tmp = tmpdir();
  if (statSync(tmp).dev === statSync(anchor).dev) {
    const dir = mkdtempSync(join(tmp, 'warden-bench-audit-'));
    return { dir, fsType: fsTypeOf(dir), note: `${tmp} is on the same file system as the data dir ${dataDir}` };
  }
  try {
    const dir = mkdtempSync(join(anchor, '.warden-bench-audit-'));
    return { dir, fsType: fsTypeOf(dir), note: `in ${anchor}: ${tmp} is on another file system than the data dir ${dataDir}` };
  } catch (err) {
    const dir = mkdtempSync(join(tmp, 'warden-bench-audit-'));
    return { dir, fsType: fsTypeOf(dir), note: `WARNING: ${tmp} is not on the data dir's file system and ${anchor} is not writable (${(err as Error).message}); durable numbers are for ${tmp}` };
  }
}

/** Lines of a file, read in 1 MiB pieces: verifyExport takes any iterable of lines. */
function* fileLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let rest = '';
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

function open(dir: string, name: string): AuditLog {
  return openAuditLog({ file: join(dir, `${name}.sqlite`), keyFile: join(dir, 'audit.key') });
}

export async function auditBench(plan: AuditPlan, signal: AbortSignal, log: (s: string) => void): Promise<AuditResults> {
  const place = benchDir();
  log(`(h) audit log in ${place.dir} (${place.fsType}; ${place.note})`);
  try {
    const until = (): number => Date.now() + plan.budgetMs;

    // Durable appends, one at a time.
    const durableMs: number[] = [];
    {
      const l = open(place.dir, 'durable');
      try {
        const stop = until();
        for (let i = 0; i < plan.durableWarmup + plan.durableN && Date.now() < stop && !signal.aborted; i++) {
          const e = event(i);
          const t = now();
          l.append(e, { durable: true });
          if (i >= plan.durableWarmup) durableMs.push(elapsedMs(t));
          if (i % 256 === 255) await yieldToLoop();
        }
      } finally {
        l.close();
      }
    }
    const durable = summarize(durableMs);
    log(`(h) durable append: p50 ${f1(durable.p50Ms)} ms, p99 ${f1(durable.p99Ms)} ms (${durable.n})`);
    gc();

    // Batched: the big log everything else reads.
    const big = open(place.dir, 'batched');
    try {
      const callMs: number[] = [];
      const inputs = Array.from({ length: 1000 }, (_, i) => event(i));
      let appended = 0;
      const stop = until();
      const t0 = now();
      while (appended < plan.batchedEvents && Date.now() < stop && !signal.aborted) {
        for (let k = 0; k < 1000 && appended < plan.batchedEvents; k++, appended++) {
          if (appended % 16 === 0) {
            const t = now();
            big.append(inputs[k]!);
            callMs.push(elapsedMs(t));
          } else big.append(inputs[k]!);
        }
        await yieldToLoop();
      }
      big.flush();
      const batchedRate = rate(appended, elapsedMs(t0));
      const dbBytes = statSync(join(place.dir, 'batched.sqlite')).size + (statSync(join(place.dir, 'batched.sqlite-wal'), { throwIfNoEntry: false })?.size ?? 0);
      log(`(h) batched append: ${batchedRate.eventsPerSec.toFixed(0)} events/s (${appended})`);
      gc();

      // Mixed: one in 100 durable.
      const mixedDurableMs: number[] = [];
      let mixedRate: Rate;
      {
        const l = open(place.dir, 'mixed');
        try {
          let n = 0;
          const stopMixed = until();
          const t1 = now();
          while (n < plan.mixedEvents && Date.now() < stopMixed && !signal.aborted) {
            for (let k = 0; k < 1000 && n < plan.mixedEvents; k++, n++) {
              if (n % 100 === 99) {
                const t = now();
                l.append(inputs[k]!, { durable: true });
                mixedDurableMs.push(elapsedMs(t));
              } else l.append(inputs[k]!);
            }
            await yieldToLoop();
          }
          l.flush();
          mixedRate = rate(n, elapsedMs(t1));
        } finally {
          l.close();
        }
      }
      log(`(h) mixed (1 in 100 durable): ${mixedRate.eventsPerSec.toFixed(0)} events/s`);
      gc();

      // Verify, export, verify the export.
      let t = now();
      const report = big.verify();
      const verifyRate = rate(report.events, elapsedMs(t));
      if (!report.ok) throw new Error(`the bench log does not verify: ${JSON.stringify(report.firstBad)}`);
      log(`(h) verify: ${verifyRate.eventsPerSec.toFixed(0)} events/s`);
      const exportFile = join(place.dir, 'export.jsonl');
      const fd = openSync(exportFile, 'w');
      let bytes = 0;
      t = now();
      let exported: { events: number };
      try {
        exported = big.export((line) => {
          bytes += writeSync(fd, `${line}\n`);
        });
      } finally {
        closeSync(fd);
      }
      const exportRate = rate(exported.events, elapsedMs(t));
      t = now();
      const ve = verifyExport(fileLines(exportFile), big.publicKey);
      const verifyExportRate = rate(ve.events, elapsedMs(t));
      if (!ve.ok) throw new Error(`the bench export does not verify: ${JSON.stringify(ve.firstBad)}`);
      log(`(h) export ${exportRate.eventsPerSec.toFixed(0)} events/s, verifyExport ${verifyExportRate.eventsPerSec.toFixed(0)} events/s`);
      gc();

      // Forced checkpoints: commit one event and sign over everything.
      const cpMs: number[] = [];
      for (let i = 0; i < Math.min(200, plan.queryN) && !signal.aborted; i++) {
        big.append(inputs[i]!);
        const tc = now();
        big.checkpoint();
        cpMs.push(elapsedMs(tc));
      }

      // Queries on the big log.
      const last = big.verify().lastSeq;
      const recent = big.get(Math.max(1, last - 1000))!.ts; // the time of the last ~1,000 events
      const queries: { label: string; run: (i: number) => number }[] = [
        { label: 'get(seq)', run: (i) => (big.get(1 + ((i * 7919) % last)) ? 1 : 0) },
        { label: 'sandboxId, newest 100', run: (i) => big.query({ sandboxId: event(i).sandboxId!, order: 'desc' }).length },
        { label: 'tenant + action prefix, newest 100', run: (i) => big.query({ tenant: event(i).tenant!, action: 'command.*', order: 'desc' }).length },
        { label: 'since (the last 1,000 events), newest 100', run: () => big.query({ since: recent, order: 'desc' }).length },
        { label: 'since + until (a 100-event window), 100', run: (i) => big.query({ since: big.get(1 + ((i * 7919) % last))!.ts, until: big.get(Math.min(last, 101 + ((i * 7919) % last)))!.ts }).length },
        { label: 'afterSeq page of 100', run: (i) => big.query({ afterSeq: (i * 7919) % last }).length },
        { label: 'actor + decision (no index), 100', run: () => big.query({ actor: 'key:k_3', decision: 'ask' }).length },
      ];
      const query: AuditResults['query'][number][] = [];
      for (const q of queries) {
        const ms: number[] = [];
        let rows = 0;
        const stopQ = Date.now() + plan.budgetMs / queries.length;
        for (let i = 0; i < plan.queryN && Date.now() < stopQ && !signal.aborted; i++) {
          const tq = now();
          rows += q.run(i);
          ms.push(elapsedMs(tq));
        }
        query.push({ label: q.label, rows: ms.length ? rows / ms.length : 0, summary: summarize(ms) });
      }
      log(`(h) queries: ${query.map((q) => `${q.label} p50 ${f1(q.summary.p50Ms)} ms`).join(', ')}`);

      return {
        place,
        durable,
        batched: { ...batchedRate, appendCall: summarize(callMs), checkpoints: report.checkpoints, dbBytesPerEvent: dbBytes / Math.max(1, appended) },
        mixed: { ...mixedRate, durableCall: summarize(mixedDurableMs) },
        verify: verifyRate,
        export: { ...exportRate, bytes },
        verifyExport: verifyExportRate,
        checkpoint: summarize(cpMs),
        query,
        aborted: signal.aborted,
      };
    } finally {
      big.close();
    }
  } finally {
    rmSync(place.dir, { recursive: true, force: true });
  }
}

const perSec = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)}k` : x.toFixed(0));

export function auditTargets(r: AuditResults): Target[] {
  return [
    {
      name: 'audit durable append',
      goal: `p99 ≤ ${TARGET_DURABLE_P99_MS} ms (fsync per event)`,
      measured: `p50 ${f1(r.durable.p50Ms)} ms, p99 ${f1(r.durable.p99Ms)} ms on ${r.place.fsType}`,
      pass: r.durable.n > 0 && r.durable.p99Ms <= TARGET_DURABLE_P99_MS,
    },
    {
      name: 'audit batched append',
      goal: `≥ ${perSec(TARGET_BATCHED_PER_SEC)} events/s`,
      measured: `${perSec(r.batched.eventsPerSec)} events/s (${r.batched.events} events)`,
      pass: r.batched.eventsPerSec >= TARGET_BATCHED_PER_SEC,
    },
  ];
}

export function printAuditReport(r: AuditResults, out: (line: string) => void): void {
  out(`(h) audit log: in ${r.place.dir.replace(/[^/]+$/, '…')} on ${r.place.fsType} (${r.place.note})`);
  out('  latency, ms');
  const lat = [
    LAT_HEAD,
    latencyRow('append, durable (fsync each)', r.durable),
    latencyRow('append, buffered (1 call in 16 timed)', r.batched.appendCall),
    latencyRow('append, durable, 1 in 100 among buffered', r.mixed.durableCall),
    latencyRow('checkpoint() (commit 1 + sign)', r.checkpoint),
    ...r.query.map((q) => latencyRow(`query: ${q.label} (${q.rows.toFixed(0)} rows)`, q.summary)),
  ];
  for (const l of table(lat)) out(`    ${l}`);
  out('  throughput');
  const rows = [
    ['', 'events', 'seconds', 'events/s'],
    ['append, buffered (group commit)', String(r.batched.events), r.batched.seconds.toFixed(2), perSec(r.batched.eventsPerSec)],
    ['append, 1 in 100 durable', String(r.mixed.events), r.mixed.seconds.toFixed(2), perSec(r.mixed.eventsPerSec)],
    ['verify (hashes, links, Merkle roots, signatures)', String(r.verify.events), r.verify.seconds.toFixed(2), perSec(r.verify.eventsPerSec)],
    ['export (JSON Lines to a file)', String(r.export.events), r.export.seconds.toFixed(2), perSec(r.export.eventsPerSec)],
    ['verifyExport (from the file)', String(r.verifyExport.events), r.verifyExport.seconds.toFixed(2), perSec(r.verifyExport.eventsPerSec)],
  ];
  for (const l of table(rows)) out(`    ${l}`);
  out(`  the buffered log: ${r.batched.checkpoints} checkpoints, ${r.batched.dbBytesPerEvent.toFixed(0)} bytes per event on disk (WAL included), export ${(r.export.bytes / Math.max(1, r.export.events)).toFixed(0)} bytes per event`);
  if (r.aborted) out('  WARNING: cut short; numbers are partial.');
}

