/** Threat scanning: scan content, scan a sandbox's changes, the tenant's policy, recorded verdicts. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ChangesVerdicts, RecordedScan, SandboxIdParams, ScanPolicy, ScanQuery, ScansQuery, TenantParams, VerdictView, WardenError } from '@warden/protocol';
import { principalOf } from '../auth/authenticate.js';
import type { SandboxService } from '../services/sandboxes.js';
import { verdictView, type ScanService } from '../services/scans.js';

export function scanRoutes(app: FastifyInstance, sandboxes: SandboxService, scans: ScanService): void {
  const tags = ['scan'];
  app.post<{ Querystring: Static<typeof ScanQuery> }>(
    '/v1/scan',
    {
      config: { scope: 'sandboxes:read' },
      schema: { tags, summary: 'Scan the request body (application/octet-stream) and answer with a verdict', querystring: ScanQuery, response: { 200: VerdictView } },
    },
    async (req) => {
      const body: unknown = req.body;
      if (!(body instanceof Readable)) throw new WardenError('E_UNSUPPORTED_MEDIA_TYPE', 'Send the content to scan as the request body with Content-Type: application/octet-stream.');
      return verdictView(await scans.direct(principalOf(req).tenant, body as AsyncIterable<Uint8Array>, req.query.name ?? ''));
    },
  );
  app.get<{ Params: Static<typeof SandboxIdParams> }>(
    '/v1/sandboxes/:id/scan',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Verdicts for every file a codebase sandbox added or modified', params: SandboxIdParams, response: { 200: ChangesVerdicts } } },
    async (req) => {
      const tenant = principalOf(req).tenant;
      const files = await scans.changes(tenant, sandboxes.live(tenant, req.params.id));
      return { files: files.map((f) => ({ path: f.path, verdict: verdictView(f.verdict) })) };
    },
  );
  app.get<{ Querystring: Static<typeof ScansQuery> }>(
    '/v1/scans',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Verdicts recorded for your tenant, newest first', querystring: ScansQuery, response: { 200: Type.Object({ scans: Type.Array(RecordedScan) }) } } },
    async (req) => ({ scans: scans.list(principalOf(req).tenant, { limit: req.query.limit ?? 100, ...(req.query.sandboxId ? { sandboxId: req.query.sandboxId } : {}) }) }),
  );
  app.get(
    '/v1/scan-policy',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "Your tenant's scan policy for uploads and downloads", response: { 200: ScanPolicy } } },
    async (req) => scans.policy(principalOf(req).tenant),
  );
  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof ScanPolicy> }>(
    '/v1/tenants/:tenant/scan-policy',
    { config: { scope: 'admin' }, schema: { tags, summary: "Set a tenant's scan policy (admin)", params: TenantParams, body: ScanPolicy, response: { 200: ScanPolicy } } },
    async (req) => scans.setPolicy(req.params.tenant, { mode: req.body.mode, blockAt: req.body.blockAt ?? 'malicious' }),
  );
}
