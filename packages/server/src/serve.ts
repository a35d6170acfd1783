/**
 * The server process: recover what a previous run left, open the store,
 * start the engine, listen; stop gracefully on SIGINT/SIGTERM.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { WardenError, type RuntimeName } from '@warden/protocol';
import { createEngine, createGuard, loadSecretsKey, openAuditLog, recoverDataDir, type AuditLog, type Engine, type EngineOptions, type Guard, type RecoveryReport } from '@warden/core';
import { buildApp, type App } from './app.js';
import { openDb, type Db } from './store/db.js';
import { coreLogger } from './logging.js';
import { startReaper } from './services/reaper.js';
import { createMetrics } from './metrics/metrics.js';
import { meteredAudit } from './metrics/audit-tap.js';

export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
  /** Default: $WARDEN_DATA_DIR or /var/lib/warden. */
  readonly dataDir?: string;
  /** Becomes the first admin key when the store has no key yet. Default: $WARDEN_ADMIN_KEY, else a random one. */
  readonly adminKey?: string;
  /** Log level for the JSON log on stderr; 'silent' for none. Default 'info'. */
  readonly logLevel?: string;
  /**
   * The server's guard policy layer (a YAML file); tenants' and sandboxes'
   * layers can only tighten it. Default: $WARDEN_GUARD_POLICY, else the
   * shipped default policy. 'off' runs without a guard (actions are still audited).
   */
  readonly guardPolicy?: string;
  /**
   * Default sandboxes kept started so that a create with the default runtime,
   * hostname and limits is a hand-over (GET /v1/pools shows the hit rate).
   * 0 keeps none. Default: $WARDEN_POOL_SIZE, else 2.
   */
  readonly poolSize?: number;
  /**
   * The audit log's Ed25519 signing key (created 0600 when the log is new).
   * Default: $WARDEN_AUDIT_KEY, else <dataDir>/keys/audit-ed25519.pem. Keep it
   * outside the data dir where you can: whoever can write both could re-sign.
   */
  readonly auditKeyFile?: string;
  /**
   * Runtime of sandboxes whose create names none: bwrap, gvisor or docker.
   * Default: $WARDEN_RUNTIME, else bwrap. The others start on first use.
   */
  readonly runtime?: RuntimeName;
  /** The Docker Engine's socket for `docker` sandboxes. Default: DOCKER_HOST when it is unix://PATH, else /var/run/docker.sock. */
  readonly dockerSocket?: string;
  /**
   * The key (base64 of 32 bytes) tenants' secrets are encrypted with; created
   * 0600 when missing. Default: $WARDEN_SECRETS_KEY, else
   * <dataDir>/keys/secrets.key. Keep it off the data dir's backups: with it,
   * a copy of the database gives up every secret.
   */
  readonly secretsKeyFile?: string;
  /** The egress proxy's DNS servers, upstream CAs and connect timeout (EngineOptions.egress). Default: the host's resolver and Node's roots. */
  readonly egress?: EngineOptions['egress'];
  /** Where the JSON log goes. Default: stderr. */
  readonly logStream?: NodeJS.WritableStream;
}

/** Warm default sandboxes when neither poolSize nor WARDEN_POOL_SIZE says otherwise: a couple of instant creates for a few MiB. */
const DEFAULT_POOL_SIZE = 2;

/** poolSize, else $WARDEN_POOL_SIZE, else the default; refused (naming where it came from) unless an integer from 0 to 1000. */
export function resolvePoolSize(poolSize: number | undefined, env: string | undefined = process.env.WARDEN_POOL_SIZE): number {
  const [value, from] = poolSize !== undefined ? [poolSize, 'poolSize (--pool)'] : env !== undefined && env !== '' ? [Number(env), 'WARDEN_POOL_SIZE'] : [DEFAULT_POOL_SIZE, 'default'];
  if (!Number.isInteger(value) || value < 0 || value > 1000) {
    throw new WardenError('E_INVALID_ARGUMENT', `${from} must be an integer from 0 to 1000 (warm default sandboxes; 0 for none), got ${JSON.stringify(poolSize ?? env)}.`);
  }
  return value;
}

export interface RunningServer extends AsyncDisposable {
  readonly url: string;
  readonly app: App;
  readonly engine: Engine;
  /** The first admin key when this start created it (shown once), else undefined. */
  readonly createdAdminKey: string | undefined;
  /** What start-up cleaned after a previous run: engines of dead server processes, and the sandbox records they left running. */
  readonly recovered: { readonly engines: RecoveryReport['engines']; readonly orphanedSandboxes: string[] };
  close(): Promise<void>;
}

/**
 * How long a shutdown lets in-flight requests finish before it ends every
 * sandbox. Streams (a followed command, a watch) end only with their sandbox,
 * so without this bound one open stream would hold the shutdown forever.
 */
const SHUTDOWN_GRACE_MS = 5000;

