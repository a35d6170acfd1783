/**
 * The engine: creates sandboxes and owns them until they are killed or the
 * engine closes. Composes the pieces in order (uid → workspace → cgroup →
 * runtime → agent ready) and undoes exactly what was done when a step fails.
 */
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { WardenError, isWardenError, parseSandboxSpec, type RuntimeName, type SandboxSpec, type SandboxSpecInput } from '@warden/protocol';
import { AgentClient } from './agent-protocol/client.js';
import { parseEngineConfig, type EngineConfig, type EngineOptions } from './config.js';
import { newId } from './host/ids.js';
import { assertTraversableByOthers } from './host/paths.js';
import { currentProcess } from './host/processes.js';
import { UidPool, type UidLease } from './host/uids.js';
import { freshWorkspace, lendWorkspace, type Workspace } from './host/workspace.js';
import { EngineCgroups, SandboxCgroup } from './limits/cgroup.js';
import { readCgroupLayout } from './limits/layout.js';
import { silentLogger, type Logger } from './logger.js';
import { recoverDataDir } from './recovery/recover.js';
import { engineCgroupRoots, removeLentRecord, writeEngineRecord, writeLentRecord } from './recovery/record.js';
import { createDriver } from './runtimes/index.js';
import type { ProbeCheck, RuntimeDriver, RuntimeInstance, WorkspaceMount } from './runtimes/driver.js';
import { Sandbox, type SandboxInfo } from './sandbox.js';
import { Codebases } from './fs/codebases.js';
import type { SnapshotMeta } from './fs/delta/snapshot.js';
import type { Manifest } from './fs/types.js';
import type { CodebaseWorkspace } from './fs/workspace.js';
import { Approvals } from './guard/approvals.js';
import { Gate } from './guard/gate.js';
import type { Guard, Policy } from './guard/guard.js';
import { WarmPool, type PoolStats } from './pool/pool.js';
import { SandboxNetwork, egressUnsupported } from './net/network.js';
import { compilePolicy } from './net/policy.js';
import { createResolver } from './net/resolver.js';
import { SecretMasker } from './secrets/mask.js';
import { secretValuesFor, type SecretValues } from './secrets/use.js';

export interface Engine extends AsyncDisposable {
  readonly id: string;
  readonly config: Readonly<EngineConfig>;
  /** Host directory private to this engine; removed by close(). */
  readonly stateDir: string;
  /** Host cgroup directories of this engine; removed by close(). */
  readonly cgroupDirs: readonly string[];
  /** uid-range lock files this engine holds now; removed by close(). */
  uidLeaseFiles(): string[];
  /**
   * Starts a sandbox. Throws E_INVALID_SPEC for a bad spec (nothing is created).
   * @example await using sbx = await engine.create({ limits: { memoryMb: 256 } });
   */
  create(spec?: SandboxSpecInput, context?: CreateContext): Promise<Sandbox>;
  /** Pending and recently decided approvals of this engine's sandboxes. */
  readonly approvals: Approvals;
  /** The guard given in the options, if any. */
  readonly guard: Guard | undefined;
  get(id: string): Sandbox;
  /** Codebases in this data directory: add a directory or tarball as a new version, list, show, delete. */
  readonly codebases: {
    add(source: { dir: string } | { tarball: string }, options: { name: string }): Promise<Manifest>;
    list(): ReturnType<Codebases['store']['list']>;
    show(name: string, version?: number): Promise<Manifest>;
    /** Refused with E_CODEBASE_IN_USE while a sandbox of this engine uses it. */
    delete(name: string): Promise<void>;
  };
  /** Snapshots taken with sandbox.snapshot(). */
  readonly snapshots: { get(id: string): Promise<SnapshotMeta>; delete(id: string): Promise<void> };
  list(): SandboxInfo[];
  /**
   * Warm pools (the `pool` option): per profile its size, idle and starting
   * sandboxes, hits, misses and hit rate. Idle pooled sandboxes are not in
   * list() and get() until a create takes them.
   */
  poolStats(): PoolStats;
  /** Kills every sandbox and removes everything the engine made. Idempotent. */
  close(): Promise<void>;
}

