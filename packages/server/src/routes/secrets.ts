/** Secrets: store and delete (secrets:write), list names and rules (sandboxes:read). No route returns a value. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { PutSecretBody, SecretList, SecretParams, SecretView } from '@warden/protocol';
import { principalOf } from '../auth/authenticate.js';
import type { SecretService } from '../services/secrets.js';

type Name = { Params: Static<typeof SecretParams> };

export function secretRoutes(app: FastifyInstance, secrets: SecretService): void {
  const tags = ['secrets'];
  app.put<Name & { Body: PutSecretBody }>(
    '/v1/secrets/:name',
    {
      config: { scope: 'secrets:write' },
      schema: { tags, summary: "Store a secret (replacing one of the same name) with its rules; the value is encrypted and never returned", params: SecretParams, body: PutSecretBody, response: { 200: SecretView } },
    },
    async (req) => secrets.put(principalOf(req).tenant, req.params.name, req.body),
  );
  app.get(
    '/v1/secrets',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "List your tenant's secrets (names and rules, no values)", response: { 200: SecretList } } },
    async (req) => secrets.list(principalOf(req).tenant),
  );
  app.delete<Name>(
    '/v1/secrets/:name',
    { config: { scope: 'secrets:write' }, schema: { tags, summary: 'Delete a secret (running sandboxes keep what they were given)', params: SecretParams, response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
    async (req) => {
      secrets.delete(principalOf(req).tenant, req.params.name);
      return { ok: true };
    },
  );
}
