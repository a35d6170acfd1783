import { describe, expect, it } from 'vitest';
import { WardenError } from '@warden/protocol';
import { clip, failure } from './results.js';

const action = { tool: 'run_command', noun: 'command' } as const;
const text = (r: ReturnType<typeof failure>): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const findings = [{ ruleId: 'privilege.sudo', category: 'privilege', risk: 'high', decision: 'ask', message: 'Runs a command as another user.', evidence: [], layer: 'server' }];

describe('tool results', () => {
  it('a pending approval is not an error: it names the id, the risk, the rules and how to retry', () => {
    const r = failure(new WardenError('E_APPROVAL_PENDING', 'needs approval', { details: { approvalId: 'apr_abcdefghijkl', risk: 'high', findings, expiresAt: '2030-01-01T00:00:00.000Z' } }), action);
    expect(r.isError).toBeUndefined();
    expect(r.structuredContent).toMatchObject({ status: 'pending_approval', approvalId: 'apr_abcdefghijkl', risk: 'high', ruleIds: ['privilege.sudo'], retry: { tool: 'run_command', approvalId: 'apr_abcdefghijkl' } });
    expect(text(r)).toContain('privilege.sudo (high): Runs a command as another user.');
    expect(text(r)).toContain('call run_command again with exactly the same arguments plus approvalId "apr_abcdefghijkl"');
    expect(text(r)).toContain('2030-01-01T00:00:00.000Z');
  });

  it('a refusal by policy and a denial by a person are errors with their reasons', () => {
    const byPolicy = failure(new WardenError('E_GUARD_DENIED', 'refused', { details: { decision: 'deny', risk: 'critical', findings: [{ ...findings[0], ruleId: 'fs.rm-root', risk: 'critical' }] } }), action);
    expect(byPolicy.isError).toBe(true);
    expect(byPolicy.structuredContent).toMatchObject({ status: 'denied', risk: 'critical', ruleIds: ['fs.rm-root'] });
    expect(text(byPolicy)).toContain("the guard's policy denies this command (risk critical)");
    const byPerson = failure(new WardenError('E_GUARD_DENIED', 'denied', { details: { approvalId: 'apr_abcdefghijkl', state: 'denied', reason: 'not today', findings } }), action);
    expect(byPerson.structuredContent).toMatchObject({ status: 'denied', approvalId: 'apr_abcdefghijkl', reason: 'not today' });
    expect(text(byPerson)).toContain('approval apr_abcdefghijkl was denied (reason: not today)');
  });

  it('any other error carries its code and message; an unexpected one says so', () => {
    const r = failure(new WardenError('E_SANDBOX_CLOSED', 'Sandbox sbx_x has ended (killed). Create a new sandbox.'));
    expect(r).toMatchObject({ isError: true, structuredContent: { status: 'error', code: 'E_SANDBOX_CLOSED' } });
    expect(text(r)).toBe('Sandbox sbx_x has ended (killed). Create a new sandbox. [E_SANDBOX_CLOSED]');
    // Without an action a pending approval is just an error (no tool to retry).
    expect(failure(new WardenError('E_APPROVAL_PENDING', 'x', { details: {} })).isError).toBe(true);
    expect(failure(new TypeError('boom'))).toMatchObject({ isError: true, structuredContent: { code: 'E_INTERNAL', message: 'boom' } });
  });

  it('clips long text in the middle and says how much is missing', () => {
    expect(clip('abc', 10)).toBe('abc');
    const c = clip('a'.repeat(50) + 'b'.repeat(50), 20);
    expect(c.startsWith('a'.repeat(10))).toBe(true);
    expect(c.endsWith('b'.repeat(10))).toBe(true);
    expect(c).toContain('80 characters omitted');
  });
});
