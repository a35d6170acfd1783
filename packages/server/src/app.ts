/**
 * Builds the HTTP API without listening, so tests can `inject` requests and
 * the server can add a socket. Thin: validation, auth, and mapping to core calls.
 */
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { WardenError, type ScanPolicy } from '@warden/protocol';
import type { AuditLog, Engine, SecretsKey } from '@warden/core';
import { newId } from '@warden/core';
import { registerAuth } from './auth/authenticate.js';
import { redactHostPaths, toErrorResponse } from './errors.js';
import { commandRoutes } from './routes/commands.js';
import { healthRoutes } from './routes/health.js';
import { fileRoutes } from './routes/files.js';
import { scanRoutes } from './routes/scans.js';
import { ScanService } from './services/scans.js';
import { ScanStore } from './store/scans.js';
import { keyRoutes } from './routes/keys.js';
import { sandboxRoutes } from './routes/sandboxes.js';
import { sessionRoutes } from './routes/sessions.js';
import { codeRoutes } from './routes/code.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditRoutes } from './routes/audit.js';
import { guardRoutes } from './routes/guard.js';
import { poolRoutes } from './routes/pools.js';
import { secretRoutes } from './routes/secrets.js';
import { SecretService } from './services/secrets.js';
import { SecretStore } from './store/secrets.js';
import { registerE2b } from './e2b/index.js';
import { mcpRoutes } from './routes/mcp.js';
import { metricsRoutes } from './routes/metrics.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { meteredAudit } from './metrics/audit-tap.js';
import { defaultDashboardDir, loadDashboard } from './dashboard/assets.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { GuardService } from './services/guard.js';
import { GuardPolicyStore } from './store/guard-policies.js';
import { CommandRegistry } from './services/commands.js';
import { SandboxService } from './services/sandboxes.js';
import type { Db } from './store/db.js';
import { KeyStore } from './store/keys.js';
import { SandboxStore } from './store/sandboxes.js';
import { validatorCompiler } from './validation.js';
import { coreLogger } from './logging.js';
import { strictOpenApi30 } from './openapi.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  readonly engine: Engine;
  readonly db: Db;
  /** A pino logger (fastify's); default: silent. */
  readonly logger?: FastifyBaseLogger | boolean;
  /** Largest JSON body, in bytes. Default 1 MiB. File uploads stream and are not bound by it. */
  readonly bodyLimitBytes?: number;
  /** Scan policy of tenants that have none of their own. Default: report (scan and record, never block). */
  readonly defaultScanPolicy?: ScanPolicy;
  /** The audit log the engine writes to, for the query, verify and export routes. Default: none (the routes are absent). */
  readonly audit?: AuditLog;
  /** The key tenants' secrets are encrypted with (loadSecretsKey). Default: none (storing or using a secret fails with E_SECRETS_UNAVAILABLE). */
  readonly secretsKey?: SecretsKey;
  /**
   * The Prometheus instruments GET /metrics renders. Pass the ones whose meteredAudit() wraps the
   * engine's audit sink (serve() does) to count what the engine does. Default: a fresh set.
   */
  readonly metrics?: Metrics;
  /** The built dashboard served at /ui/; false for none. Default: packages/dashboard/dist (a missing build answers 503 with how to build it). */
  readonly dashboardDir?: string | false;
}

export interface App {
  readonly fastify: FastifyInstance;
  readonly keys: KeyStore;
  readonly sandboxes: SandboxService;
  readonly store: SandboxStore;
  /** Refuse new requests (503 E_SHUTTING_DOWN) while in-flight ones finish. */
  drain(): void;
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const fastify = Fastify({
    ...(typeof opts.logger === 'object' ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: opts.bodyLimitBytes ?? 1_048_576,
    genReqId: () => newId('req'),
    requestIdHeader: false,
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false } },
  });
  fastify.setValidatorCompiler(validatorCompiler);
  // JSON routes take JSON only (text/plain would reach validation as a string); uploads
  // arrive as a raw stream that the file route pipes into the sandbox.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  const keys = new KeyStore(opts.db);
  const store = new SandboxStore(opts.db);
  const guard = new GuardService(opts.engine, new GuardPolicyStore(opts.db));
  const secrets = new SecretService(new SecretStore(opts.db, opts.secretsKey));
  const sandboxes = new SandboxService(opts.engine, store, guard, coreLogger(fastify.log), secrets);
  const metrics = opts.metrics ?? createMetrics();
  const scans = new ScanService(new ScanStore(opts.db, opts.defaultScanPolicy ?? { mode: 'report', blockAt: 'malicious' }), join(opts.engine.stateDir, 'spool') /* removed with the engine, and by crash recovery */, coreLogger(fastify.log), opts.audit ? { audit: meteredAudit(opts.audit, metrics) } : {});
  const commands = new CommandRegistry();
  sandboxes.onEnded((id) => commands.drop(id));
  let draining = false;

  fastify.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    if (draining) throw new WardenError('E_SHUTTING_DOWN', 'The server is shutting down and takes no new requests. Retry once it has restarted.');
  });
  fastify.setErrorHandler((err, req, reply) => {
    const { status, body: raw, internal } = toErrorResponse(err, req.id);
    const body = redactHostPaths(raw, [[opts.engine.config.dataDir, '<data-dir>']]);
    if (internal) req.log.error({ err }, 'request failed');
    else req.log.info({ code: body.code }, 'request refused');
    return reply.code(status).send(body);
  });
  fastify.setNotFoundHandler((req) => {
    throw new WardenError('E_ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''}. See GET /openapi.json for the routes.`);
  });

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Warden API', version: VERSION, description: 'Run untrusted code in isolated sandboxes. Authenticate with `Authorization: Bearer <API key>`.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transformObject: (doc) => strictOpenApi30('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject),
  });
  registerAuth(fastify, keys);
  healthRoutes(fastify, { version: VERSION, engineId: opts.engine.id });
  fastify.get('/openapi.json', { config: { scope: null }, schema: { hide: true } }, () => fastify.swagger());
  keyRoutes(fastify, keys);
  sandboxRoutes(fastify, sandboxes);
  commandRoutes(fastify, sandboxes, commands);
  sessionRoutes(fastify, sandboxes);
  codeRoutes(fastify, sandboxes);
  fileRoutes(fastify, sandboxes, scans);
  scanRoutes(fastify, sandboxes, scans);
  guardRoutes(fastify, guard);
  approvalRoutes(fastify, opts.engine);
  if (opts.audit) auditRoutes(fastify, opts.audit);
  poolRoutes(fastify, opts.engine);
  secretRoutes(fastify, secrets);
  await registerE2b(fastify, { sandboxes, commands, scans, keys, hostPaths: [[opts.engine.config.dataDir, '<data-dir>']] });
  mcpRoutes(fastify, { version: VERSION });
  metricsRoutes(fastify, metrics, opts.engine);
  if (opts.dashboardDir !== false) {
    const dashboard = await loadDashboard(opts.dashboardDir ?? defaultDashboardDir());
    if (dashboard.state === 'missing') fastify.log.warn({ dir: dashboard.dir, reason: dashboard.reason }, 'the dashboard is not built (npm run build); /ui/ answers 503 until it is');
    dashboardRoutes(fastify, dashboard);
  }

  await fastify.ready();
  return {
    fastify,
    keys,
    sandboxes,
    store,
    drain: () => {
      draining = true;
    },
  };
}