/** Who a sandbox belongs to and the policy layers it runs under, for the guard and the audit log. */
export interface CreateContext {
  /** The tenant owning the sandbox (recorded on every audit event and approval). */
  readonly tenant?: string;
  /** Who creates it, e.g. `key:abc`. Default `local`. */
  readonly actor?: string;
  /**
   * Policy layers below the engine's (the tenant's, then the sandbox's), from
   * `guard.loadPolicy`: they can only tighten. A function is asked before
   * every check, so a changed tenant policy applies to running sandboxes.
   */
  readonly policies?: readonly Policy[] | (() => readonly Policy[]);
  /**
   * Values of the tenant secrets the spec names (`secrets`, `network.inject`),
   * by name. The engine keeps them in memory only, gives them to the sandbox
   * as asked, and masks them in its output and audit events.
   */
  readonly secrets?: SecretValues;
}

/** Undo stages run last-first; the steps of one stage run concurrently. */
type UndoStage = Array<() => Promise<void>>;

/** Runs every undo step even if some fail; rethrows the first failure. */
async function undoAll(stages: UndoStage[], log: Logger): Promise<void> {
  let first: unknown;
  for (const stage of [...stages].reverse()) {
    for (const r of await Promise.allSettled(stage.map((step) => step()))) {
      if (r.status === 'rejected') {
        log.error('teardown step failed', { err: String(r.reason) });
        first ??= r.reason;
      }
    }
  }
  if (first !== undefined) throw first instanceof Error ? first : new Error('teardown failed', { cause: first });
}

