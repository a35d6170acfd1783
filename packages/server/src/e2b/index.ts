/**
 * The E2B adapter: the official `e2b` and `@e2b/code-interpreter` SDKs work
 * against this server, unchanged, with E2B_API_URL=<server>/e2b and
 * E2B_SANDBOX_URL=<server>. It is a thin layer over Warden's services — the
 * same sandboxes, commands, files, code contexts, keys, guard, scans and audit
 * as the Warden API — on the same listener:
 *
 * - control plane (control/): E2B's REST API under /e2b, authenticated by
 *   Warden's own API-key hook (the SDK's X-API-KEY);
 * - envd (envd/): Connect RPC `process.Process` and `filesystem.Filesystem`,
 *   `/files` and `/health`, for requests with `E2b-Sandbox-Port: 49983`;
 * - code interpreter (interpreter/): `/execute` and `/contexts` for
 *   `E2b-Sandbox-Port: 49999`.
 *
 * In-sandbox requests carry no API key; they are authorised by the access
 * tokens create and connect hand out (tokens.ts, target.ts).
 */
import type { FastifyInstance } from 'fastify';
import { WardenError } from '@warden/protocol';
import type { CommandRegistry } from '../services/commands.js';
import type { SandboxService } from '../services/sandboxes.js';
import type { ScanService } from '../services/scans.js';
import type { KeyStore } from '../store/keys.js';
import { rpcRouter } from './connect/rpc.js';
import { controlRoutes } from './control/routes.js';
import { SandboxTemplates } from './control/templates.js';
import { filesRoutes } from './envd/files.js';
import { filesystemService } from './envd/filesystem.js';
import { processService } from './envd/process.js';
import { E2bProcesses } from './envd/processes.js';
import { PolledWatchers } from './envd/watchers.js';
import { interpreterRoutes } from './interpreter/routes.js';
import { e2bErrorHandler, type HostPaths } from './respond.js';
import { PORT_CONSTRAINT, addPortConstraint } from './routing.js';
import { resolveTarget } from './target.js';
import { createAccessTokens, type TokenKind } from './tokens.js';
import { API_PREFIX, ENVD_PORT, JUPYTER_PORT } from './wire.js';

export interface E2bDeps {
  readonly sandboxes: SandboxService;
  readonly commands: CommandRegistry;
  readonly scans: ScanService;
  readonly keys: KeyStore;
  /** Server directories replaced in error messages, as on the Warden API. */
  readonly hostPaths: HostPaths;
}

/** Streaming request bodies are one small message. */
const STREAM_BODY_LIMIT = 1024 * 1024;

export async function registerE2b(app: FastifyInstance, deps: E2bDeps): Promise<void> {
  const tokens = createAccessTokens();
  const templates = new SandboxTemplates();
  const processes = new E2bProcesses(deps.commands);
  const watchers = new PolledWatchers();
  deps.sandboxes.onEnded((id) => {
    templates.forget(id);
    watchers.drop(id);
  });
  const onError = e2bErrorHandler(deps.hostPaths);
  const targets = { tokens, keys: deps.keys, sandboxes: deps.sandboxes };

  addPortConstraint(app);
  app.decorateRequest('e2bTarget', undefined);

  await app.register(
    async (api) => {
      api.setErrorHandler(onError);
      api.setNotFoundHandler((req) => {
        throw new WardenError(
          'E_UNSUPPORTED',
          `Warden's E2B adapter does not implement ${req.method} ${req.url.split('?')[0] ?? ''}. It supports creating, connecting to, listing, inspecting, timing out and killing sandboxes; pausing, resuming, forking, snapshots, metrics, logs, network updates, template builds, volumes and secrets are not available.`,
          { details: { feature: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0] ?? ''}` } },
        );
      });
      controlRoutes(api, { sandboxes: deps.sandboxes, tokens, templates });
    },
    { prefix: API_PREFIX },
  );

  /** Routes for one in-sandbox port; every request is authorised (target.ts) before its handler runs. */
  const inSandbox = async (port: number, kinds: readonly TokenKind[], routes: (s: FastifyInstance, constraints: Record<string, string>) => void): Promise<void> => {
    await app.register(async (s) => {
      s.setErrorHandler(onError);
      s.addContentTypeParser('application/connect+json', { parseAs: 'buffer', bodyLimit: STREAM_BODY_LIMIT }, (_req, body, done) => done(null, body));
      s.addContentTypeParser('multipart/form-data', (_req, payload, done) => done(null, payload));
      // The code interpreter SDK sends Content-Type: application/json with no body on restart and delete.
      const json = s.getDefaultJsonParser('error', 'error');
      s.removeContentTypeParser('application/json');
      s.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => (body.length === 0 ? done(null, undefined) : json(req, body.toString(), done)));
      s.addHook('onRequest', async (req) => {
        req.e2bTarget = resolveTarget(req, targets, kinds);
      });
      routes(s, { [PORT_CONSTRAINT]: String(port) });
    });
  };

  await inSandbox(ENVD_PORT, ['envd'], (s, constraints) => {
    processService(rpcRouter(s, 'process.Process', constraints, deps.hostPaths), { commands: deps.commands, processes });
    filesystemService(rpcRouter(s, 'filesystem.Filesystem', constraints, deps.hostPaths), { watchers });
    filesRoutes(s, constraints, { scans: deps.scans });
  });
  // The code interpreter SDK sends the envd token with /execute and only the traffic token with /contexts.
  await inSandbox(JUPYTER_PORT, ['envd', 'traffic'], (s, constraints) => interpreterRoutes(s, constraints, deps.hostPaths));

  // uploadUrl()/downloadUrl() make plain URLs to /files: no header names the sandbox they are for.
  await app.register(async (s) => {
    s.setErrorHandler(onError);
    s.route({
      method: ['GET', 'POST', 'PUT'],
      url: '/files',
      config: { scope: null, e2b: 'envd' },
      schema: { hide: true },
      onRequest: async () => {
        throw new WardenError(
          'E_UNSUPPORTED',
          'Signed file URLs (sandbox.uploadUrl() and downloadUrl()) are not supported: the request names no sandbox (no E2b-Sandbox-Id header). Use sandbox.files.write() and files.read().',
          { details: { feature: 'signed file URLs' } },
        );
      },
      handler: async () => undefined,
    });
  });
}