/** Settles when `p` does or after `ms`, whichever is first (and leaves no timer behind). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export async function serve(opts: ServeOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? process.env.WARDEN_DATA_DIR ?? '/var/lib/warden';
  const poolSize = resolvePoolSize(opts.poolSize);
  const log: FastifyBaseLogger = pino({ level: opts.logLevel ?? 'info' }, opts.logStream ?? pino.destination(2));
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const db: Db = openDb(join(dataDir, 'warden.db'));
  let engine: Engine | undefined;
  let app: App | undefined;
  let audit: AuditLog | undefined;
  let guard: Guard | undefined;
  try {
    // The signing key lives beside, not inside, the database it signs for.
    const keyFile = opts.auditKeyFile ?? process.env.WARDEN_AUDIT_KEY ?? join(dataDir, 'keys', 'audit-ed25519.pem');
    audit = openAuditLog({ file: join(dataDir, 'audit.sqlite'), keyFile, logger: coreLogger(log) });
    // Like the audit key: beside the database, never in it.
    const secretsKey = await loadSecretsKey(opts.secretsKeyFile ?? process.env.WARDEN_SECRETS_KEY ?? join(dataDir, 'keys', 'secrets.key'));
    guard = await startGuard(opts.guardPolicy ?? process.env.WARDEN_GUARD_POLICY);
    // Before anything new starts: end what a previous run left behind (its sandboxes died with it).
    const report = await recoverDataDir(dataDir, { logger: coreLogger(log) });
    for (const e of report.engines) {
      log.warn(
        { engineId: e.engineId, reason: e.reason, processesKilled: e.processesKilled.length, cgroups: e.cgroupsRemoved.length, mounts: e.mountsUnmounted, uidLocks: e.uidLocksReleased.length },
        'cleaned up after a previous server run',
      );
    }
    // Counts what the engine does from the events it audits (docs/metrics.md).
    const metrics = createMetrics();
    engine = await createEngine({ dataDir, logger: coreLogger(log), ...(opts.runtime === undefined ? {} : { runtime: opts.runtime }), ...(opts.dockerSocket === undefined ? {} : { dockerSocket: opts.dockerSocket }), ...(opts.egress === undefined ? {} : { egress: opts.egress }), ...(guard ? { guard } : {}), audit: meteredAudit(audit, metrics), ...(poolSize > 0 ? { pool: [{ size: poolSize }] } : {}) });
    app = await buildApp({ engine, db, logger: log, audit, metrics, secretsKey });
    const orphanedSandboxes = app.store.closeOrphans(engine.id, 'server-restart');
    if (orphanedSandboxes.length > 0) log.warn({ sandboxes: orphanedSandboxes }, 'sandboxes of a previous server run ended with it; marked closed');

    let createdAdminKey: string | undefined;
    if (app.keys.count() === 0) {
      createdAdminKey = opts.adminKey ?? process.env.WARDEN_ADMIN_KEY ?? undefined;
      if (createdAdminKey !== undefined && (createdAdminKey.length < 16 || /\s/.test(createdAdminKey))) {
        throw new WardenError('E_INVALID_ARGUMENT', 'WARDEN_ADMIN_KEY must be at least 16 characters without spaces (it guards every tenant). Unset it to get a random key printed once.');
      }
      const created = app.keys.create({ name: 'first admin', tenant: 'default', scopes: ['admin', 'sandboxes:read', 'sandboxes:write', 'approvals:decide'], ...(createdAdminKey ? { key: createdAdminKey } : {}) });
      createdAdminKey = created.key;
    }
    await app.fastify.listen({ port: opts.port ?? 8765, host: opts.host ?? '127.0.0.1' });
    // Only once listening: a failed start must not leave a timer that reads the closed store.
    const reaper = startReaper(app, engine, coreLogger(log));
    const addr = app.fastify.server.address();
    const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
    const eng = engine;
    const running = app;
    const auditLog = audit;
    const theGuard = guard;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        running.drain();
        reaper.stop();
        const http = running.fastify.server;
        // A response that finishes during the shutdown leaves its connection open for keep-alive
        // (72 s in fastify), which holds close() up: close connections as they go idle.
        const sweep = setInterval(() => http.closeIdleConnections(), 100);
        // Stop listening and let in-flight requests finish, for a while: open streams end only
        // when their sandboxes do, so the engine closes next, and then the last requests finish.
        const stopped = running.fastify.close();
        try {
          await settledWithin(stopped, SHUTDOWN_GRACE_MS);
          await eng.close();
        } finally {
          await settledWithin(stopped, SHUTDOWN_GRACE_MS);
          clearInterval(sweep);
          http.closeAllConnections(); // whatever still hangs on after both grace periods
          await stopped;
          await running.sandboxes.settled(); // records of the sandboxes that just ended, before the store closes
          theGuard?.close();
          auditLog.close();
          db.close();
        }
      })());
    return { url, app, engine, createdAdminKey, recovered: { engines: report.engines, orphanedSandboxes }, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await app?.fastify.close();
    await engine?.close();
    await app?.sandboxes.settled();
    guard?.close();
    audit?.close();
    db.close();
    throw err;
  }
}

/** The server's guard: its policy file, the shipped default, or none ('off'). */
async function startGuard(policy: string | undefined): Promise<Guard | undefined> {
  if (policy === 'off') return undefined;
  if (policy === undefined || policy === '') return createGuard();
  const source = await readFile(policy, 'utf8').catch((err: unknown) => {
    throw new WardenError('E_INVALID_ARGUMENT', `Cannot read the guard policy ${policy}: ${(err as Error).message}. Pass a readable YAML file (--guard-policy / WARDEN_GUARD_POLICY), or 'off'.`);
  });
  return createGuard({ policies: [{ layer: 'server', source }] });
}