/** Awaits independent set-up steps together; every one that succeeded is undone on failure. */
async function together<A, B>(undo: UndoStage[], a: Promise<A>, undoA: (v: A) => Promise<void>, b: Promise<B>, undoB: (v: B) => Promise<void>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  const stage: UndoStage = [];
  if (ra.status === 'fulfilled') stage.push(() => undoA(ra.value));
  if (rb.status === 'fulfilled') stage.push(() => undoB(rb.value));
  undo.push(stage);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/** The input with the engine's default runtime when it names none; anything but an object is left for the spec's own error. */
function withRuntime(input: SandboxSpecInput | undefined, runtime: RuntimeName): SandboxSpecInput | undefined {
  if (input === undefined) return { runtime };
  if (typeof input !== 'object' || input === null || Array.isArray(input) || input.runtime !== undefined) return input;
  return { ...input, runtime };
}

function failClosed(runtime: string, checks: ProbeCheck[]): void {
  const bad = checks.filter((c) => !c.ok);
  if (bad.length > 0) {
    throw new WardenError(
      'E_RUNTIME_UNAVAILABLE',
      `The ${runtime} runtime cannot run on this host: ${bad.map((c) => `${c.name}: ${c.detail} (fix: ${c.fix ?? 'see warden doctor'})`).join('; ')}.`,
      { details: { checks: bad } },
    );
  }
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const config = parseEngineConfig(options);
  const log = options.logger ?? silentLogger;
  const id = newId('eng');
  const stateDir = `${config.dataDir}/run/${id}`;
  // Drivers are made and probed on first use; the default runtime's now, so that a host that cannot run it fails here.
  const drivers = new Map<RuntimeName, Promise<RuntimeDriver>>();
  const driverFor = (name: RuntimeName): Promise<RuntimeDriver> => {
    let d = drivers.get(name);
    if (!d) {
      const driver = createDriver(name, { ...config, stateDir });
      d = driver.probe().then((checks) => {
        failClosed(name, checks);
        return driver;
      });
      // A runtime that was not ready is probed again next time (the host may have been fixed).
      d.catch(() => drivers.delete(name));
      drivers.set(name, d);
    }
    return d;
  };
  await driverFor(config.runtime);
  const layout = await readCgroupLayout();
  const resolver = createResolver({ servers: config.egress.dnsServers });
  const upstreamCa = config.egress.upstreamCaFile === undefined ? undefined : [await readFile(config.egress.upstreamCaFile, 'utf8')];

  // Sandbox uids traverse these directories to reach bind-mount sources.
  await mkdir(`${config.dataDir}/run`, { recursive: true, mode: 0o711 });
  await chmod(config.dataDir, 0o711);
  await chmod(`${config.dataDir}/run`, 0o711);
  // Engines of processes that died without closing them: undo what they left
  // (live engines, of this process or others, are left alone).
  await recoverDataDir(config.dataDir, { logger: log }).catch((err: unknown) => log.warn('crash recovery of the data dir failed', { err: String(err) }));
  const codebases = await Codebases.open(config.dataDir);
  await mkdir(stateDir, { mode: 0o711 });
  let cgroups: EngineCgroups;
  try {
    // Before anything else is made: what recovery needs if this process dies.
    await writeEngineRecord(stateDir, {
      version: 1,
      engineId: id,
      owner: currentProcess(),
      createdAt: new Date().toISOString(),
      cgroups: engineCgroupRoots(layout, id),
      uidLockDir: config.uidLockDir,
    });
    await assertTraversableByOthers(stateDir, 'dataDir');
    cgroups = await EngineCgroups.create(layout, id);
  } catch (err) {
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
  await mkdir(`${stateDir}/ws`, { mode: 0o711 });
  await mkdir(`${stateDir}/net`, { mode: 0o711 });

  const uids = new UidPool(config.uidLockDir, config.uidRange);
  const sandboxes = new Map<string, Sandbox>();
  /** Creates in flight: counted against maxSandboxes, and awaited by close() so none escapes teardown. */
  const starting = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  const hostMemMb = Math.floor(totalmem() / 1024 / 1024);
  const audit = options.audit;
  const approvals = new Approvals({ ...(options.approvalTimeoutMs === undefined ? {} : { timeoutMs: options.approvalTimeoutMs }), ...(audit ? { audit } : {}) });

  interface WorkspaceSource {
    readonly mount: WorkspaceMount;
    readonly codebase?: CodebaseWorkspace;
    release(): Promise<void>;
  }

  /** A sandbox started up to a ready agent and not yet handed to anyone (pooled, or a cold create's). */
  interface Started {
    readonly sandboxId: string;
    readonly uid: number;
    readonly source: WorkspaceSource;
    readonly cgroup: SandboxCgroup;
    readonly runtime: RuntimeInstance;
    readonly agent: AgentClient;
    /** The host directory bound into the sandbox for its egress proxy (runtimes with `capabilities.egress`). */
    readonly egressDir: string | undefined;
    /** Whether the runtime process has exited (known from its exit event). */
    readonly exited: () => boolean;
    /** Tears all of it down, last step first. */
    readonly undo: UndoStage[];
  }

  async function workspaceSource(spec: Readonly<SandboxSpec>, sandboxId: string, uid: number): Promise<WorkspaceSource> {
    if (spec.codebase || spec.snapshot) {
      const layered = await codebases.prepare({ sandboxId, ...spec });
      return { mount: layered.mount, codebase: layered.workspace, release: () => Promise.resolve(layered.release()) };
    }
    if (spec.workspace) return lentSource(spec.workspace.hostPath, sandboxId, uid);
    const ws: Workspace = await freshWorkspace(`${stateDir}/ws/${sandboxId}`, uid, uid);
    return { mount: { kind: 'host', path: ws.hostPath }, release: () => ws.release() };
  }

  /** A lent directory, recorded before it is chowned so that crash recovery can give it back. */
  async function lentSource(hostPath: string, sandboxId: string, uid: number): Promise<WorkspaceSource> {
    const owner = await stat(hostPath).catch(() => undefined);
    if (owner) await writeLentRecord(stateDir, { sandboxId, hostPath: hostPath.replace(/\/+$/, '') || '/', uid, owner: { uid: owner.uid, gid: owner.gid } });
    let ws: Workspace;
    try {
      ws = await lendWorkspace(hostPath, uid, uid, [config.dataDir]);
    } catch (err) {
      await removeLentRecord(stateDir, sandboxId);
      throw err;
    }
    return {
      mount: { kind: 'host', path: ws.hostPath },
      release: async () => {
        await ws.release();
        await removeLentRecord(stateDir, sandboxId);
      },
    };
  }

  function create(input?: SandboxSpecInput, context: CreateContext = {}): Promise<Sandbox> {
    const p = createNow(input, context);
    starting.add(p);
    const forget = (): void => void starting.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Sandboxes, creates in flight, and the pools' idle and starting sandboxes: what maxSandboxes bounds. */
  const held = (): number => sandboxes.size + starting.size + pool.held();

  // Sandboxes started ahead for the `pool` option; see pool/pool.ts for the rules they follow.
  const pool = new WarmPool<Started>(config.pool, {
    start: (spec) => start(spec),
    died: (s) => s.runtime.exited,
    alive: (s) => !s.agent.closed && !s.exited(),
    discard: (s) => undoAll(s.undo, log),
    hasRoom: () => !closing && held() < config.maxSandboxes,
    logger: log,
    fillConcurrency: config.poolFillConcurrency,
  });

  async function createNow(input: SandboxSpecInput | undefined, context: CreateContext): Promise<Sandbox> {
    if (closing) throw new WardenError('E_ENGINE_CLOSED', 'The engine is closed; create a new engine.');
    const spec = parseSandboxSpec(withRuntime(input, config.runtime));
    if (spec.image !== undefined && !(await driverFor(spec.runtime)).capabilities.images) {
      throw new WardenError('E_RUNTIME_UNSUPPORTED', `The ${spec.runtime} runtime does not run container images; drop image, or pass --runtime docker.`, { details: { runtime: spec.runtime, capability: 'images' } });
    }
    // Refused before anything starts: egress on a runtime that cannot carry it, an unknown secret, a bad injection.
    if (spec.network.mode === 'allowlist' && !(await driverFor(spec.runtime)).capabilities.egress) throw egressUnsupported(spec.runtime);
    secretValuesFor(spec, context.secrets ?? {});
    compilePolicy(spec.network, context.secrets ?? {});
    if (spec.limits.memoryMb + spec.limits.swapMb > hostMemMb) {
      throw new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: limits.memoryMb + limits.swapMb (${spec.limits.memoryMb + spec.limits.swapMb}) is more than this host's memory (${hostMemMb} MiB). Pass a smaller --memory-mb.`);
    }
    if ((spec.codebase || spec.snapshot) && spec.limits.diskMb > spec.limits.memoryMb) {
      throw new WardenError(
        'E_INVALID_SPEC',
        `Invalid sandbox spec: limits.diskMb (${spec.limits.diskMb}) is more than limits.memoryMb (${spec.limits.memoryMb}). A codebase sandbox's writable layer is held in memory, so it would run out of memory before the disk quota could say "no space left". Lower limits.diskMb or raise --memory-mb.`,
      );
    }
    // Runs before this create joins `starting` (no await above), so it counts the others.
    // An idle pooled sandbox of this profile is already counted (if it turns out dead, this
    // create takes its place); otherwise an idle one of another profile makes room, and is
    // gone from the host before this one starts.
    let room: Promise<void> | undefined;
    if (held() >= config.maxSandboxes && !pool.hasIdle(spec) && !(room = pool.evict())) {
      throw new WardenError('E_CAPACITY', `The engine already runs ${config.maxSandboxes} sandboxes (maxSandboxes). Kill one or raise maxSandboxes.`);
    }
    // A hit is a hand-over of a fresh pooled sandbox, without an await.
    let started = pool.take(spec);
    if (!started) {
      await room;
      started = await start(spec);
    }
    let sandbox: Sandbox;
    try {
      sandbox = await handOver(started, spec, context);
    } catch (err) {
      await undoAll(started.undo, log).catch(() => undefined);
      throw err;
    }
    try {
      // Secret files go in through the agent, as the sandbox's user, before the caller gets the sandbox.
      const values = secretValuesFor(spec, context.secrets ?? {}).all;
      for (const m of spec.secrets) if (m.file !== undefined) await sandbox.files.write(m.file, values[m.name] ?? '', { actor: 'system' });
    } catch (err) {
      await sandbox.kill().catch(() => undefined);
      throw err;
    }
    return sandbox;
  }

  /**
   * Starts a sandbox up to a ready agent: uid, workspace, cgroup, runtime.
   * Nothing can run in it until handOver() makes it a Sandbox.
   */
  async function start(spec: Readonly<SandboxSpec>): Promise<Started> {
    const sandboxId = newId('sbx');
    const undo: UndoStage[] = [];
    try {
      const driver = await driverFor(spec.runtime);
      const lease: UidLease = await uids.acquire();
      undo.push([() => lease.release()]);
      const [source, cgroup] = await together(
        undo,
        workspaceSource(spec, sandboxId, lease.uid),
        (w: WorkspaceSource) => w.release(),
        SandboxCgroup.create(cgroups.plan(sandboxId, driver.cgroupLimits?.(spec.limits) ?? spec.limits), spec.limits.swapMb),
        (c: SandboxCgroup) => c.destroy(),
      );
      // Every sandbox of a runtime that can carry egress gets its directory, so that its owner can allow
      // network access later; the proxy's socket only exists there while the policy is allowlist.
      let egressDir: string | undefined;
      if (driver.capabilities.egress) {
        const dir = `${stateDir}/net/${sandboxId}`;
        await mkdir(dir, { mode: 0o711 });
        undo.push([() => rm(dir, { recursive: true, force: true })]);
        egressDir = dir;
      }
      const runtime: RuntimeInstance = await driver.start({
        sandboxId,
        hostname: spec.hostname,
        limits: spec.limits,
        uid: lease.uid,
        gid: lease.uid,
        workspace: source.mount,
        cgroupProcsFiles: cgroup.procsFiles,
        cgroupPath: cgroups.relPath(sandboxId),
        ...(spec.image === undefined ? {} : { image: spec.image }),
        ...(egressDir === undefined ? {} : { egressDir }),
      });
      undo.push([() => runtime.kill()]);
      if (source.codebase && runtime.delta) {
        const cb = source.codebase;
        cb.attach(runtime.delta, async (fn) => {
          await runtime.flush?.();
          return cgroup.frozen(fn);
        });
        undo.push([() => Promise.resolve(cb.detach())]);
      }
      const agent = new AgentClient(runtime.agentIn, runtime.agentOut, (err) => {
        log.error('agent protocol failure; killing sandbox', { sandboxId, err: err.message });
        void runtime.kill();
      });
      undo.push([() => Promise.resolve(agent.close())]);
      await waitReady(agent, runtime, config.startTimeoutMs, sandboxId);
      log.info('sandbox started', { sandboxId, uid: lease.uid });
      let exited = false;
      void runtime.exited.then(() => (exited = true));
      return { sandboxId, uid: lease.uid, source, cgroup, runtime, agent, egressDir, exited: () => exited, undo };
    } catch (err) {
      await undoAll(undo, log).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Makes a started sandbox the caller's: its spec (env, metadata, TTL and
   * per-command defaults apply from here), its gate (tenant and guard layers,
   * fixed for its life), its audit record. createdAt and the TTL start now.
   */
  async function handOver(s: Started, spec: Readonly<SandboxSpec>, context: CreateContext): Promise<Sandbox> {
    const { sandboxId, runtime, cgroup, source } = s;
    const steps = [...s.undo];
    let torn: Promise<void> | undefined;
    const secrets = context.secrets ?? {};
    const used = secretValuesFor(spec, secrets);
    const masker = new SecretMasker(Object.values(used.all));
    const gate = new Gate({ sandboxId, tenant: context.tenant, guard: options.guard, layers: context.policies ?? [], approvals, audit, masker });
    const network = await SandboxNetwork.open(
      {
        sandboxId,
        runtime: spec.runtime,
        egressDir: s.egressDir,
        uid: s.uid,
        resolver,
        upstreamCa,
        connectTimeoutMs: config.egress.connectTimeoutMs,
        record: (e) => gate.record(e),
        logger: log,
      },
      spec.network,
      secrets,
    );
    steps.push([() => network.close()]);
    const sandbox = new Sandbox({
      network,
      masker,
      secretEnv: used.env,
      gate,
      id: sandboxId,
      spec,
      uid: s.uid,
      agent: s.agent,
      codebase: source.codebase,
      oomKills: () => cgroup.oomKills(),
      runtimeExited: runtime.exited,
      teardown: () =>
        (torn ??= (async () => {
          try {
            await undoAll(steps, log);
          } finally {
            sandboxes.delete(sandboxId);
            log.info('sandbox closed', { sandboxId });
          }
        })()),
    });
    sandboxes.set(sandboxId, sandbox);
    const actor = context.actor ?? 'local';
    gate.record({
      action: 'sandbox.create',
      actor,
      outcome: 'ok',
      details: {
        runtime: spec.runtime,
        limits: spec.limits,
        ...(spec.codebase ? { codebase: spec.codebase } : {}),
        network: { mode: spec.network.mode, allow: [...spec.network.allow], inject: spec.network.inject.map((r) => ({ domain: r.domain, header: r.header, secret: r.secret })) },
        ...(spec.secrets.length > 0 ? { secrets: spec.secrets.map((m) => ({ name: m.name, ...(m.env === undefined ? {} : { env: m.env }), ...(m.file === undefined ? {} : { file: m.file }) })) } : {}),
      },
    });
    void sandbox.ended.then((reason) => {
      approvals.forgetSandbox(sandboxId);
      gate.record({ action: 'sandbox.end', outcome: reason });
      pool.pump(); // a place under maxSandboxes may have come free
    });
    return sandbox;
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      // Wait for in-flight creates, so none escapes teardown.
      await Promise.allSettled([...starting]);
      approvals.close();
      const results = await Promise.allSettled([pool.close(), ...[...sandboxes.values()].map((s) => s.kill())]);
      const closed = await Promise.allSettled([...drivers.values()].map(async (d) => (await d).close?.()));
      for (const r of closed) if (r.status === 'rejected' && !isWardenError(r.reason)) log.warn('runtime driver close failed', { err: String(r.reason) });
      await cgroups.destroy();
      await uids.close();
      await rm(stateDir, { recursive: true, force: true });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason instanceof Error ? failed.reason : new Error('sandbox teardown failed', { cause: failed.reason });
    })();
    return closing;
  }

  return {
    id,
    config,
    stateDir,
    cgroupDirs: cgroups.dirs(),
    uidLeaseFiles: () => uids.lockFiles(),
    codebases: {
      add: (source, options) => codebases.store.add(source, options),
      list: () => codebases.store.list(),
      show: (name, version) => codebases.store.show(name, version),
      delete: (name) => codebases.delete(name),
    },
    snapshots: { get: (sid) => codebases.snapshots.get(sid), delete: (sid) => codebases.snapshots.delete(sid) },
    create,
    approvals,
    guard: options.guard,
    get(sandboxId: string): Sandbox {
      const s = sandboxes.get(sandboxId);
      if (!s) throw new WardenError('E_SANDBOX_NOT_FOUND', `No sandbox ${JSON.stringify(sandboxId)} in this engine; list them with engine.list().`);
      return s;
    },
    list: () => [...sandboxes.values()].map((s) => s.info()),
    poolStats: () => pool.stats(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function waitReady(agent: AgentClient, runtime: RuntimeInstance, timeoutMs: number, sandboxId: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WardenError('E_SANDBOX_START_FAILED', `Sandbox ${sandboxId} did not become ready within ${timeoutMs} ms. ${runtime.diagnostics()}`.trim())), timeoutMs);
  });
  const died = runtime.exited.then((exit) => {
    throw new WardenError(
      'E_SANDBOX_START_FAILED',
      `Sandbox ${sandboxId} failed to start (runtime exit ${exit.code ?? exit.signal}): ${runtime.diagnostics() || 'no diagnostics'}. Run \`warden doctor\` to check the host.`,
      { details: { diagnostics: runtime.diagnostics() } },
    );
  });
  try {
    await Promise.race([agent.ready, timeout, died]);
  } finally {
    clearTimeout(timer);
    died.catch(() => undefined);
  }
}

