/** Sandboxes: create, get, list, extend, kill. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { CreateSandboxBody, DiffView, ExtendTimeoutBody, ListSandboxesQuery, NetworkView, SandboxIdParams, SandboxPage, SandboxView, UpdateNetworkBody } from '@warden/protocol';
import { actorOf, principalOf } from '../auth/authenticate.js';
import type { SandboxService } from '../services/sandboxes.js';

type Id = { Params: Static<typeof SandboxIdParams> };

export function sandboxRoutes(app: FastifyInstance, sandboxes: SandboxService): void {
  const tags = ['sandboxes'];
  app.post<{ Body: CreateSandboxBody }>(
    '/v1/sandboxes',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Create a sandbox', body: CreateSandboxBody, response: { 201: SandboxView } } },
    async (req, reply) => reply.code(201).send(await sandboxes.create(principalOf(req).tenant, req.body, actorOf(principalOf(req)))),
  );
  app.get<{ Querystring: ListSandboxesQuery }>(
    '/v1/sandboxes',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'List your sandboxes (running by default), oldest first', querystring: ListSandboxesQuery, response: { 200: SandboxPage } } },
    async (req) => sandboxes.list(principalOf(req).tenant, req.query),
  );
  app.get<Id>(
    '/v1/sandboxes/:id',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Get a sandbox', params: SandboxIdParams, response: { 200: SandboxView } } },
    async (req) => sandboxes.get(principalOf(req).tenant, req.params.id),
  );
  app.post<Id & { Body: Static<typeof ExtendTimeoutBody> }>(
    '/v1/sandboxes/:id/timeout',
    {
      config: { scope: 'sandboxes:write' },
      schema: { tags, summary: "Set a sandbox's remaining lifetime (from now)", params: SandboxIdParams, body: ExtendTimeoutBody, response: { 200: SandboxView } },
    },
    async (req) => sandboxes.setTtl(principalOf(req).tenant, req.params.id, req.body.ttlMs),
  );
  app.get<Id>(
    '/v1/sandboxes/:id/diff',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "What a codebase sandbox changed (E_NO_CODEBASE for others)", params: SandboxIdParams, response: { 200: DiffView } } },
    async (req) => sandboxes.live(principalOf(req).tenant, req.params.id).diff(),
  );
  app.get<Id>(
    '/v1/sandboxes/:id/network',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "A running sandbox's egress policy", params: SandboxIdParams, response: { 200: NetworkView } } },
    async (req) => sandboxes.network(principalOf(req).tenant, req.params.id),
  );
  app.put<Id & { Body: UpdateNetworkBody }>(
    '/v1/sandboxes/:id/network',
    {
      config: { scope: 'sandboxes:write' },
      schema: { tags, summary: "Replace a running sandbox's egress policy (none, or an allowlist with optional header injection)", params: SandboxIdParams, body: UpdateNetworkBody, response: { 200: NetworkView } },
    },
    async (req) => sandboxes.setNetwork(principalOf(req).tenant, req.params.id, req.body, actorOf(principalOf(req))),
  );
  app.delete<Id>(
    '/v1/sandboxes/:id',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Kill a sandbox (idempotent)', params: SandboxIdParams, response: { 200: SandboxView } } },
    async (req) => sandboxes.kill(principalOf(req).tenant, req.params.id),
  );
}
