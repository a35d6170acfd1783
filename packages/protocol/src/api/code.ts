/**
 * Code contexts over HTTP: stateful Python and JavaScript interpreters in a
 * sandbox that run cells and return their output, the value of the last
 * expression, rich results (PNG, SVG, HTML, JSON) and errors. The shapes
 * follow E2B's code interpreter (`results`, `logs`, `error`, `executionCount`)
 * so an E2B adapter can pass them through.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EnvMap } from '../spec.js';
import { ApprovalFields } from './commands.js';
import { SandboxIdParams } from './common.js';

export const CodeLanguage = Type.Union([Type.Literal('python'), Type.Literal('javascript')], {
  description: 'python: the sandbox’s python3. javascript: Node.js (the sandbox’s node).',
  expects: '"python" or "javascript"',
});
export type CodeLanguage = Static<typeof CodeLanguage>;

const Text = (description: string) => Type.Optional(Type.String({ description }));

/** One representation set of a value: the last expression's (`isMainResult`), a display() call's or a figure's. */
export const CodeResult = Type.Object({
  isMainResult: Type.Boolean({ description: 'true for the value of the cell’s last expression; false for display() calls and figures.' }),
  text: Text('Plain text (Python repr, Node util.inspect).'),
  html: Text('HTML, e.g. a pandas DataFrame.'),
  markdown: Text('Markdown.'),
  svg: Text('SVG image (XML text).'),
  png: Text('PNG image, base64, e.g. a matplotlib figure.'),
  jpeg: Text('JPEG image, base64.'),
  pdf: Text('PDF, base64.'),
  latex: Text('LaTeX.'),
  javascript: Text('JavaScript.'),
  json: Type.Optional(Type.Unknown({ description: 'Any JSON value: `_repr_json_` in Python; plain objects and arrays in JavaScript.' })),
  extra: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Other MIME types from `_repr_mimebundle_`.' })),
});
export type CodeResult = Static<typeof CodeResult>;

export const CodeError = Type.Object({
  name: Type.String({
    description:
      'The exception’s type (ZeroDivisionError, TypeError, …), or what stopped the cell: TimeoutError, AbortError, OutputLimitExceeded, InterpreterExited, ContextRestarted, ContextClosed, SandboxClosed, ProtocolError.',
  }),
  value: Type.String({ description: 'Its message.' }),
  traceback: Type.String({ description: 'The formatted traceback or stack, starting at the cell’s own frames.' }),
});
export type CodeError = Static<typeof CodeError>;

/** What one cell did. A failing cell is an Execution with `error`, not an error response. */
export const Execution = Type.Object({
  contextId: Type.String({ description: 'The context the cell ran in (the language’s default context when none was named).' }),
  results: Type.Array(CodeResult),
  logs: Type.Object({
    stdout: Type.Array(Type.String(), { description: 'Text written to stdout, in chunks as it arrived.' }),
    stderr: Type.Array(Type.String()),
  }),
  error: Type.Optional(CodeError),
  executionCount: Type.Integer({ description: 'This cell’s number in its interpreter (1 after a start or restart).' }),
  durationMs: Type.Number(),
  truncated: Type.Boolean({ description: 'Output and results passed maxOutputBytes: the rest was dropped and the cell interrupted (error OutputLimitExceeded).' }),
  stateLost: Type.Boolean({ description: 'The interpreter ended during this cell (it exited, crashed, or would not stop): its variables and imports are gone, and the next cell starts a fresh one.' }),
});
export type Execution = Static<typeof Execution>;

const ContextId = Type.String({ pattern: '^ctx_[a-z2-7]{12}$', expects: 'a code context id like ctx_abcdefghijkl', hint: 'Use an id returned by POST /v1/sandboxes/{id}/code/contexts.' });

export const RunCodeBody = Type.Object(
  {
    code: Type.String({ maxLength: 1_048_576, description: 'The cell: any number of statements; the value of the last expression is the main result.' }),
    language: Type.Optional(CodeLanguage),
    contextId: Type.Optional(ContextId),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: 'Interrupt the cell after this long (default: the sandbox’s limits.timeoutMs).' })),
    maxOutputBytes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 67_108_864, description: 'Cap on output and results of this cell (default: the sandbox’s limits.maxOutputBytes; over the API at most 64 MiB).' }),
    ),
    stream: Type.Optional(Type.Boolean({ description: 'Answer with NDJSON events (application/x-ndjson) as output and results arrive.' })),
    ...ApprovalFields,
  },
  { additionalProperties: false, hint: 'Pass code, and language or contextId (default: the python default context).' },
);
export type RunCodeBody = Static<typeof RunCodeBody>;

export const CreateCodeContextBody = Type.Object(
  {
    language: Type.Optional(CodeLanguage),
    cwd: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$', expects: 'an absolute path inside the sandbox' })),
    env: Type.Optional(EnvMap),
  },
  { additionalProperties: false },
);
export type CreateCodeContextBody = Static<typeof CreateCodeContextBody>;

export const CodeContextParams = Type.Object({ id: SandboxIdParams.properties.id, cid: ContextId }, { additionalProperties: false });

export const CodeContextView = Type.Object({
  id: Type.String(),
  sandboxId: Type.String(),
  language: CodeLanguage,
  cwd: Type.String(),
  isDefault: Type.Boolean({ description: 'The context runCode uses for its language when no context is named.' }),
  createdAt: Type.String({ format: 'date-time' }),
  started: Type.Boolean({ description: 'Its interpreter runs now (it starts with the first cell, and again after a restart or a crash).' }),
  busy: Type.Boolean(),
  executionCount: Type.Integer({ description: 'Cells its current interpreter has run.' }),
  restarts: Type.Integer({ description: 'Interpreters started after the first (restarts, and starts after a crash).' }),
});
export type CodeContextView = Static<typeof CodeContextView>;

/** One line of an NDJSON code stream: output and results as they arrive, then `end` (or `error` when the request failed). */
export const CodeEvent = Type.Union([
  Type.Object({ type: Type.Literal('stdout'), seq: Type.Integer(), text: Type.String() }),
  Type.Object({ type: Type.Literal('stderr'), seq: Type.Integer(), text: Type.String() }),
  Type.Object({ type: Type.Literal('result'), seq: Type.Integer(), result: CodeResult }),
  Type.Object({ type: Type.Literal('end'), seq: Type.Integer(), execution: Execution }),
  Type.Object({ type: Type.Literal('error'), seq: Type.Integer(), code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
]);
export type CodeEvent = Static<typeof CodeEvent>;
