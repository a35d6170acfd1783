/** Sessions over HTTP: a long-lived shell whose cwd, env and variables persist between commands. */
import { ApprovalFields } from './commands.js';
import { Type, type Static } from '@sinclair/typebox';
import { EnvMap } from '../spec.js';
import { SandboxIdParams } from './common.js';

export const CreateSessionBody = Type.Object(
  { cwd: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$', expects: 'an absolute path inside the sandbox' })), env: Type.Optional(EnvMap) },
  { additionalProperties: false },
);
export const SessionParams = Type.Object(
  { id: SandboxIdParams.properties.id, sid: Type.String({ pattern: '^ses_[a-z2-7]{12}$', expects: 'a session id like ses_abcdefghijkl' }) },
  { additionalProperties: false },
);
export const SessionRunBody = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 1_048_576 }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    maxOutputBytes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 67_108_864, description: 'Output cap for this command (default: the sandbox limit). Over the API at most 64 MiB: the server keeps output for reattaching; write bigger output to a file and download it.' }),
    ),
    stream: Type.Optional(Type.Boolean({ description: 'Answer with NDJSON events as output arrives.' })),
    ...ApprovalFields,
  },
  { additionalProperties: false },
);
export type SessionRunBody = Static<typeof SessionRunBody>;
export const SessionView = Type.Object({
  id: Type.String(),
  sandboxId: Type.String(),
  createdAt: Type.String(),
  busy: Type.Boolean(),
  commandsRun: Type.Integer(),
});
export type SessionView = Static<typeof SessionView>;
