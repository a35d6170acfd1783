/** Shapes shared by every API resource. */
import { Type, type Static } from '@sinclair/typebox';

export const SandboxIdParams = Type.Object(
  { id: Type.String({ pattern: '^sbx_[a-z2-7]{12}$', expects: 'a sandbox id like sbx_abcdefghijkl', hint: 'Use an id returned by POST /v1/sandboxes.' }) },
  { additionalProperties: false },
);

/** The body of every error response. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code (see docs/errors.md). Branch on this, never on message.' }),
    message: Type.String({ description: 'What happened and what to do, for people.' }),
    details: Type.Record(Type.String(), Type.Unknown()),
    requestId: Type.String(),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Cursor pagination: pass `nextCursor` back as `cursor` until it is null. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, hint: 'Pass limit between 1 and 1000.' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, hint: 'Pass the nextCursor of the previous page.' })),
};

/** Bytes on the wire: base64 in JSON so any byte survives. */
export const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 16_777_216, expects: 'base64 text', hint: 'Encode bytes as base64.' });
