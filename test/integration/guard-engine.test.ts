/**
 * The guard inside the engine, on real sandboxes: every action's start has
 * its end in the audit log, even when the sandbox goes away between a
 * person's approval and the launch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type AuditEventInput, type Guard } from '@warden/core';
import { testEngine } from '../helpers/host.js';

const POLICY = `version: 1
rules:
  - id: t.ask-touch
    category: persistence
    risk: medium
    decision: ask
    message: touch needs a person
    when: { command: { program: [touch] } }
    examples: { match: ['touch x'], not_match: ['ls'] }
`;

let guard: Guard;
beforeAll(async () => {
  guard = await createGuard({ policies: [{ layer: 'server', source: POLICY }] });
});
afterAll(() => guard.close());

describe('the gate in the engine', () => {
  it('a command approved while its sandbox is being killed does not run, and its start gets an end in the log', async () => {
    const events: AuditEventInput[] = [];
    await using t = await testEngine({ guard, audit: { append: (e) => void events.push(e) } });
    const sbx = await t.engine.create();
    const waiting = sbx.exec(['touch', 'x'], { actor: 'key:agent', approvalWaitMs: 30_000 });
    const deadline = Date.now() + 10_000;
    while (t.engine.approvals.list({ state: 'pending' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const [approval] = t.engine.approvals.list({ state: 'pending' });
    expect(approval).toBeDefined();
    // The decision wakes the waiter on the next microtask; the kill starts now, before it runs.
    t.engine.approvals.decide(approval?.id ?? '', { approve: true, by: 'key:human' });
    const killed = sbx.kill();
    await expect(waiting).rejects.toMatchObject({ code: 'E_SANDBOX_CLOSED' });
    await killed;
    const starts = events.filter((e) => e.action === 'command.start' && e.outcome === 'started (approved)');
    expect(starts).toHaveLength(1);
    const end = events.find((e) => e.action === 'command.end' && e.inputDigest === starts[0]?.inputDigest);
    expect(end?.outcome).toBe('error:E_SANDBOX_CLOSED');
  });

  it('a session command still waiting for its approval when the session closes does not run, and its start gets an end', async () => {
    const events: AuditEventInput[] = [];
    await using t = await testEngine({ guard, audit: { append: (e) => void events.push(e) } });
    await using sbx = await t.engine.create();
    const s = await sbx.sessions.create();
    const waiting = s.run('touch y', { actor: 'key:agent', approvalWaitMs: 30_000 });
    const deadline = Date.now() + 10_000;
    while (t.engine.approvals.list({ state: 'pending' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const id = t.engine.approvals.list({ state: 'pending' })[0]?.id ?? '';
    await s.close();
    t.engine.approvals.decide(id, { approve: true, by: 'key:human' });
    await expect(waiting).rejects.toMatchObject({ code: 'E_SESSION_CLOSED' });
    const start = events.find((e) => e.action === 'session.command' && e.outcome === 'started (approved)');
    expect(start).toBeDefined();
    expect(events.find((e) => e.action === 'command.end' && e.inputDigest === start?.inputDigest)?.outcome).toBe('error:E_SESSION_CLOSED');
    expect((await sbx.exec(['ls', 'y'])).exitCode).not.toBe(0);
  });

  it('positive twin: approved on a live sandbox, the command runs and ends with its exit status', async () => {
    const events: AuditEventInput[] = [];
    await using t = await testEngine({ guard, audit: { append: (e) => void events.push(e) } });
    await using sbx = await t.engine.create();
    const waiting = sbx.exec(['touch', 'x'], { actor: 'key:agent', approvalWaitMs: 30_000 });
    const deadline = Date.now() + 10_000;
    while (t.engine.approvals.list({ state: 'pending' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    t.engine.approvals.decide(t.engine.approvals.list({ state: 'pending' })[0]?.id ?? '', { approve: true, by: 'key:human' });
    expect(await waiting).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect((await sbx.exec(['ls', 'x'])).stdout).toBe('x\n');
    // The end is recorded when the process's result settles: poll for it.
    const until = Date.now() + 5000;
    while (!events.some((e) => e.action === 'command.end' && e.outcome === 'exited:0') && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(events.filter((e) => e.action === 'command.end').map((e) => e.outcome)).toContain('exited:0');
  });
});
