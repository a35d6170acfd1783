/**
 * Input fields the tools share, taken from the API's schemas so a tool
 * accepts exactly what the route behind it does; only the descriptions are
 * rewritten for a model (the API's mention HTTP statuses and flags).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { PathQuery, RunCommandBody, SandboxIdParams } from '@warden/protocol';

/** The same schema with a description a model reads. */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

export const SandboxId = described(SandboxIdParams.properties.id, 'The sandbox to act on: the id create_sandbox returned (sbx_…).');

export const Path = described(PathQuery.properties.path, 'A path inside the sandbox; relative paths start at /workspace.');

export const ApprovalId = described(
  RunCommandBody.properties.approvalId,
  'Only when retrying an action that needed approval: the approvalId from that result, once a person has approved it. The action must be exactly the same.',
);

export const ApprovalWaitMs = described(
  RunCommandBody.properties.approvalWaitMs,
  'When the guard holds the action for a person, wait up to this many ms for their decision instead of returning at once (default 0). Keep it below your client’s request timeout.',
);

export const TimeoutMs = described(RunCommandBody.properties.timeoutMs, 'Wall-clock limit in ms; the whole process tree is killed when it passes. Default: the sandbox’s limit (60 s unless set at creation).');

export const Encoding = Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'utf8 (default) for text; base64 for binary content.' });
