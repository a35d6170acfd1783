/** Sandboxes over HTTP: create, get, list, extend, delete. */
import { Type, type Static } from '@sinclair/typebox';
import { EnvMap, Limits, PolicyInput, RuntimeName } from '../spec.js';
import { AllowEntry, HeaderInjectionInput, NetworkMode, NetworkPolicy, NetworkPolicyInput, SecretMounts } from '../network.js';
import { PageQuery } from './common.js';

/**
 * A sandbox spec as the API takes it: no host paths (a tenant must not mount
 * the server's directories) and no snapshots (they are not yet owned by a
 * tenant, so ids would cross tenants).
 */
export const CreateSandboxBody = Type.Object(
  {
    runtime: Type.Optional(RuntimeName),
    limits: Type.Optional(Type.Partial(Limits, { additionalProperties: false })),
    codebase: Type.Optional(
      Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 64 }), version: Type.Optional(Type.Integer({ minimum: 1 })) },
        { additionalProperties: false },
      ),
    ),
    policy: Type.Optional(PolicyInput),
    preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64, hint: 'Presets: agent-safe, read-only, full-write.' })),
    guardPolicy: Type.Optional(
      Type.String({ minLength: 1, maxLength: 262_144, description: "A guard policy (YAML, docs/guard.md) for this sandbox only: it can add restrictions to the server's and the tenant's, never relax them." }),
    ),
    env: Type.Optional(EnvMap),
    network: Type.Optional(NetworkPolicyInput),
    secrets: Type.Optional(SecretMounts),
    hostname: Type.Optional(Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', expects: 'a hostname of 1 to 63 lower-case letters, digits and inner hyphens' })),
    metadata: Type.Optional(
      Type.Record(Type.String({ pattern: '^[\\s\\S]{0,128}$' }), Type.String({ maxLength: 1024 }), {
        additionalProperties: false,
        expects: 'an object of string values (keys up to 128, values up to 1024 characters)',
      }),
    ),
  },
  { additionalProperties: false, hint: 'See GET /openapi.json for the fields of a sandbox.' },
);
export type CreateSandboxBody = Static<typeof CreateSandboxBody>;

export const SandboxState = Type.Union([Type.Literal('running'), Type.Literal('closed')]);

export const SandboxView = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String(),
    runtime: Type.String(),
    state: SandboxState,
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    closedReason: Type.Union([Type.String(), Type.Null()], { description: 'killed, expired, server-restart, …' }),
    metadata: Type.Record(Type.String(), Type.String()),
    limits: Limits,
    codebase: Type.Union([Type.Object({ name: Type.String(), version: Type.Integer() }), Type.Null()]),
  },
  { $id: 'Sandbox' },
);
export type SandboxView = Static<typeof SandboxView>;

export const ListSandboxesQuery = Type.Object(
  {
    ...PageQuery,
    state: Type.Optional(Type.Union([SandboxState, Type.Literal('all')], { default: 'running' })),
    metadata: Type.Optional(
      Type.String({ maxLength: 4096, description: 'Filter: URL-encoded key=value pairs joined by & (all must match), e.g. metadata=user%3Dalice%26job%3D7.' }),
    ),
  },
  { additionalProperties: false },
);
export type ListSandboxesQuery = Static<typeof ListSandboxesQuery>;

export const SandboxPage = Type.Object({ sandboxes: Type.Array(SandboxView), nextCursor: Type.Union([Type.String(), Type.Null()]) });
export type SandboxPage = Static<typeof SandboxPage>;

export const ExtendTimeoutBody = Type.Object(
  { ttlMs: Type.Integer({ minimum: 1000, maximum: 604_800_000, description: 'New lifetime counted from now, in ms.', hint: 'Pass ttlMs between 1000 and 604800000.' }) },
  { additionalProperties: false },
);

const Change = Type.Object({ path: Type.String(), type: Type.String({ description: 'file, dir or symlink' }), size: Type.Integer() });
export const DiffView = Type.Object(
  {
    added: Type.Array(Change),
    modified: Type.Array(Type.Intersect([Change, Type.Object({ oldSize: Type.Integer() })])),
    deleted: Type.Array(Change),
  },
  { description: 'What a codebase sandbox changed, relative to its codebase version.' },
);
export type DiffView = Static<typeof DiffView>;

/** A running sandbox's egress policy, replaced whole by PUT (its owner can change it at any time). */
export const UpdateNetworkBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('none'), Type.Literal('allowlist')], { description: NetworkMode.description, hint: 'Use none or allowlist.' }),
    allow: Type.Optional(Type.Array(AllowEntry, { maxItems: 256, default: [] })),
    inject: Type.Optional(Type.Array(HeaderInjectionInput, { maxItems: 32, default: [] })),
  },
  { additionalProperties: false, description: 'The new policy. Connections it no longer allows are cut; processes started from now on get the matching proxy environment.' },
);
export type UpdateNetworkBody = Static<typeof UpdateNetworkBody>;
export const NetworkView = Type.Intersect([NetworkPolicy, Type.Object({ sandboxId: Type.String() })], { description: "A sandbox's egress policy (secrets by name)." });
export type NetworkView = Static<typeof NetworkView>;
