/**
 * (f) The HTTP API (issue 4): what the server + the fetch SDK add on top of
 * the core. Called from bench/run.ts (`--api-only` runs just this section).
 *
 * One real server (`serve()` from @warden/server: fastify, SQLite store, its
 * own engine and data dir) listens on 127.0.0.1; the SDK (@warden/sdk) talks
 * to it with Node's global fetch, whose pool keeps connections alive. Client
 * and server share this process and its event loop, as they do not in
 * production: the API numbers include the client's fetch work too (the
 * throughput part also runs the clients in a worker thread, bench/api-client.ts).
 * "Core" means the same server's engine called in-process on the same
 * sandbox: `server.engine.get(id).exec(argv)`, i.e. the API with HTTP, auth,
 * validation, the store and JSON taken away.
 *
 * Imports the packages by name, so this section runs their built dist/
 * (`npm run bench` builds first; run `npm run build` before calling
 * bench/run.ts directly after changing packages/).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { serve, type RunningServer } from '@warden/server';
import { Sandbox as ApiSandbox } from '@warden/sdk';
import type { ExecResult } from '@warden/protocol';
import { hostCpuTicks } from './host.js';
import { elapsedMs, now, summarize, throughput, type Summary } from './stats.js';
import type { Target } from './report.js';
import { LAT_HEAD, f1, latencyRow, table } from './format.js';
import type { ClientJob, ClientMessage } from './api-client.js';

export interface ApiPlan {
  /** Interleaved round-trip iterations (each runs every variant once) after warm-up (which also ends after a fifth of the budget). */
  readonly rtN: number;
  readonly rtWarmup: number;
  readonly rtBudgetMs: number;
  /** Interleaved create+kill pairs (API vs core) after warm-up. */
  readonly ckN: number;
  readonly ckWarmup: number;
  readonly ckBudgetMs: number;
  /** Each throughput segment runs this long; every round runs each variant once, in an order that reverses every round. */
  readonly tputMs: number;
  readonly tputRounds: number;
  readonly clients: readonly number[];
  /** Sandboxes the throughput clients share: client c uses sandbox c mod this. */
  readonly tputSandboxes: number;
  /** Added to the run's watchdog. */
  readonly watchdogMs: number;
}

export const API_PLAN: { readonly quick: ApiPlan; readonly full: ApiPlan } = {
  quick: { rtN: 150, rtWarmup: 20, rtBudgetMs: 3_000, ckN: 8, ckWarmup: 1, ckBudgetMs: 2_000, tputMs: 250, tputRounds: 1, clients: [8, 64], tputSandboxes: 8, watchdogMs: 40_000 },
  full: { rtN: 2000, rtWarmup: 100, rtBudgetMs: 40_000, ckN: 150, ckWarmup: 5, ckBudgetMs: 30_000, tputMs: 2_000, tputRounds: 2, clients: [8, 64], tputSandboxes: 8, watchdogMs: 150_000 },
};

export interface ApiThroughput {
  readonly label: string;
  /** api: SDK clients in this process, on the server's event loop; api-worker: SDK clients in a worker thread. */
  readonly via: 'core' | 'api' | 'api-worker';
  readonly clients: number;
  readonly sandboxes: number;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  /** TCP connections the server accepted during the segments (keep-alive check); 0 for core. */
  readonly connections: number;
  /** Share of the time the main thread's event loop (the server's, and the in-process clients') was busy. */
  readonly mainLoopBusy: number;
  /** CPU time of this whole process (every thread: server, clients, GC) per completed command. */
  readonly cpuMsPerOp: number;
  /** Share of all the host's CPUs busy during the segments (0..1), and host CPU time (every process, sandboxes included) per command. */
  readonly hostBusy: number;
  readonly hostCpuMsPerOp: number;
}

export interface ApiResults {
  readonly roundTrip: {
    readonly core: Summary;
    readonly sdkJson: Summary;
    readonly sdkStream: Summary;
    /** HTTP floor: fetch GET /health (public route: no auth, no validation, no store). */
    readonly fetchHealth: Summary;
    /** fetch GET /v1/sandboxes/:id: auth (SHA-256 + SQLite), params validation, one SQLite read, JSON. */
    readonly fetchGet: Summary;
    /** Per-iteration SDK − core, so drift cancels out. */
    readonly pairedJson: Summary;
    readonly pairedStream: Summary;
    /** TCP connections the server accepted during the whole loop (keep-alive check) and requests sent. */
    readonly connections: number;
    readonly requests: number;
  };
  readonly createKill: {
    readonly core: Summary;
    readonly coreCreate: Summary;
    readonly coreKill: Summary;
    readonly api: Summary;
    readonly apiCreate: Summary;
    readonly apiKill: Summary;
  };
  readonly throughput: readonly ApiThroughput[];
  readonly aborted: boolean;
}

