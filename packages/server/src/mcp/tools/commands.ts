/** run_command: a bash command line in a sandbox, waited for. */
import { Type } from '@sinclair/typebox';
import { RunCommandBody, type ExecResult } from '@warden/protocol';
import { Sandbox, type CommandResult } from '@warden/sdk';
import { guardedFailure } from '../approvals.js';
import { clip, ok } from '../results.js';
import { ApprovalId, ApprovalWaitMs, described, SandboxId, TimeoutMs } from '../schemas.js';
import { defineTool } from '../tool.js';

/** How the command ended, in words. */
export function endedHow(r: Pick<ExecResult, 'reason' | 'exitCode' | 'signal' | 'durationMs' | 'truncated'>): string {
  const ms = `${Math.round(r.durationMs)} ms`;
  switch (r.reason) {
    case 'exited':
      return `Exited with code ${String(r.exitCode)} after ${ms}.`;
    case 'signaled':
      return `Killed by ${r.signal ?? 'a signal'} after ${ms}.`;
    case 'timeout':
      return `Timed out after ${ms}: the whole process tree was killed. Pass a larger timeoutMs, or run it in the background (e.g. nohup … &) and poll.`;
    case 'oom':
      return `Ran out of memory and was killed after ${ms}. Create the sandbox with a larger limits.memoryMb.`;
    case 'output-limit':
      return `Printed more output than the limit and was killed after ${ms}; the output is cut. Redirect output to a file and read parts of it.`;
    case 'aborted':
      return `Cancelled after ${ms}.`;
    case 'sandbox-closed':
      return `The sandbox ended while the command ran (after ${ms}). Create a new sandbox.`;
  }
}

export function describeRun(r: ExecResult): string {
  const parts = [endedHow(r)];
  if (r.stdout) parts.push(`stdout:\n${clip(r.stdout)}`);
  if (r.stderr) parts.push(`stderr:\n${clip(r.stderr)}`);
  if (!r.stdout && !r.stderr) parts.push('(no output)');
  else if (r.truncated) parts.push('(output truncated by the output limit)');
  return parts.join('\n');
}

const p = RunCommandBody.properties;
const action = { tool: 'run_command', noun: 'command' } as const;

export const runCommand = defineTool({
  name: 'run_command',
  title: 'Run a command',
  description:
    'Run a shell command line with bash -c in a sandbox and wait for it: returns the exit code, stdout and stderr. State on disk persists between calls; shell state (cd, variables) does not, so pass cwd or chain with &&. ' +
    'A non-zero exit code is a normal result. The guard refuses destructive commands, and holds risky ones (sudo, reading secrets, network tools, …) for a person: the result then says it awaits approval, with an approvalId to retry with.',
  input: Type.Object(
    {
      sandboxId: SandboxId,
      command: Type.String({ minLength: 1, maxLength: 1_048_576, description: 'The command line, e.g. "python3 -m pytest -q 2>&1 | tail -20".' }),
      cwd: described(p.cwd, 'Working directory (absolute). Default /workspace.'),
      env: described(p.env, 'Extra environment variables for this command, e.g. { "DEBUG": "1" }.'),
      stdin: Type.Optional(Type.String({ maxLength: 1_048_576, description: 'Text fed to stdin, which is then closed. Default: empty.' })),
      timeoutMs: TimeoutMs,
      approvalId: ApprovalId,
      approvalWaitMs: ApprovalWaitMs,
    },
    { additionalProperties: false },
  ),
  annotations: { title: 'Run a command', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const { connection, signal } = ctx;
    const sbx = await Sandbox.connect(args.sandboxId, connection);
    let r: CommandResult;
    try {
      r = await sbx.commands.run(args.command, {
        signal,
        ...(args.cwd !== undefined ? { cwd: args.cwd } : {}),
        ...(args.env !== undefined ? { envs: args.env } : {}),
        ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
        ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
        ...(args.approvalId !== undefined ? { approvalId: args.approvalId } : {}),
        ...(args.approvalWaitMs !== undefined ? { approvalWaitMs: args.approvalWaitMs } : {}),
      });
    } catch (err) {
      return guardedFailure(err, action, ctx);
    }
    return ok(describeRun(r), {
      status: 'completed',
      commandId: r.id,
      reason: r.reason,
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: clip(r.stdout),
      stderr: clip(r.stderr),
      truncated: r.truncated,
      durationMs: r.durationMs,
    });
  },
});
