import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { WhoAmI } from '@warden/protocol';
import { principalOf } from '../auth/authenticate.js';

export function healthRoutes(app: FastifyInstance, info: { version: string; engineId: string }): void {
  app.get(
    '/health',
    { config: { scope: null }, schema: { tags: ['meta'], summary: 'Liveness: 200 while the server takes requests', security: [], response: { 200: Type.Object({ ok: Type.Boolean(), version: Type.String() }) } } },
    async () => ({ ok: true, version: info.version }),
  );
  app.get('/v1/whoami', { schema: { tags: ['meta'], summary: 'The caller: key id, tenant and scopes', response: { 200: WhoAmI } } }, async (req) => {
    const p = principalOf(req);
    return { keyId: p.keyId, tenant: p.tenant, scopes: [...p.scopes] };
  });
}
