/**
 * Who may act on which sandbox, for requests the SDKs send to a sandbox: the
 * `E2b-Sandbox-Id` header names it and an access token (tokens.ts) proves the
 * caller was given it. The token names the API key it was issued to; that key
 * must still be valid and allowed to write, and the sandbox must belong to its
 * tenant. Fail closed: no token, a bad token or a revoked key is 401 before
 * anything about the sandbox is looked at.
 */
import type { FastifyRequest } from 'fastify';
import { WardenError } from '@warden/protocol';
import type { Sandbox } from '@warden/core';
import { actorOf } from '../auth/authenticate.js';
import type { SandboxService } from '../services/sandboxes.js';
import type { KeyStore, Principal } from '../store/keys.js';
import type { AccessTokens, TokenKind } from './tokens.js';

export interface SandboxTarget {
  readonly sandbox: Sandbox;
  readonly tenant: string;
  /** `key:<id>` of the key the token was issued to, for the audit log. */
  readonly actor: string;
}

export interface TargetDeps {
  readonly tokens: AccessTokens;
  readonly keys: KeyStore;
  readonly sandboxes: SandboxService;
}

const SANDBOX_ID = /^sbx_[a-z2-7]{12}$/;
/** The users E2B code may name: E2B's default `user`, and Warden's own name for the sandbox user. */
const OWN_USERS: ReadonlySet<string> = new Set(['', 'user', 'sandbox']);

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The user a request asks to act as: `Authorization: Basic <user:>` (envd RPC)
 * or `?username=` (envd /files). Warden runs everything in a sandbox as its one
 * unprivileged user, so any other user, root above all, is refused rather than
 * quietly mapped to it.
 */
export function checkUser(req: FastifyRequest): void {
  const auth = header(req, 'authorization');
  const basic = auth !== undefined ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth) : null;
  const query = (req.query as Record<string, unknown> | undefined)?.username;
  const users = [basic?.[1] !== undefined ? Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0] : undefined, typeof query === 'string' ? query : undefined];
  for (const user of users) {
    if (user !== undefined && !OWN_USERS.has(user)) {
      throw new WardenError(
        'E_UNSUPPORTED',
        `Warden runs every process and file operation in a sandbox as its own unprivileged user; user ${JSON.stringify(user)} is not available. Leave user out (or pass 'user').`,
        { details: { feature: 'user', user } },
      );
    }
  }
}

export function resolveTarget(req: FastifyRequest, deps: TargetDeps, kinds: readonly TokenKind[]): SandboxTarget {
  const sandboxId = header(req, 'e2b-sandbox-id');
  if (sandboxId === undefined || !SANDBOX_ID.test(sandboxId)) {
    throw new WardenError('E_INVALID_REQUEST', `The E2b-Sandbox-Id header must name a sandbox such as sbx_abcdefghijkl, got ${JSON.stringify(sandboxId ?? null)}. Use an E2B SDK with E2B_SANDBOX_URL set to this server.`);
  }
  const presented = kinds.map((k) => [k, header(req, k === 'envd' ? 'x-access-token' : 'e2b-traffic-access-token')] as const);
  let keyId: string | undefined;
  for (const [kind, token] of presented) keyId ??= token === undefined ? undefined : deps.tokens.verify(kind, token, sandboxId);
  if (keyId === undefined) {
    throw new WardenError(
      'E_UNAUTHENTICATED',
      presented.every(([, t]) => t === undefined)
        ? `No access token for sandbox ${sandboxId}. Get the sandbox through Sandbox.create() or Sandbox.connect() with your API key; the SDK then sends the token it was given.`
        : `The access token is not valid for sandbox ${sandboxId} (tokens are per sandbox and end when the server restarts). Call Sandbox.connect() again.`,
    );
  }
  const key = deps.keys.get(keyId);
  const now = Date.now();
  if (!key || key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= now)) {
    throw new WardenError('E_UNAUTHENTICATED', 'The API key this access token was issued to is revoked or expired. Connect again with a valid key.');
  }
  if (!key.scopes.includes('sandboxes:write') && !key.scopes.includes('admin')) {
    throw new WardenError('E_FORBIDDEN', 'The API key this access token was issued to lacks the "sandboxes:write" scope.', { details: { scope: 'sandboxes:write' } });
  }
  checkUser(req);
  const principal: Principal = { keyId: key.id, tenant: key.tenant, scopes: key.scopes };
  return { sandbox: deps.sandboxes.live(key.tenant, sandboxId), tenant: key.tenant, actor: actorOf(principal) };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the adapter's in-sandbox hook before any in-sandbox handler runs. */
    e2bTarget: SandboxTarget | undefined;
  }
}

/** The sandbox an in-sandbox request acts on (resolved by the plugin's hook, so never missing in a handler). */
export function targetOf(req: FastifyRequest): SandboxTarget {
  if (!req.e2bTarget) throw new WardenError('E_UNAUTHENTICATED', 'No access token was checked for this request.');
  return req.e2bTarget;
}
