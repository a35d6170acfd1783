/** Commands over HTTP: run to completion, stream, background + reattach, stdin, signals, PTY. */
import { Type, type Static } from '@sinclair/typebox';
import { EnvMap, ExecResult } from '../spec.js';
import { Base64, SandboxIdParams } from './common.js';

export const Pty = Type.Object(
  { cols: Type.Integer({ minimum: 1, maximum: 1000 }), rows: Type.Integer({ minimum: 1, maximum: 1000 }) },
  { additionalProperties: false, description: 'Run in a pseudo-terminal of this size (stdout and stderr are then one stream).' },
);

/** Fields of every guarded request: the approval it carries, or how long to wait for one. */
export const ApprovalFields = {
  approvalId: Type.Optional(Type.String({ pattern: '^apr_[a-z2-7]{12}$', expects: 'an approval id from an E_APPROVAL_PENDING error', description: 'An approved approval for exactly this action.' })),
  approvalWaitMs: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'When the guard asks for an approval, wait this long for a person to decide (default 0: answer 428 E_APPROVAL_PENDING at once).' }),
  ),
};

export const RunCommandBody = Type.Object(
  {
    cmd: Type.Optional(Type.String({ minLength: 1, maxLength: 1_048_576, description: 'A shell command line, run with bash -c (sh when bash is missing).' })),
    argv: Type.Optional(Type.Array(Type.String({ maxLength: 1_048_576 }), { minItems: 1, maxItems: 65_536, description: 'Exact argv, no shell.' })),
    cwd: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$', expects: 'an absolute path inside the sandbox' })),
    env: Type.Optional(EnvMap),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    maxOutputBytes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 67_108_864, description: 'Output cap for this command (default: the sandbox limit). Over the API at most 64 MiB: the server keeps output for reattaching; write bigger output to a file and download it.' }),
    ),
    stdin: Type.Optional(Type.Union([Base64, Type.Boolean()], { description: 'base64 bytes written then closed; true keeps stdin open for POST …/stdin.' })),
    background: Type.Optional(Type.Boolean({ description: 'Answer at once with the command id; follow it with GET …/events.' })),
    stream: Type.Optional(Type.Boolean({ description: 'Answer with NDJSON events (application/x-ndjson) as output arrives.' })),
    pty: Type.Optional(Pty),
    ...ApprovalFields,
  },
  { additionalProperties: false, hint: 'Pass either cmd or argv.' },
);
export type RunCommandBody = Static<typeof RunCommandBody>;

export const CommandParams = Type.Object(
  { id: SandboxIdParams.properties.id, cid: Type.String({ pattern: '^cmd_[a-z2-7]{12}$', expects: 'a command id like cmd_abcdefghijkl' }) },
  { additionalProperties: false },
);

export const CommandView = Type.Object({
  id: Type.String(),
  sandboxId: Type.String(),
  argv: Type.Array(Type.String()),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  pty: Type.Boolean(),
  startedAt: Type.String({ format: 'date-time' }),
  running: Type.Boolean(),
  result: Type.Union([ExecResult, Type.Null()]),
});
export type CommandView = Static<typeof CommandView>;

/** One line of an NDJSON command stream. `seq` counts events so a client can reattach with ?after=seq. */
export const CommandEvent = Type.Union([
  Type.Object({ type: Type.Literal('start'), seq: Type.Integer(), id: Type.String(), pid: Type.Union([Type.Integer(), Type.Null()]) }),
  Type.Object({ type: Type.Literal('stdout'), seq: Type.Integer(), data: Base64 }),
  Type.Object({ type: Type.Literal('stderr'), seq: Type.Integer(), data: Base64 }),
  Type.Object({ type: Type.Literal('end'), seq: Type.Integer(), result: ExecResult }),
  Type.Object({ type: Type.Literal('error'), seq: Type.Integer(), code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
]);
export type CommandEvent = Static<typeof CommandEvent>;

export const EventsQuery = Type.Object(
  { after: Type.Optional(Type.Integer({ minimum: -1, default: -1, description: 'Replay events with seq greater than this.' })) },
  { additionalProperties: false },
);

export const StdinBody = Type.Object({ data: Type.Optional(Base64), eof: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export const SignalBody = Type.Object(
  {
    signal: Type.Optional(Type.String({ pattern: '^(SIG)?[A-Z0-9]+$', default: 'SIGKILL', expects: 'a signal name like SIGTERM' })),
    scope: Type.Optional(
      Type.Union([Type.Literal('process'), Type.Literal('group'), Type.Literal('tree'), Type.Literal('descendants')], {
        default: 'tree',
        description: 'process; its process group; its whole tree (default); or descendants: the tree without the process itself.',
      }),
    ),
  },
  { additionalProperties: false },
);
export const ResizeBody = Pty;