const SPEC = { limits: { memoryMb: 64 } } as const;
const TRUE = ['/bin/true'] as const;
const RUN = { argv: TRUE, timeoutMs: 10_000 } as const;

type Engine = RunningServer['engine'];

function check(where: string, r: ExecResult): void {
  if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`/bin/true ${where} ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
}

async function coreTrue(engine: Engine, id: string): Promise<void> {
  check(`in ${id} (core)`, await engine.get(id).exec(TRUE, { timeoutMs: 10_000 }));
}

async function sdkTrue(sbx: ApiSandbox): Promise<void> {
  check(`in ${sbx.id} (API)`, await sbx.commands.run('', RUN));
}

async function sdkTrueStream(sbx: ApiSandbox): Promise<void> {
  check(`in ${sbx.id} (API stream)`, await sbx.commands.run('', { ...RUN, onStdout: () => undefined }));
}

export interface ApiServer {
  readonly server: RunningServer;
  readonly conn: { readonly url: string; readonly apiKey: string };
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 with its own temp data dir and a key for one tenant. */
export async function openApiServer(): Promise<ApiServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-api-'));
  let server: RunningServer;
  try {
    server = await serve({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', adminKey: `wdn_admin_bench_${Math.random().toString(36).slice(2)}` });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const close = async (): Promise<void> => {
    try {
      await server.close(); // closes the engine: every sandbox is killed
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  try {
    let accepted = 0;
    server.app.fastify.server.on('connection', () => void accepted++);
    const apiKey = server.app.keys.create({ name: 'bench', tenant: 'bench', scopes: ['sandboxes:read', 'sandboxes:write'] }).key;
    if (!server.url.startsWith('http://127.0.0.1:')) throw new Error(`the server listens on ${server.url}, not 127.0.0.1`);
    return { server, conn: { url: server.url, apiKey }, connections: () => accepted, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Command round trip: every variant once per iteration, in rotating order, on one sandbox. */
async function roundTrip(api: ApiServer, plan: ApiPlan, signal: AbortSignal): Promise<ApiResults['roundTrip']> {
  const engine = api.server.engine;
  const sbx = await ApiSandbox.create({ ...api.conn, ...SPEC });
  try {
    const id = sbx.id;
    const getHeaders = { authorization: `Bearer ${api.conn.apiKey}` };
    const fetchOk = async (path: string, headers?: Record<string, string>): Promise<void> => {
      const res = await fetch(`${api.conn.url}${path}`, headers ? { headers } : {});
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    };
    const variants: Array<() => Promise<void>> = [
      () => coreTrue(engine, id),
      () => sdkTrue(sbx),
      () => sdkTrueStream(sbx),
      () => fetchOk('/health'),
      () => fetchOk(`/v1/sandboxes/${id}`, getHeaders),
    ];
    const s: number[][] = variants.map(() => []);
    const conns0 = api.connections();
    let requests = 0;
    const until = Date.now() + plan.rtBudgetMs;
    // Warm-up ends after rtWarmup iterations or a fifth of the budget, so a slow host still gets samples.
    const warmUntil = Date.now() + plan.rtBudgetMs / 5;
    let kept = 0;
    for (let i = 0; kept < plan.rtN && Date.now() < until && !signal.aborted; i++) {
      const keep = i >= plan.rtWarmup || Date.now() > warmUntil;
      const took: number[] = [];
      for (let k = 0; k < variants.length; k++) {
        const v = (i + k) % variants.length;
        const t = now();
        await variants[v]!();
        took[v] = elapsedMs(t);
      }
      requests += variants.length - 1;
      if (keep) {
        kept++;
        for (const [v, ms] of took.entries()) s[v]!.push(ms);
      }
    }
    const [core, json, stream, health, get] = s as [number[], number[], number[], number[], number[]];
    return {
      core: summarize(core),
      sdkJson: summarize(json),
      sdkStream: summarize(stream),
      fetchHealth: summarize(health),
      fetchGet: summarize(get),
      pairedJson: summarize(json.map((ms, i) => ms - core[i]!)),
      pairedStream: summarize(stream.map((ms, i) => ms - core[i]!)),
      connections: api.connections() - conns0,
      requests,
    };
  } finally {
    await sbx.kill();
  }
}

/** Sandbox create + kill through the SDK vs on the engine directly, interleaved (order alternates). */
async function createKill(api: ApiServer, plan: ApiPlan, signal: AbortSignal): Promise<ApiResults['createKill']> {
  const engine = api.server.engine;
  const s = { core: [] as number[], coreCreate: [] as number[], coreKill: [] as number[], api: [] as number[], apiCreate: [] as number[], apiKill: [] as number[] };
  const viaCore = async (keep: boolean): Promise<void> => {
    const t0 = now();
    const sbx = await engine.create(SPEC);
    const t1 = now();
    await sbx.kill();
    if (keep) {
      s.core.push(elapsedMs(t0));
      s.coreCreate.push(Number(t1 - t0) / 1e6);
      s.coreKill.push(elapsedMs(t1));
    }
  };
  const viaApi = async (keep: boolean): Promise<void> => {
    const t0 = now();
    const sbx = await ApiSandbox.create({ ...api.conn, ...SPEC });
    const t1 = now();
    await sbx.kill();
    if (keep) {
      s.api.push(elapsedMs(t0));
      s.apiCreate.push(Number(t1 - t0) / 1e6);
      s.apiKill.push(elapsedMs(t1));
    }
  };
  const until = Date.now() + plan.ckBudgetMs;
  for (let i = 0; i < plan.ckWarmup + plan.ckN && Date.now() < until && !signal.aborted; i++) {
    const keep = i >= plan.ckWarmup;
    for (const f of i % 2 === 0 ? [viaCore, viaApi] : [viaApi, viaCore]) await f(keep);
  }
  return {
    core: summarize(s.core),
    coreCreate: summarize(s.coreCreate),
    coreKill: summarize(s.coreKill),
    api: summarize(s.api),
    apiCreate: summarize(s.apiCreate),
    apiKill: summarize(s.apiKill),
  };
}

type Via = ApiThroughput['via'];
const VIA_LABEL: Record<Via, string> = { core: 'core exec', api: 'SDK run (JSON)', 'api-worker': 'SDK run (JSON), clients in a worker' };

/** Runs `job` in a worker thread (bench/api-client.ts); resolves once it is warmed up, with a function that runs it. */
async function startClientWorker(job: ClientJob, signal: AbortSignal): Promise<{ run(): Promise<{ ops: number; seconds: number }>; close(): Promise<void> }> {
  // Workers do not inherit tsx's loader (`--import tsx`) on Node 20: bootstrap it, then load the .ts entry.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.tsImport(${JSON.stringify(new URL('./api-client.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  const messages: ClientMessage[] = [];
  let wake: () => void = () => undefined;
  let failed: Error | undefined;
  worker.on('message', (m: ClientMessage) => {
    messages.push(m);
    wake();
  });
  worker.on('error', (err) => {
    failed = err;
    wake();
  });
  worker.once('exit', (code) => {
    failed ??= new Error(`the client worker exited with code ${code}`);
    wake();
  });
  // Ask the clients to stop; a worker that does not answer within 5 s is ended (its exit fails `next`).
  const onAbort = (): void => {
    worker.postMessage('stop');
    setTimeout(() => void worker.terminate(), 5_000).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const next = async (): Promise<ClientMessage> => {
    while (messages.length === 0 && !failed) await new Promise<void>((r) => (wake = r));
    const m = messages.shift();
    if (m === undefined) throw failed ?? new Error('the client worker went away');
    if (typeof m === 'object' && 'error' in m) throw new Error(`client worker: ${m.error}`);
    return m;
  };
  const close = async (): Promise<void> => {
    signal.removeEventListener('abort', onAbort);
    await worker.terminate();
  };
  try {
    if ((await next()) !== 'ready') throw new Error('the client worker did not get ready');
  } catch (err) {
    await close();
    throw err;
  }
  return {
    run: async () => {
      worker.postMessage(signal.aborted ? 'stop' : 'go');
      const m = await next();
      if (typeof m !== 'object' || !('ops' in m)) throw new Error('unexpected message from the client worker');
      return m;
    },
    close,
  };
}

/**
 * Concurrent clients, each running /bin/true round trips one after another.
 * Client c uses sandbox c mod `tputSandboxes` (created through the API, so
 * every variant runs on the same sandboxes); each API client is its own SDK
 * handle, and all share fetch's global connection pool. Three variants per
 * concurrency, in an order that reverses every round: the engine directly,
 * SDK clients in this process (sharing the server's event loop), and SDK
 * clients in a worker thread.
 */
async function tput(api: ApiServer, plan: ApiPlan, signal: AbortSignal, log: (s: string) => void): Promise<ApiThroughput[]> {
  const engine = api.server.engine;
  const sandboxes: ApiSandbox[] = [];
  try {
    for (let i = 0; i < plan.tputSandboxes; i++) sandboxes.push(await ApiSandbox.create({ ...api.conn, ...SPEC }));
    const ids = sandboxes.map((s) => s.id);
    const maxClients = Math.max(...plan.clients);
    const handles = await Promise.all(Array.from({ length: maxClients }, (_, c) => ApiSandbox.connect(ids[c % ids.length]!, api.conn)));
    await Promise.all(sandboxes.map(sdkTrue));
    type Acc = { ops: number; seconds: number; connections: number; loopActive: number; loopIdle: number; cpuMs: number; hostBusy: number; hostAll: number };
    const acc = new Map<string, Acc>();
    const vias: Via[] = ['core', 'api', 'api-worker'];
    for (let round = 0; round < plan.tputRounds && !signal.aborted; round++) {
      for (const clients of plan.clients) {
        for (const via of round % 2 === 0 ? vias : [...vias].reverse()) {
          if (signal.aborted) break;
          const worker = via === 'api-worker' ? await startClientWorker({ ...api.conn, ids, clients, ms: plan.tputMs }, signal) : undefined;
          try {
            const conns0 = api.connections();
            const elu0 = performance.eventLoopUtilization();
            const cpu0 = process.cpuUsage();
            const host0 = await hostCpuTicks();
            const r = worker
              ? await worker.run()
              : await throughput(clients, plan.tputMs, via === 'core' ? (c) => coreTrue(engine, ids[c % ids.length]!) : (c) => sdkTrue(handles[c]!), signal);
            const elu = performance.eventLoopUtilization(elu0);
            const cpu = process.cpuUsage(cpu0);
            const host = await hostCpuTicks();
            const key = `${via} ${clients}`;
            const a = acc.get(key) ?? { ops: 0, seconds: 0, connections: 0, loopActive: 0, loopIdle: 0, cpuMs: 0, hostBusy: 0, hostAll: 0 };
            acc.set(key, {
              ops: a.ops + r.ops,
              seconds: a.seconds + r.seconds,
              connections: a.connections + api.connections() - conns0,
              loopActive: a.loopActive + elu.active,
              loopIdle: a.loopIdle + elu.idle,
              cpuMs: a.cpuMs + (cpu.user + cpu.system) / 1000,
              hostBusy: a.hostBusy + host.busy - host0.busy,
              hostAll: a.hostAll + host.all - host0.all,
            });
            const hostPct = host.all > host0.all ? (100 * (host.busy - host0.busy)) / (host.all - host0.all) : 0;
            log(`api throughput ${via}, ${clients} clients, round ${round + 1}: ${(r.ops / r.seconds).toFixed(0)}/s, main loop ${(elu.utilization * 100).toFixed(0)}% busy, host CPUs ${hostPct.toFixed(0)}% busy`);
          } finally {
            await worker?.close();
          }
        }
      }
    }
    const out: ApiThroughput[] = [];
    for (const clients of plan.clients) {
      for (const via of vias) {
        const a = acc.get(`${via} ${clients}`);
        if (!a) continue;
        out.push({
          label: `${VIA_LABEL[via]}, ${clients} clients`,
          via,
          clients,
          sandboxes: ids.length,
          ops: a.ops,
          seconds: a.seconds,
          opsPerSec: a.ops / a.seconds,
          connections: via === 'core' ? 0 : a.connections,
          mainLoopBusy: a.loopActive + a.loopIdle > 0 ? a.loopActive / (a.loopActive + a.loopIdle) : 0,
          cpuMsPerOp: a.ops > 0 ? a.cpuMs / a.ops : Number.NaN,
          hostBusy: a.hostAll > 0 ? a.hostBusy / a.hostAll : 0,
          // /proc/stat counts in USER_HZ (100 per second on Linux).
          hostCpuMsPerOp: a.ops > 0 ? (a.hostBusy * 10) / a.ops : Number.NaN,
        });
      }
    }
    return out;
  } finally {
    await Promise.allSettled(sandboxes.map((s) => s.kill()));
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export async function apiBench(api: ApiServer, plan: ApiPlan, signal: AbortSignal, log: (s: string) => void): Promise<ApiResults> {
  log(`(f) API: command round trip (server at ${api.conn.url})…`);
  const roundTripR = await roundTrip(api, plan, signal);
  gc();
  log('(f) API: create + kill…');
  const createKillR = await createKill(api, plan, signal);
  gc();
  log(`(f) API: throughput, ${plan.clients.join(' and ')} clients…`);
  const tputR = await tput(api, plan, signal, log);
  return { roundTrip: roundTripR, createKill: createKillR, throughput: tputR, aborted: signal.aborted };
}

/** The target: the API adds ≤ 1 ms to a command round trip at p50. */
export function apiTargets(r: ApiResults): Target[] {
  const rt = r.roundTrip;
  const row = (name: string, sdk: Summary, paired: Summary): Target => {
    const added = sdk.p50Ms - rt.core.p50Ms;
    return {
      name: `API adds to a /bin/true round trip, ${name}`,
      goal: '≤ 1 ms at p50 (SDK p50 − core p50)',
      measured: `${f1(sdk.p50Ms)} ms − ${f1(rt.core.p50Ms)} ms = ${f1(added)} ms (paired p50 ${f1(paired.p50Ms)} ms)`,
      pass: sdk.n > 0 && added <= 1,
    };
  };
  return [row('JSON', rt.sdkJson, rt.pairedJson), row('streaming (onStdout)', rt.sdkStream, rt.pairedStream)];
}

export function printApiReport(r: ApiResults, out: (line: string) => void): void {
  if (r.aborted) out('WARNING: the API section was cut short; numbers are partial.');
  const rt = r.roundTrip;
  out('(f) API: server + fetch SDK in this process over http://127.0.0.1 (keep-alive) vs the same engine called directly');
  out('  command round trip, ms: /bin/true in one sandbox; the five variants interleaved in rotating order');
  for (const l of table([
    LAT_HEAD,
    latencyRow('core: engine.get(id).exec', rt.core),
    latencyRow('SDK commands.run (JSON)', rt.sdkJson),
    latencyRow('SDK commands.run (stream, onStdout)', rt.sdkStream),
    latencyRow('fetch GET /health (no auth)', rt.fetchHealth),
    latencyRow('fetch GET /v1/sandboxes/:id', rt.fetchGet),
  ]))
    out(`    ${l}`);
  out(`  added by the API, ms (SDK − core); ${rt.connections} TCP connection(s) for ${rt.requests} requests`);
  const d = (a: Summary, b: Summary): string[] => [f1(a.p50Ms - b.p50Ms), f1(a.p95Ms - b.p95Ms), f1(a.p99Ms - b.p99Ms)];
  for (const l of table([
    ['', 'Δp50', 'Δp95', 'Δp99', 'paired p50', 'paired p95'],
    ['JSON', ...d(rt.sdkJson, rt.core), f1(rt.pairedJson.p50Ms), f1(rt.pairedJson.p95Ms)],
    ['stream', ...d(rt.sdkStream, rt.core), f1(rt.pairedStream.p50Ms), f1(rt.pairedStream.p95Ms)],
  ]))
    out(`    ${l}`);
  const ck = r.createKill;
  out('  sandbox create + kill, ms: SDK (Sandbox.create + kill) vs engine.create + kill, interleaved');
  for (const l of table([
    LAT_HEAD,
    latencyRow('core create+kill', ck.core),
    latencyRow('  of which create', ck.coreCreate),
    latencyRow('  of which kill', ck.coreKill),
    latencyRow('API create+kill', ck.api),
    latencyRow('  of which create', ck.apiCreate),
    latencyRow('  of which kill', ck.apiKill),
  ]))
    out(`    ${l}`);
  const first = r.throughput[0];
  out(`  throughput, /bin/true round trips per second; client c uses sandbox c mod ${first?.sandboxes ?? 0}; variants alternate, order reversed each round`);
  out('    host CPU = all CPUs, every process (sandboxes included); Node CPU = this process, all threads; main loop = event-loop busy share');
  const rows: string[][] = [['', 'ops/s', 'ops', 's', 'vs core', 'host CPU', 'host CPU ms/op', 'Node CPU ms/op', 'main loop', 'TCP conns']];
  for (const t of r.throughput) {
    const core = r.throughput.find((x) => x.via === 'core' && x.clients === t.clients);
    rows.push([
      t.label,
      t.opsPerSec.toFixed(0),
      String(t.ops),
      t.seconds.toFixed(1),
      core ? `${(t.opsPerSec / core.opsPerSec).toFixed(2)}×` : '-',
      `${(t.hostBusy * 100).toFixed(0)}%`,
      f1(t.hostCpuMsPerOp),
      f1(t.cpuMsPerOp),
      `${(t.mainLoopBusy * 100).toFixed(0)}%`,
      t.via === 'core' ? '-' : String(t.connections),
    ]);
  }
  for (const l of table(rows)) out(`    ${l}`);
}

