/** API keys: stored hashed, each with a tenant and scopes. */
import { Type, type Static } from '@sinclair/typebox';

export const Scope = Type.Union(
  [Type.Literal('sandboxes:read'), Type.Literal('sandboxes:write'), Type.Literal('approvals:decide'), Type.Literal('secrets:write'), Type.Literal('metrics:read'), Type.Literal('admin')],
  {
    description:
      "sandboxes:read (get, list, read files, list secret names), sandboxes:write (create, run, write, kill, change a sandbox's network), approvals:decide, secrets:write (store and delete the tenant's secrets and their rules), metrics:read (scrape GET /metrics: counts across every tenant, nothing else), admin (keys of every tenant).",
  },
);
export type Scope = Static<typeof Scope>;
export const SCOPES: readonly Scope[] = ['sandboxes:read', 'sandboxes:write', 'approvals:decide', 'secrets:write', 'metrics:read', 'admin'];

export const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    tenant: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', expects: 'a tenant name of lower-case letters, digits, _ and -', default: 'default' })),
    scopes: Type.Optional(Type.Array(Scope, { minItems: 1, maxItems: 6, uniqueItems: true, default: ['sandboxes:read', 'sandboxes:write'] })),
    ttlMs: Type.Optional(Type.Integer({ minimum: 1000, description: 'The key stops working after this long. Default: never.' })),
  },
  { additionalProperties: false },
);
export type CreateKeyBody = Static<typeof CreateKeyBody>;

export const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  tenant: Type.String(),
  scopes: Type.Array(Scope),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});
export type KeyView = Static<typeof KeyView>;
export const CreatedKey = Type.Object({ key: Type.String({ description: 'The secret. Shown once; Warden keeps only its hash.' }), info: KeyView });
export type CreatedKey = Static<typeof CreatedKey>;
export const KeyParams = Type.Object({ kid: Type.String({ pattern: '^key_[a-z2-7]{12}$', expects: 'a key id like key_abcdefghijkl' }) }, { additionalProperties: false });
export const WhoAmI = Type.Object({ keyId: Type.String(), tenant: Type.String(), scopes: Type.Array(Scope) });
export type WhoAmI = Static<typeof WhoAmI>;
