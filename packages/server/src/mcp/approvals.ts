/**
 * The failure result of a guarded action (a command, a code cell), with the
 * person's decision spelled out. Retrying with an approval a person denied
 * (or let expire) answers E_APPROVAL_DECIDED, which names only its state; the
 * model is better served by the reasons, so they are looked up.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { hasCode, WardenError } from '@warden/protocol';
import { WardenClient } from '@warden/sdk';
import { failure, type ActionRef } from './results.js';
import type { ToolContext } from './tool.js';

export async function guardedFailure(err: unknown, action: ActionRef, ctx: ToolContext): Promise<CallToolResult> {
  if (!hasCode(err, 'E_APPROVAL_DECIDED')) return failure(err, action);
  const { approvalId, state } = err.details as { approvalId?: unknown; state?: unknown };
  if (typeof approvalId !== 'string' || (state !== 'denied' && state !== 'expired')) return failure(err, action);
  // The agent's key can read its tenant's approvals (sandboxes:read); without it, the error as is.
  const a = await new WardenClient(ctx.connection).approvals.get(approvalId).catch(() => undefined);
  if (!a) return failure(err, action);
  const reason = a.reason ?? (state === 'expired' ? 'nobody decided in time' : undefined);
  return failure(
    new WardenError('E_GUARD_DENIED', err.message, {
      details: { approvalId, state: a.state, decision: 'deny', risk: a.risk, findings: a.findings, ...(reason ? { reason } : {}) },
    }),
    action,
  );
}
