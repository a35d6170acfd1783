/** API keys. Admins manage keys of every tenant; the secret is returned once, at creation. */
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CreateKeyBody, CreatedKey, KeyParams, KeyView, WardenError } from '@warden/protocol';
import type { KeyStore } from '../store/keys.js';

const ListKeysQuery = Type.Object({ tenant: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

export function keyRoutes(app: FastifyInstance, keys: KeyStore): void {
  const tags = ['keys'];
  app.post<{ Body: Static<typeof CreateKeyBody> }>(
    '/v1/keys',
    { config: { scope: 'admin' }, schema: { tags, summary: 'Create an API key (the secret is shown once)', body: CreateKeyBody, response: { 201: CreatedKey } } },
    async (req, reply) => {
      const b = req.body;
      const created = keys.create({ name: b.name, tenant: b.tenant ?? 'default', scopes: b.scopes ?? ['sandboxes:read', 'sandboxes:write'], ...(b.ttlMs !== undefined ? { ttlMs: b.ttlMs } : {}) });
      return reply.code(201).send(created);
    },
  );
  app.get<{ Querystring: Static<typeof ListKeysQuery> }>(
    '/v1/keys',
    { config: { scope: 'admin' }, schema: { tags, summary: 'List API keys (never their secrets)', querystring: ListKeysQuery, response: { 200: Type.Object({ keys: Type.Array(KeyView) }) } } },
    async (req) => ({ keys: keys.list(req.query.tenant) }),
  );
  app.delete<{ Params: Static<typeof KeyParams> }>(
    '/v1/keys/:kid',
    { config: { scope: 'admin' }, schema: { tags, summary: 'Revoke an API key', params: KeyParams, response: { 200: KeyView } } },
    async (req) => {
      if (!keys.revoke(req.params.kid)) throw new WardenError('E_KEY_NOT_FOUND', `No API key ${req.params.kid}. List keys with \`warden keys list\`.`, { details: { keyId: req.params.kid } });
      const v = keys.get(req.params.kid);
      if (!v) throw new WardenError('E_KEY_NOT_FOUND', `No API key ${req.params.kid}.`);
      return v;
    },
  );
}
