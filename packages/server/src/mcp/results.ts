/**
 * Tool results a model can act on. A refusal or a failure is a result with
 * `isError` (never a protocol error, never a crash), worded to say what
 * happened and what to do next. An action the guard holds for a person is a
 * plain result: nothing failed, it waits, and the text says how to retry.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isWardenError } from '@warden/protocol';

/** Most characters of one output stream or file put into a result; the rest is elided in the middle. */
export const MAX_TEXT_CHARS = 100_000;

/** `s`, or its head and tail with a marker saying how much was left out. */
export function clip(s: string, max = MAX_TEXT_CHARS): string {
  if (s.length <= max) return s;
  const half = Math.floor(max / 2);
  return `${s.slice(0, half)}\n[… ${s.length - max} characters omitted …]\n${s.slice(s.length - half)}`;
}

export function ok(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: structured } : {}) };
}

interface Finding {
  readonly ruleId: string;
  readonly risk?: string;
  readonly message: string;
}

function findingsOf(details: Record<string, unknown>): Finding[] {
  const raw = details.findings;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((f: unknown) => {
    if (typeof f !== 'object' || f === null) return [];
    const { ruleId, risk, message } = f as Record<string, unknown>;
    return typeof ruleId === 'string' && typeof message === 'string' ? [{ ruleId, message, ...(typeof risk === 'string' ? { risk } : {}) }] : [];
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const reasonLines = (fs: readonly Finding[]): string => fs.map((f) => `- ${f.ruleId}${f.risk ? ` (${f.risk})` : ''}: ${f.message}`).join('\n');

/** What the retry hint names: the tool and the kind of action. */
export interface ActionRef {
  readonly tool: string;
  readonly noun: 'command' | 'code cell';
}

function pending(details: Record<string, unknown>, action: ActionRef): CallToolResult {
  const approvalId = str(details.approvalId) ?? '';
  const risk = str(details.risk) ?? 'unknown';
  const expiresAt = str(details.expiresAt);
  const findings = findingsOf(details);
  const text = [
    `Not run yet: the guard holds this ${action.noun} for a person's approval (risk ${risk}).`,
    findings.length > 0 ? `Why:\n${reasonLines(findings)}` : 'Why: the guard could not analyse it.',
    `Approval ${approvalId} is waiting${expiresAt ? ` until ${expiresAt}` : ''}; if nobody decides by then it is denied.`,
    `Next: ask the user to review it (\`warden approvals approve ${approvalId}\` or deny, or the Warden dashboard), with a key that may decide approvals.`,
    `Once it is approved, call ${action.tool} again with exactly the same arguments plus approvalId "${approvalId}". To wait for the decision within one call instead, pass approvalWaitMs (e.g. 30000) along with approvalId.`,
  ].join('\n');
  return ok(text, {
    status: 'pending_approval',
    approvalId,
    risk,
    ...(expiresAt ? { expiresAt } : {}),
    ruleIds: findings.map((f) => f.ruleId),
    reasons: findings,
    retry: { tool: action.tool, approvalId },
  });
}

function denied(message: string, details: Record<string, unknown>, action: ActionRef): CallToolResult {
  const findings = findingsOf(details);
  const approvalId = str(details.approvalId);
  const risk = str(details.risk);
  const personReason = str(details.reason);
  const head = approvalId
    ? `Refused: approval ${approvalId} was ${str(details.state) ?? 'denied'}${personReason ? ` (reason: ${personReason})` : ''}; the ${action.noun} did not run.`
    : `Refused: the guard's policy denies this ${action.noun}${risk ? ` (risk ${risk})` : ''}; it did not run.`;
  const text = [
    head,
    findings.length > 0 ? `Rules:\n${reasonLines(findings)}` : message,
    approvalId ? 'Do not retry the same action; change it, or ask the user why it was denied.' : 'Retrying the same action is refused again: change it, or ask the operator to change the policy.',
  ].join('\n');
  return {
    ...ok(text, { status: 'denied', ...(risk ? { risk } : {}), ...(approvalId ? { approvalId } : {}), ...(personReason ? { reason: personReason } : {}), ruleIds: findings.map((f) => f.ruleId), reasons: findings }),
    isError: true,
  };
}

/**
 * The result for anything a tool threw: a pending approval, a refusal by the
 * guard, or an error with its code and message (which say what to do).
 */
export function failure(err: unknown, action?: ActionRef): CallToolResult {
  if (isWardenError(err)) {
    const details = err.details as Record<string, unknown>;
    if (action && err.code === 'E_APPROVAL_PENDING') return pending(details, action);
    if (action && err.code === 'E_GUARD_DENIED') return denied(err.message, details, action);
    return { ...ok(`${err.message} [${err.code}]`, { status: 'error', code: err.code, message: err.message }), isError: true };
  }
  if ((err as Error | undefined)?.name === 'AbortError') return { ...ok('Cancelled before it finished.', { status: 'cancelled' }), isError: true };
  const message = err instanceof Error ? err.message : String(err);
  return { ...ok(`The Warden MCP server failed unexpectedly: ${message}`, { status: 'error', code: 'E_INTERNAL', message }), isError: true };
}
