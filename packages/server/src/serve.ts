/**
 * The server process: recover what a previous run left, open the store,
 * start the engine, listen; stop gracefully on SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { createEngine, recoverDataDir, type Engine, type RecoveryReport } from '@warden/core';
import { buildApp, type App } from './app.js';
import { openDb, type Db } from './store/db.js';
import { coreLogger } from './logging.js';
import { startReaper } from './services/reaper.js';

export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
  /** Default: $WARDEN_DATA_DIR or /var/lib/warden. */
  readonly dataDir?: string;
  /** Becomes the first admin key when the store has no key yet. Default: $WARDEN_ADMIN_KEY, else a random one. */
  readonly adminKey?: string;
  /** Log level for the JSON log on stderr; 'silent' for none. Default 'info'. */
  readonly logLevel?: string;
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

export async function serve(opts: ServeOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? process.env.WARDEN_DATA_DIR ?? '/var/lib/warden';
  const log: FastifyBaseLogger = pino({ level: opts.logLevel ?? 'info' }, pino.destination(2));
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const db: Db = openDb(join(dataDir, 'warden.db'));
  let engine: Engine | undefined;
  try {
    // Before anything new starts: end what a previous run left behind (its sandboxes died with it).
    const report = await recoverDataDir(dataDir, { logger: coreLogger(log) });
    for (const e of report.engines) {
      log.warn(
        { engineId: e.engineId, reason: e.reason, processesKilled: e.processesKilled.length, cgroups: e.cgroupsRemoved.length, mounts: e.mountsUnmounted, uidLocks: e.uidLocksReleased.length },
        'cleaned up after a previous server run',
      );
    }
    engine = await createEngine({ dataDir, logger: coreLogger(log) });
    const app = await buildApp({ engine, db, logger: log });
    const orphanedSandboxes = app.store.closeOrphans(engine.id, 'server-restart');
    if (orphanedSandboxes.length > 0) log.warn({ sandboxes: orphanedSandboxes }, 'sandboxes of a previous server run ended with it; marked closed');

    let createdAdminKey: string | undefined;
    if (app.keys.count() === 0) {
      createdAdminKey = opts.adminKey ?? process.env.WARDEN_ADMIN_KEY ?? undefined;
      const created = app.keys.create({ name: 'first admin', tenant: 'default', scopes: ['admin', 'sandboxes:read', 'sandboxes:write', 'approvals:decide'], ...(createdAdminKey ? { key: createdAdminKey } : {}) });
      createdAdminKey = created.key;
    }
    const reaper = startReaper(app, engine, coreLogger(log));
    await app.fastify.listen({ port: opts.port ?? 8765, host: opts.host ?? '127.0.0.1' });
    const addr = app.fastify.server.address();
    const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
    const eng = engine;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        app.drain();
        reaper.stop();
        await app.fastify.close();
        await eng.close();
        await app.sandboxes.settled();
        db.close();
      })());
    return { url, app, engine, createdAdminKey, recovered: { engines: report.engines, orphanedSandboxes }, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await engine?.close();
    db.close();
    throw err;
  }
}
