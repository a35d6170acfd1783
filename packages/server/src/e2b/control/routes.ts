/**
 * E2B's control plane (spec/openapi.yml), under /e2b: create, connect, get,
 * list, set timeout and kill, as thin calls on the sandbox service. The SDK
 * authenticates with `X-API-KEY`, which Warden's own auth hook reads, so keys,
 * tenants and scopes work exactly as on the Warden API. A sandbox that has
 * ended is "not found", as on E2B.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { WardenError, type SandboxView } from '@warden/protocol';
import { actorOf, principalOf } from '../../auth/authenticate.js';
import { cursorAfter, type SandboxService } from '../../services/sandboxes.js';
import type { Principal } from '../../store/keys.js';
import type { AccessTokens } from '../tokens.js';
import { toWardenCreate, type ApiVersion } from './create.js';
import { parseMetadata, parseStartedAfter, parseStates } from './query.js';
import { ConnectBody, ListAllQuery, ListQuery, NewSandbox, SandboxIdParam, TimeoutBody } from './schemas.js';
import type { SandboxTemplates } from './templates.js';
import { detailView, listedView, sandboxView, type E2bSandbox } from './views.js';

export interface ControlDeps {
  readonly sandboxes: SandboxService;
  readonly tokens: AccessTokens;
  readonly templates: SandboxTemplates;
}

type Id = { Params: Static<typeof SandboxIdParam> };

const read = { scope: 'sandboxes:read', e2b: 'api' } as const;
const write = { scope: 'sandboxes:write', e2b: 'api' } as const;
/** The most sandboxes one unpaginated list (GET /sandboxes) returns. */
const LIST_ALL_MAX = 10_000;

export function controlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { sandboxes, tokens, templates } = deps;

  /** The record of a running sandbox of the tenant; an ended one is "not found" (404). */
  const running = (tenant: string, id: string): SandboxView => {
    const v = sandboxes.get(tenant, id);
    if (v.state !== 'running') {
      throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${id} is not running (${v.closedReason ?? 'ended'}). Create a new sandbox.`, { details: { sandboxId: id } });
    }
    return v;
  };

  /** The sandbox with access tokens issued to the calling key. */
  const handOver = (p: Principal, v: SandboxView): E2bSandbox => sandboxView(v, templates.of(v.id), { envd: tokens.issue('envd', p.keyId, v.id), traffic: tokens.issue('traffic', p.keyId, v.id) });

  const create = (api: ApiVersion) => async (req: FastifyRequest<{ Body: Static<typeof NewSandbox> }>, reply: FastifyReply) => {
    const p = principalOf(req);
    const { template, body } = toWardenCreate(req.body, api);
    const v = await sandboxes.create(p.tenant, body, actorOf(p));
    templates.set(v.id, template);
    // A sandbox that ended before the line above must not leave its name behind.
    if (sandboxes.get(p.tenant, v.id).state !== 'running') templates.forget(v.id);
    return reply.code(201).send(handOver(p, v));
  };
  app.post('/sandboxes', { config: write, schema: { hide: true, body: NewSandbox } }, create('v1'));
  app.post('/v2/sandboxes', { config: write, schema: { hide: true, body: NewSandbox } }, create('v2'));

  const connect = async (req: FastifyRequest<Id & { Body: Static<typeof ConnectBody> | undefined }>, reply: FastifyReply) => {
    const p = principalOf(req);
    const sbx = sandboxes.live(p.tenant, req.params.sandboxID);
    // E2B's connect extends the timeout to `timeout` from now, never shortens it.
    const wantMs = (req.body?.timeout ?? 0) * 1000;
    if (wantMs > sbx.expiresAt.getTime() - Date.now()) sandboxes.setTtl(p.tenant, sbx.id, wantMs);
    return reply.code(200).send(handOver(p, sandboxes.get(p.tenant, sbx.id)));
  };
  app.post('/sandboxes/:sandboxID/connect', { config: write, schema: { hide: true, params: SandboxIdParam, body: ConnectBody } }, connect);
  app.post('/v2/sandboxes/:sandboxID/connect', { config: write, schema: { hide: true, params: SandboxIdParam, body: ConnectBody } }, connect);

  app.get<Id>('/sandboxes/:sandboxID', { config: read, schema: { hide: true, params: SandboxIdParam } }, async (req) => {
    const v = running(principalOf(req).tenant, req.params.sandboxID);
    return detailView(v, templates.of(v.id));
  });

  app.delete<Id>('/sandboxes/:sandboxID', { config: write, schema: { hide: true, params: SandboxIdParam } }, async (req, reply) => {
    const p = principalOf(req);
    running(p.tenant, req.params.sandboxID);
    await sandboxes.kill(p.tenant, req.params.sandboxID);
    return reply.code(204).send();
  });

  app.post<Id & { Body: Static<typeof TimeoutBody> }>('/sandboxes/:sandboxID/timeout', { config: write, schema: { hide: true, params: SandboxIdParam, body: TimeoutBody } }, async (req, reply) => {
    sandboxes.setTtl(principalOf(req).tenant, req.params.sandboxID, req.body.timeout * 1000);
    return reply.code(204).send();
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v2/sandboxes', { config: read, schema: { hide: true, querystring: ListQuery } }, async (req, reply) => {
    const tenant = principalOf(req).tenant;
    const q = req.query;
    // Warden has no paused sandboxes: a list of paused ones only is empty.
    if (!parseStates(q.state).has('running')) return reply.send([]);
    const limit = q.limit ?? 100;
    const order = q.order ?? 'desc';
    const metadata = parseMetadata(q.metadata);
    const createdFrom = parseStartedAfter(q.startedAfter);
    const found: SandboxView[] = [];
    let cursor = q.nextToken;
    let next: string | null = null;
    // With a template filter, pages are read until `limit` sandboxes match or none are left.
    for (;;) {
      const page = sandboxes.page(tenant, { state: 'running', metadata, limit, order, ...(cursor !== undefined ? { cursor } : {}), ...(createdFrom !== undefined ? { createdFrom } : {}) });
      const rows = page.sandboxes;
      let full = -1;
      for (const [i, v] of rows.entries()) {
        if (q.template !== undefined && templates.of(v.id) !== q.template) continue;
        found.push(v);
        if (found.length === limit) {
          full = i;
          break;
        }
      }
      const last = rows[full];
      if (last !== undefined) {
        next = full < rows.length - 1 || page.nextCursor !== null ? cursorAfter(last, order) : null;
        break;
      }
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    if (next !== null) void reply.header('x-next-token', next);
    return reply.send(found.map((v) => listedView(v, templates.of(v.id))));
  });

  app.get<{ Querystring: Static<typeof ListAllQuery> }>('/sandboxes', { config: read, schema: { hide: true, querystring: ListAllQuery } }, async (req) => {
    const tenant = principalOf(req).tenant;
    const metadata = parseMetadata(req.query.metadata);
    const all: SandboxView[] = [];
    let cursor: string | undefined;
    do {
      const page = sandboxes.page(tenant, { state: 'running', metadata, limit: 1000, order: 'asc', ...(cursor !== undefined ? { cursor } : {}) });
      all.push(...page.sandboxes);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && all.length < LIST_ALL_MAX);
    return all.map((v) => listedView(v, templates.of(v.id)));
  });
}
