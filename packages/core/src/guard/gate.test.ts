import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WardenError } from '@warden/protocol';
import { Approvals } from './approvals.js';
import { Gate, type GateDeps } from './gate.js';
import { createGuard, type Guard, type Policy } from './guard.js';
import type { AuditSinkEvent } from '../audit/sink.js';

const POLICY = `version: 1
mode: enforce
rules:
  - id: t.deny-rm
    category: fs-destructive
    risk: critical
    decision: deny
    message: no rm
    when: { command: { program: [rm] } }
    examples: { match: ['rm x'], not_match: ['ls'] }
  - id: t.ask-curl
    category: network-egress
    risk: medium
    decision: ask
    message: curl needs a person
    when: { command: { program: [curl] } }
    examples: { match: ['curl x'], not_match: ['ls'] }
`;

let guard: Guard;
beforeAll(async () => {
  guard = await createGuard({ policies: [{ layer: 'server', source: POLICY }] });
});
afterAll(() => guard.close());

interface Recorded {
  e: AuditSinkEvent;
  durable: boolean;
}

function setup(over: Partial<GateDeps> = {}): { gate: Gate; approvals: Approvals; events: Recorded[] } {
  const events: Recorded[] = [];
  const approvals = new Approvals();
  const gate = new Gate({
    sandboxId: 'sbx_aaaaaaaaaaaa',
    tenant: 't1',
    guard,
    layers: [],
    approvals,
    audit: { append: (e, o) => void events.push({ e, durable: o?.durable === true }) },
    ...over,
  });
  return { gate, approvals, events };
}

