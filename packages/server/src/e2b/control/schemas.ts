/**
 * Request shapes of E2B's control-plane API (its spec/openapi.yml) as the
 * SDKs send them. Options Warden has no equivalent for are typed loosely
 * here and refused by name in create.ts, so the refusal can say what to do.
 */
import { Type, type Static } from '@sinclair/typebox';

const Loose = Type.Unknown();

/** POST /sandboxes (SDK ≤ 2.50) and POST /v2/sandboxes (SDK ≥ 2.51): the same fields, but v1 always sends the SDK's defaults. */
export const NewSandbox = Type.Object(
  {
    templateID: Type.String({ minLength: 1, maxLength: 256, expects: 'a template name such as base' }),
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800, description: 'Seconds until the sandbox is killed.' })),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
    envVars: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
    secure: Type.Optional(Type.Boolean()),
    allow_internet_access: Type.Optional(Type.Boolean()),
    autoPause: Type.Optional(Type.Boolean()),
    autoPauseMemory: Type.Optional(Type.Boolean()),
    autoResume: Type.Optional(Loose),
    mcp: Type.Optional(Loose),
    network: Type.Optional(Loose),
    iam: Type.Optional(Loose),
    volumeMounts: Type.Optional(Loose),
  },
  { additionalProperties: false, hint: 'Warden implements the E2B create fields templateID, timeout, metadata and envVars.' },
);
export type NewSandbox = Static<typeof NewSandbox>;

/** POST /sandboxes/{id}/connect (v1: timeout always sent) and /v2/sandboxes/{id}/connect. */
export const ConnectBody = Type.Object(
  {
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800 })),
    memory: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ConnectBody = Static<typeof ConnectBody>;

export const TimeoutBody = Type.Object({ timeout: Type.Integer({ minimum: 1, maximum: 604_800, description: 'Seconds from now.' }) }, { additionalProperties: false });

export const SandboxIdParam = Type.Object({ sandboxID: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** GET /v2/sandboxes. `state` arrives comma-joined (`running,paused`) or repeated. */
export const ListQuery = Type.Object(
  {
    metadata: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 4 })])),
    startedAfter: Type.Optional(Type.String({ maxLength: 64 })),
    template: Type.Optional(Type.String({ maxLength: 256 })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    nextToken: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

/** GET /sandboxes (the list of SDKs before pagination). */
export const ListAllQuery = Type.Object({ metadata: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
