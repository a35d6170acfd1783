/**
 * Every route declares the scope it needs in `config.scope` (`null`: public).
 * A request presents its key as `Authorization: Bearer <key>` or `X-API-Key`.
 * The principal's tenant then scopes every lookup the handler makes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError, type Scope } from '@warden/protocol';
import type { KeyStore, Principal } from '../store/keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller needs; null for public routes. Every route must set it. */
    scope?: Scope | null;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** The key a request presents, if any (MCP over HTTP hands it on to the API calls its tools make). */
export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const k = req.headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : undefined;
}

export function registerAuth(app: FastifyInstance, keys: KeyStore): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config.scope;
    if (scope === null) return;
    // Unknown routes have no config: they answer 404 through the not-found handler, after auth,
    // so probing for routes without a key learns nothing.
    const key = presentedKey(req);
    if (key === undefined) {
      throw new WardenError('E_UNAUTHENTICATED', 'No API key. Send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"; the SDK and CLI read WARDEN_API_KEY.');
    }
    const principal = keys.authenticate(key);
    if (!principal) throw new WardenError('E_UNAUTHENTICATED', 'This API key is unknown, revoked or expired. Ask an admin for a new one (`warden keys create`).');
    req.principal = principal;
    if (scope !== undefined && !principal.scopes.includes(scope) && !principal.scopes.includes('admin')) {
      throw new WardenError('E_FORBIDDEN', `This API key lacks the "${scope}" scope this call needs. Use a key that has it, or ask an admin to create one with --scope ${scope}.`, {
        details: { scope },
      });
    }
  });
}

/** The authenticated caller; routes that reach a handler always have one unless they are public. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new WardenError('E_UNAUTHENTICATED', 'No API key. Send it as "Authorization: Bearer <key>".');
  return req.principal;
}

/** How a caller appears in the audit log and on approvals: `key:<id>`. */
export function actorOf(p: Principal): string {
  return `key:${p.keyId}`;
}