function caught(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WardenError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('Gate', () => {
  it('allow: admitted, and the decision is durably on record before the caller starts anything', () => {
    const { gate, events } = setup();
    const a = gate.admit('command', { argv: ['ls', '-la'] }, { actor: 'key:k1' });
    expect(a).toMatchObject({ by: 'policy', actor: 'key:k1', result: { decision: 'allow' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ e: { action: 'command.start', decision: 'allow', outcome: 'started', actor: 'key:k1', sandboxId: 'sbx_aaaaaaaaaaaa', tenant: 't1' }, durable: true });
    gate.finished(a, 'exited:0');
    expect(events[1]).toMatchObject({ e: { action: 'command.end', outcome: 'exited:0' }, durable: false });
  });

  it('ask: the approval a person (and every reader of the tenant) sees has secrets in the action masked', () => {
    const { gate, approvals } = setup();
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const err = caught(() => gate.admit('command', { argv: ['curl', '-H', `Authorization: token ${token}`, 'https://api.github.com/user'] }, { actor: 'key:k1' }));
    expect(err.code).toBe('E_APPROVAL_PENDING');
    const approval = approvals.get((err.details as { approvalId: string }).approvalId);
    expect(approval.preview).toContain('curl');
    expect(approval.preview).toContain('[REDACTED');
    expect(approval.preview).not.toContain(token);
    approvals.close();
  });

  it('deny: refused with the rule, recorded as denied', () => {
    const { gate, events } = setup();
    const err = caught(() => gate.admit('command', { argv: ['/bin/rm', '-rf', '/tmp/x'] }));
    expect(err.code).toBe('E_GUARD_DENIED');
    expect(err.details).toMatchObject({ decision: 'deny', risk: 'critical', findings: [expect.objectContaining({ ruleId: 't.deny-rm' })] });
    expect(events.map((x) => [x.e.outcome, x.e.decision, x.durable])).toEqual([['denied', 'deny', true]]);
  });

  it('ask: an approval is created and the caller learns its id; waiting callers are admitted once approved', async () => {
    const { gate, approvals, events } = setup();
    const err = caught(() => gate.admit('session', { language: 'bash', code: 'curl http://x' }, { actor: 'key:agent' }));
    expect(err.code).toBe('E_APPROVAL_PENDING');
    const id = (err.details as { approvalId: string }).approvalId;
    expect(approvals.get(id)).toMatchObject({ state: 'pending', requestedBy: 'key:agent', kind: 'session' });
    expect(events.at(-1)?.e).toMatchObject({ action: 'session.command', outcome: 'pending', details: { approvalId: id } });

    const waiting = gate.admitWaiting('session', { language: 'bash', code: 'curl http://y' }, { actor: 'key:agent', approvalWaitMs: 10_000 });
    expect(waiting).toBeInstanceOf(Promise);
    const second = approvals.list({ state: 'pending' }).find((a) => a.preview.includes('http://y'));
    approvals.decide(second?.id ?? '', { approve: true, by: 'key:human' });
    await expect(waiting).resolves.toMatchObject({ by: 'approval', approvalId: second?.id });
    approvals.close();
  });

  it('a retry that presents its still-pending approval id with approvalWaitMs waits for that approval, and creates no second one', async () => {
    const { gate, approvals } = setup();
    const first = caught(() => gate.admit('command', { argv: ['curl', 'w'] }, { actor: 'key:agent' }));
    const id = (first.details as { approvalId: string }).approvalId;
    const waiting = gate.admitWaiting('command', { argv: ['curl', 'w'] }, { actor: 'key:agent', approvalId: id, approvalWaitMs: 10_000 });
    expect(waiting).toBeInstanceOf(Promise);
    expect(approvals.list({ state: 'pending' }).map((a) => a.id)).toEqual([id]);
    approvals.decide(id, { approve: true, by: 'key:human' });
    await expect(waiting).resolves.toMatchObject({ by: 'approval', approvalId: id });
    approvals.close();
  });

  it('checks stdin given up front to a shell as part of the action, with a stable digest; binary stdin is data', () => {
    const { gate } = setup();
    expect(caught(() => gate.admit('command', { argv: ['bash'], stdin: 'rm x\n' })).code).toBe('E_GUARD_DENIED');
    const a = gate.admit('command', { argv: ['bash'], stdin: 'echo hi\n' });
    const b = gate.admit('command', { argv: ['bash'], stdin: 'echo hi\n' });
    expect(a.result?.digest).toBe(b.result?.digest);
    expect(gate.admit('command', { argv: ['bash'], stdin: 'echo hello\n' }).result?.digest).not.toBe(a.result?.digest);
    expect(gate.admit('command', { argv: ['bash'], stdin: new Uint8Array([0, 159, 146, 150]) }).result?.decision).toBe('allow');
  });

  it('admitWaiting answers without a promise when nothing waits', () => {
    const { gate } = setup();
    expect(gate.admitWaiting('command', { argv: ['true'] }, { approvalWaitMs: 5000 })).not.toBeInstanceOf(Promise);
  });

  it('a waiting caller whose approval is denied gets E_GUARD_DENIED with the reason', async () => {
    const { gate, approvals } = setup();
    const waiting = gate.admitWaiting('command', { argv: ['curl', 'z'] }, { actor: 'key:agent', approvalWaitMs: 10_000 });
    const id = approvals.list({ state: 'pending' })[0]?.id ?? '';
    approvals.decide(id, { approve: false, by: 'key:human', reason: 'no network' });
    const err = await (waiting as Promise<unknown>).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_GUARD_DENIED' });
    expect((err as Error).message).toContain('no network');
    approvals.close();
  });

  it('audit-only: everything runs, the would-be decision is recorded', async () => {
    const watching = await createGuard({ policies: [{ layer: 'server', source: POLICY.replace('mode: enforce', 'mode: audit-only') }] });
    try {
      const { gate, events } = setup({ guard: watching });
      expect(gate.admit('command', { argv: ['rm', 'x'] })).toMatchObject({ by: 'audit-only', result: { decision: 'deny', mode: 'audit-only' } });
      expect(events[0]?.e).toMatchObject({ decision: 'deny', outcome: 'started (audit-only)', ruleIds: ['t.deny-rm'] });
    } finally {
      watching.close();
    }
    const layer: Policy = guard.loadPolicy('version: 1\nmode: audit-only\nrules: []\n', { layer: 'tenant' });
    // audit-only is weaker than the server's enforce: the strictest mode wins, so enforce stays.
    const { gate: strict } = setup({ layers: [layer] });
    expect(caught(() => strict.admit('command', { argv: ['rm', 'x'] })).code).toBe('E_GUARD_DENIED');
  });

  it('asks the layers function on every check, so a changed layer applies at once', () => {
    let layers: Policy[] = [];
    const { gate } = setup({ layers: () => layers });
    expect(gate.admit('command', { argv: ['python3', '-V'] }).result?.decision).toBe('allow');
    layers = [guard.loadPolicy("version: 1\nrules:\n  - id: t.no-py\n    category: process-spawn\n    risk: low\n    decision: deny\n    message: no python\n    when: { command: { program: ['python*'] } }\n    examples: { match: ['python3 -V'], not_match: ['ls'] }\n", { layer: 'tenant' })];
    expect(caught(() => gate.admit('command', { argv: ['python3', '-V'] })).code).toBe('E_GUARD_DENIED');
  });

  it('an audit log that cannot record a decision stops the action (E_AUDIT_UNAVAILABLE), whatever the decision', () => {
    const { gate } = setup({
      audit: {
        append: () => {
          throw new Error('disk I/O error');
        },
      },
    });
    expect(caught(() => gate.admit('command', { argv: ['ls'] })).code).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('a once approval whose use cannot be recorded is not spent: nothing runs, and the retry works', () => {
    let failing = false;
    const events: Recorded[] = [];
    const approvals = new Approvals();
    const { gate } = setup({
      approvals,
      audit: {
        append: (e, o) => {
          if (failing && o?.durable) throw new Error('disk full');
          events.push({ e, durable: o?.durable === true });
        },
      },
    });
    const id = (caught(() => gate.admit('command', { argv: ['curl', 'u'] }, { actor: 'key:agent' })).details as { approvalId: string }).approvalId;
    approvals.decide(id, { approve: true, by: 'key:human' });
    failing = true;
    expect(caught(() => gate.admit('command', { argv: ['curl', 'u'] }, { actor: 'key:agent', approvalId: id })).code).toBe('E_AUDIT_UNAVAILABLE');
    expect(approvals.get(id).state).toBe('approved');
    failing = false;
    expect(gate.admit('command', { argv: ['curl', 'u'] }, { actor: 'key:agent', approvalId: id })).toMatchObject({ by: 'approval', approvalId: id });
    expect(approvals.get(id).state).toBe('used');
    approvals.close();
  });

  it('without a guard, actions are admitted and still recorded', () => {
    const { gate, events } = setup({ guard: undefined });
    expect(gate.admit('command', { argv: ['rm', '-rf', '/'] }).by).toBe('no-guard');
    expect(events[0]?.e).toMatchObject({ action: 'command.start', preview: 'rm -rf /', outcome: 'started' });
  });
});
