/** run_code: a cell of Python or JavaScript in a stateful context. */
import { Type } from '@sinclair/typebox';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RunCodeBody, type CodeResult, type Execution } from '@warden/protocol';
import { Sandbox } from '@warden/sdk';
import { guardedFailure } from '../approvals.js';
import { clip } from '../results.js';
import { ApprovalId, ApprovalWaitMs, described, SandboxId, TimeoutMs } from '../schemas.js';
import { defineTool } from '../tool.js';

type Content = CallToolResult['content'][number];

/** Most characters of an HTML, SVG or LaTeX representation shown when a result has no plain text. */
const MAX_RICH_CHARS = 4_000;
const IMAGES = [
  ['png', 'image/png'],
  ['jpeg', 'image/jpeg'],
] as const;

function resultText(r: CodeResult): string | undefined {
  if (r.text !== undefined) return r.text;
  if (r.markdown !== undefined) return r.markdown;
  if (r.json !== undefined) return JSON.stringify(r.json);
  const rich = r.html ?? r.svg ?? r.latex;
  return rich === undefined ? undefined : clip(rich, MAX_RICH_CHARS);
}

/** The execution as text plus image blocks for figures, and a copy without the base64 payloads. */
export function describeExecution(e: Execution): { content: Content[]; structured: Record<string, unknown> } {
  const lines: string[] = [];
  const images: Content[] = [];
  const stdout = e.logs.stdout.join('');
  const stderr = e.logs.stderr.join('');
  if (stdout) lines.push(`stdout:\n${clip(stdout)}`);
  if (stderr) lines.push(`stderr:\n${clip(stderr)}`);
  for (const r of e.results) {
    for (const [field, mimeType] of IMAGES) {
      const data = r[field];
      if (data !== undefined) images.push({ type: 'image', data, mimeType });
    }
    const t = resultText(r);
    if (t !== undefined) lines.push(`${r.isMainResult ? 'Result' : 'Displayed'}:\n${clip(t)}`);
    else if (r.png !== undefined || r.jpeg !== undefined) lines.push(`${r.isMainResult ? 'Result' : 'Displayed'}: an image (attached).`);
  }
  if (e.error) lines.push(`Error: ${e.error.name}: ${e.error.value}\n${clip(e.error.traceback)}`);
  if (e.stateLost) lines.push('The interpreter ended during this cell: its variables and imports are gone; the next cell starts a fresh one.');
  if (e.truncated) lines.push('(output cut at the output limit)');
  const head = `Cell ${e.executionCount} in context ${e.contextId} ${e.error ? 'raised an error' : 'ran'} in ${Math.round(e.durationMs)} ms.`;
  const text = [head, ...(lines.length > 0 ? lines : ['(no output and no value)'])].join('\n');
  const results = e.results.map(({ png, jpeg, pdf, ...rest }) => ({ ...rest, ...(png !== undefined || jpeg !== undefined || pdf !== undefined ? { binary: [png && 'png', jpeg && 'jpeg', pdf && 'pdf'].filter(Boolean) } : {}) }));
  return {
    content: [{ type: 'text', text }, ...images],
    structured: { status: 'completed', contextId: e.contextId, executionCount: e.executionCount, stdout: clip(stdout), stderr: clip(stderr), results, error: e.error ?? null, durationMs: e.durationMs, truncated: e.truncated, stateLost: e.stateLost },
  };
}

const p = RunCodeBody.properties;
const action = { tool: 'run_code', noun: 'code cell' } as const;

export const runCode = defineTool({
  name: 'run_code',
  title: 'Run Python or JavaScript',
  description:
    'Run a cell of Python (default) or JavaScript in a stateful interpreter inside a sandbox, like a notebook: variables, functions and imports persist between calls in the same context. ' +
    'Returns stdout, stderr, the value of the last expression, figures (matplotlib) as images, and the exception with its traceback if one was raised. ' +
    'The guard checks the code first: risky code is held for a person (the result gives an approvalId to retry with) and destructive code is refused.',
  input: Type.Object(
    {
      sandboxId: SandboxId,
      code: described(p.code, 'The cell: any number of statements; the value of the last expression is returned.'),
      language: described(p.language, 'python (default) or javascript.'),
      contextId: described(p.contextId, 'Run in this context instead of the language’s default one.'),
      timeoutMs: TimeoutMs,
      approvalId: ApprovalId,
      approvalWaitMs: ApprovalWaitMs,
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'Run Python or JavaScript', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const { connection, signal } = ctx;
    const sbx = await Sandbox.connect(args.sandboxId, connection);
    let e: Execution;
    try {
      e = await sbx.runCode(args.code, {
        signal,
        ...(args.language !== undefined ? { language: args.language } : {}),
        ...(args.contextId !== undefined ? { context: args.contextId } : {}),
        ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
        ...(args.approvalId !== undefined ? { approvalId: args.approvalId } : {}),
        ...(args.approvalWaitMs !== undefined ? { approvalWaitMs: args.approvalWaitMs } : {}),
      });
    } catch (err) {
      return guardedFailure(err, action, ctx);
    }
    const { content, structured } = describeExecution(e);
    return { content, structuredContent: structured };
  },
});
