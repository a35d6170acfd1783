import { describe, expect, it, vi } from 'vitest';
import { WardenError } from '@warden/protocol';
import { Approvals, type ApprovalRequest } from './approvals.js';
import type { AuditSinkEvent } from '../audit/sink.js';

function recorder(): { events: Array<{ e: AuditSinkEvent; durable: boolean }>; append(e: AuditSinkEvent, o?: { durable?: boolean }): void } {
  const events: Array<{ e: AuditSinkEvent; durable: boolean }> = [];
  return { events, append: (e, o) => void events.push({ e, durable: o?.durable === true }) };
}

const REQ: ApprovalRequest = {
  sandboxId: 'sbx_aaaaaaaaaaaa',
  tenant: 't1',
  requestedBy: 'key:agent',
  kind: 'command',
  language: 'bash',
  digest: 'd'.repeat(64),
  preview: 'sudo apt-get install x',
  risk: 'high',
  findings: [],
};
const ACTION = { sandboxId: REQ.sandboxId, language: REQ.language, digest: REQ.digest };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof WardenError ? err.code : 'not-a-warden-error';
  }
  return undefined;
}

describe('Approvals', () => {
  it('approve once: the action is admitted exactly once, and every step is on record durably', () => {
    const audit = recorder();
    const approvals = new Approvals({ audit });
    const a = approvals.request(REQ);
    expect(a.state).toBe('pending');
    expect(approvals.decide(a.id, { approve: true, by: 'key:human' }).state).toBe('approved');
    expect(approvals.consume(a.id, ACTION).state).toBe('used');
    expect(codeOf(() => approvals.consume(a.id, ACTION))).toBe('E_APPROVAL_DECIDED');
    expect(audit.events.map((x) => [x.e.action, x.e.outcome, x.durable])).toEqual([
      ['approval.request', 'pending', true],
      ['approval.decide', 'approved', true],
    ]);
    approvals.close();
  });

  it('deny: the approval cannot be used, and cannot be decided again', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    const d = approvals.decide(a.id, { approve: false, by: 'key:human', reason: 'not today' });
    expect(d).toMatchObject({ state: 'denied', reason: 'not today', decidedBy: 'key:human' });
    expect(codeOf(() => approvals.consume(a.id, ACTION))).toBe('E_APPROVAL_DECIDED');
    expect(codeOf(() => approvals.decide(a.id, { approve: true, by: 'key:human' }))).toBe('E_APPROVAL_DECIDED');
    approvals.close();
  });

  it('expires as denied when nobody decides in time, and wakes whoever waits', async () => {
    const audit = recorder();
    const approvals = new Approvals({ timeoutMs: 50, audit });
    const a = approvals.request(REQ);
    const decided = await approvals.wait(a.id, { timeoutMs: 10_000 });
    expect(decided.state).toBe('expired');
    expect(codeOf(() => approvals.consume(a.id, ACTION))).toBe('E_APPROVAL_DECIDED');
    expect(audit.events.at(-1)?.e).toMatchObject({ action: 'approval.expire', outcome: 'expired', actor: 'system' });
    approvals.close();
  });

  it('approve for the session: the same action in that sandbox is granted from now on, other actions and sandboxes are not', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    expect(approvals.granted(REQ.sandboxId, REQ.digest)).toBe(false);
    approvals.decide(a.id, { approve: true, scope: 'session', by: 'key:human' });
    expect(approvals.granted(REQ.sandboxId, REQ.digest)).toBe(true);
    expect(approvals.granted(REQ.sandboxId, 'e'.repeat(64))).toBe(false);
    expect(approvals.granted('sbx_bbbbbbbbbbbb', REQ.digest)).toBe(false);
    // A session approval can be presented again and again.
    expect(approvals.consume(a.id, ACTION).state).toBe('approved');
    expect(approvals.consume(a.id, ACTION).state).toBe('approved');
    approvals.forgetSandbox(REQ.sandboxId);
    expect(approvals.granted(REQ.sandboxId, REQ.digest)).toBe(false);
    approvals.close();
  });

  it('the key that asked can never decide, whatever its scopes', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    expect(codeOf(() => approvals.decide(a.id, { approve: true, by: REQ.requestedBy }))).toBe('E_APPROVAL_FORBIDDEN');
    expect(approvals.get(a.id).state).toBe('pending');
    approvals.close();
  });

  it('an approval replayed for a different action, sandbox or language is refused', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    approvals.decide(a.id, { approve: true, by: 'key:human' });
    expect(codeOf(() => approvals.consume(a.id, { ...ACTION, digest: 'e'.repeat(64) }))).toBe('E_APPROVAL_MISMATCH');
    expect(codeOf(() => approvals.consume(a.id, { ...ACTION, sandboxId: 'sbx_bbbbbbbbbbbb' }))).toBe('E_APPROVAL_MISMATCH');
    expect(codeOf(() => approvals.consume(a.id, { ...ACTION, language: 'python' }))).toBe('E_APPROVAL_MISMATCH');
    // The mismatch did not spend it.
    expect(approvals.consume(a.id, ACTION).state).toBe('used');
    approvals.close();
  });

  it('another tenant sees no approval and cannot decide it', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    expect(codeOf(() => approvals.get(a.id, 't2'))).toBe('E_APPROVAL_NOT_FOUND');
    expect(codeOf(() => approvals.decide(a.id, { approve: true, by: 'key:other', tenant: 't2' }))).toBe('E_APPROVAL_NOT_FOUND');
    expect(approvals.list({ tenant: 't2' })).toEqual([]);
    expect(approvals.list({ tenant: 't1', state: 'pending' }).map((x) => x.id)).toEqual([a.id]);
    approvals.close();
  });

  it('a sandbox that ends expires its pending approvals; shutdown expires the rest', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    const b = approvals.request({ ...REQ, sandboxId: 'sbx_bbbbbbbbbbbb' });
    approvals.forgetSandbox(REQ.sandboxId);
    expect(approvals.get(a.id)).toMatchObject({ state: 'expired', reason: 'the sandbox ended' });
    expect(approvals.get(b.id).state).toBe('pending');
    approvals.close();
    expect(approvals.get(b.id)).toMatchObject({ state: 'expired', reason: 'the server shut down' });
  });

  it('an audit log that cannot record refuses the request (nothing pending without a record)', () => {
    const approvals = new Approvals({
      audit: {
        append: () => {
          throw new WardenError('E_AUDIT_UNAVAILABLE', 'disk full');
        },
      },
    });
    expect(codeOf(() => approvals.request(REQ))).toBe('E_AUDIT_UNAVAILABLE');
    expect(approvals.list()).toEqual([]);
    approvals.close();
  });

  it('an approval presented before anyone decided answers E_APPROVAL_PENDING (not decided), and stays usable once approved', () => {
    const approvals = new Approvals();
    const a = approvals.request(REQ);
    let err: unknown;
    try {
      approvals.consume(a.id, ACTION);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WardenError);
    expect(err).toMatchObject({ code: 'E_APPROVAL_PENDING', details: { approvalId: a.id, expiresAt: a.expiresAt } });
    approvals.decide(a.id, { approve: true, by: 'key:human' });
    expect(approvals.consume(a.id, ACTION).state).toBe('used');
    approvals.close();
  });

  it('wait with an already aborted signal answers at once instead of holding the waiter for timeoutMs', async () => {
    vi.useFakeTimers();
    try {
      const approvals = new Approvals();
      const a = approvals.request(REQ);
      let settled: string | undefined;
      void approvals.wait(a.id, { timeoutMs: 3_600_000, signal: AbortSignal.abort() }).then((x) => (settled = x.state));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe('pending');
      approvals.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('an expiry the audit log cannot record still expires the approval and wakes its waiter, without an uncaught exception from the timer', async () => {
    vi.useFakeTimers();
    try {
      let failing = false;
      const approvals = new Approvals({
        timeoutMs: 1000,
        audit: {
          append: () => {
            if (failing) throw new WardenError('E_AUDIT_UNAVAILABLE', 'disk full');
          },
        },
      });
      const a = approvals.request(REQ);
      const waited = approvals.wait(a.id, { timeoutMs: 10_000 });
      failing = true;
      // A throw out of the expiry timer would surface here (and crash a server process).
      await vi.advanceTimersByTimeAsync(1000);
      expect((await waited).state).toBe('expired');
      expect(codeOf(() => approvals.consume(a.id, ACTION))).toBe('E_APPROVAL_DECIDED');
      approvals.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses more than maxPendingPerSandbox waiting approvals in one sandbox (E_CAPACITY); other sandboxes are unaffected', () => {
    const approvals = new Approvals({ maxPendingPerSandbox: 2 });
    approvals.request(REQ);
    approvals.request(REQ);
    expect(codeOf(() => approvals.request(REQ))).toBe('E_CAPACITY');
    expect(approvals.request({ ...REQ, sandboxId: 'sbx_bbbbbbbbbbbb' }).state).toBe('pending');
    const first = approvals.list({ sandboxId: REQ.sandboxId })[0];
    approvals.decide(first?.id ?? '', { approve: false, by: 'key:human' });
    expect(approvals.request(REQ).state).toBe('pending');
    approvals.close();
  });

  it('refuses a nonsensical timeout', () => {
    expect(codeOf(() => new Approvals({ timeoutMs: 0 }))).toBe('E_INVALID_SPEC');
  });
});
