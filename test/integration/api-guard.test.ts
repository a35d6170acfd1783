/**
 * The guard end to end over a real server: refusals, approvals held for a
 * person (approve, deny, expire, for the session, wrong approver, replay),
 * policy layers, and the audit log that records all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient } from '@warden/sdk';
import { testServer, type TestServer } from '../helpers/server.js';

const TENANT_POLICY = `version: 1
rules:
  - id: test.ask-marker
    category: persistence
    risk: medium
    decision: ask
    message: creating a needs-approval file needs a person
    languages: [bash]
    when:
      command: { program: [touch], args: ['needs-approval*'] }
    examples:
      match: ['touch needs-approval-1']
      not_match: ['touch other']
`;

let srv: TestServer;
let agentKey: string;
let approverKey: string;
let agent: WardenClient;
let approver: WardenClient;
let sbx: Sandbox;

beforeAll(async () => {
  srv = await testServer();
  agentKey = srv.key('guarded');
  approverKey = srv.key('guarded', ['sandboxes:read', 'approvals:decide']);
  agent = new WardenClient(srv.conn(agentKey));
  approver = new WardenClient(srv.conn(approverKey));
  await new WardenClient(srv.conn(srv.adminKey)).guard.setPolicy('guarded', TENANT_POLICY);
  sbx = await Sandbox.create(srv.conn(agentKey));
});

afterAll(async () => {
  await sbx?.kill().catch(() => undefined);
  await srv?.[Symbol.asyncDispose]();
});

type Answer = { status: number; body: Record<string, unknown> & { code?: string; details?: Record<string, unknown> } };
function run(body: Record<string, unknown>, key = agentKey): Promise<Answer> {
  return srv.call(key, 'POST', `/v1/sandboxes/${sbx.id}/commands`, body);
}

describe('the guard over the API', () => {
  it('refuses a destructive command before it runs, with the rule and the reason, and records the refusal', async () => {
    const r = await run({ cmd: 'cd / && sudo /bin/rm -r -f / --no-preserve-root' });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('E_GUARD_DENIED');
    const details = r.body.details as { decision: string; findings: Array<{ ruleId: string; decision: string }> };
    expect(details.decision).toBe('deny');
    expect(details.findings.some((f) => f.decision === 'deny')).toBe(true);
    // The sandbox still has its files: nothing ran.
    expect((await run({ cmd: 'test -d /usr/bin && echo intact' })).body.stdout).toBe('intact\n');
    const events = await agent.audit.query({ sandboxId: sbx.id, decision: 'deny' });
    expect(events.at(-1)).toMatchObject({ action: 'command.start', decision: 'deny', outcome: 'denied', tenant: 'guarded' });
  });

  it('a script given to a shell or interpreter on stdin is checked as that script; a loader variable in env asks', async () => {
    const viaStdin = await run({ argv: ['bash'], stdin: Buffer.from('cd / && rm -rf / --no-preserve-root\n').toString('base64') });
    expect(viaStdin.body.code).toBe('E_GUARD_DENIED');
    const py = await run({ argv: ['python3', '-'], stdin: Buffer.from('import os\nos.system("rm -rf /")\n').toString('base64') });
    expect(py.body.code).toBe('E_GUARD_DENIED');
    // Data on stdin of a program that does not run it is just data.
    const data = await run({ argv: ['wc', '-c'], stdin: Buffer.from('rm -rf /').toString('base64') });
    expect(data.body.stdout).toBe('8\n');
    const loader = await run({ argv: ['ls'], env: { LD_PRELOAD: '/workspace/hook.so' } });
    expect(loader.body.code).toBe('E_APPROVAL_PENDING');
    expect((loader.body.details as { findings: Array<{ ruleId: string }> }).findings.map((f) => f.ruleId)).toContain('code-eval.loader-env');
  });

  it('holds a risky command for a person; the agent retries with the approved id and it runs once', async () => {
    const r = await run({ cmd: 'touch needs-approval-1 && echo made' });
    expect(r.status).toBe(428);
    expect(r.body.code).toBe('E_APPROVAL_PENDING');
    const id = (r.body.details as { approvalId: string }).approvalId;
    expect(await sbx.files.exists('needs-approval-1')).toBe(false);

    const pending = await approver.approvals.list({ state: 'pending' });
    expect(pending.map((a) => a.id)).toContain(id);
    const mine = pending.find((a) => a.id === id);
    expect(mine?.action).toContain('touch needs-approval-1');
    expect(mine?.findings[0]).toMatchObject({ ruleId: 'test.ask-marker', layer: 'tenant' });

    // The agent's key has no approvals:decide; even a key that has it cannot approve what it asked for.
    expect((await srv.call(agentKey, 'POST', `/v1/approvals/${id}/approve`, {})).body.code).toBe('E_FORBIDDEN');
    await approver.approvals.approve(id, { reason: 'fine' });

    const ok = await run({ cmd: 'touch needs-approval-1 && echo made', approvalId: id });
    expect(ok.status).toBe(200);
    expect(ok.body.stdout).toBe('made\n');
    // Once means once.
    const again = await run({ cmd: 'touch needs-approval-1 && echo made', approvalId: id });
    expect(again.body.code).toBe('E_APPROVAL_DECIDED');
  });

  it('an approval cannot be replayed for a different command', async () => {
    const r = await run({ cmd: 'touch needs-approval-2' });
    const id = (r.body.details as { approvalId: string }).approvalId;
    await approver.approvals.approve(id);
    const other = await run({ cmd: 'touch needs-approval-2; curl http://example.invalid', approvalId: id });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('E_APPROVAL_MISMATCH');
    expect(await sbx.files.exists('needs-approval-2')).toBe(false);
  });

  it('a key that asked can never approve its own action, even with approvals:decide', async () => {
    const both = srv.key('guarded', ['sandboxes:read', 'sandboxes:write', 'approvals:decide']);
    const r = await run({ cmd: 'touch needs-approval-3' }, both);
    const id = (r.body.details as { approvalId: string }).approvalId;
    const self = await srv.call(both, 'POST', `/v1/approvals/${id}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('E_APPROVAL_FORBIDDEN');
    expect((await approver.approvals.get(id)).state).toBe('pending');
  });

  it('with approvalWaitMs the call waits: approved → the command completes; denied → refused with the reason', async () => {
    const waiting = run({ cmd: 'touch needs-approval-4 && echo waited', approvalWaitMs: 30_000 });
    const id = await pendingFor('needs-approval-4');
    await approver.approvals.approve(id);
    const r = await waiting;
    expect(r.status).toBe(200);
    expect(r.body.stdout).toBe('waited\n');

    const refused = run({ cmd: 'touch needs-approval-5', approvalWaitMs: 30_000 });
    await approver.approvals.deny(await pendingFor('needs-approval-5'), { reason: 'no thanks' });
    const d = await refused;
    expect(d.status).toBe(403);
    expect(d.body.code).toBe('E_GUARD_DENIED');
    expect(d.body.message).toContain('no thanks');
    expect(await sbx.files.exists('needs-approval-5')).toBe(false);
  });

  it('approve for the session: the identical command runs again without asking, another one still asks', async () => {
    const r = await run({ cmd: 'touch needs-approval-6' });
    await approver.approvals.approve((r.body.details as { approvalId: string }).approvalId, { scope: 'session' });
    expect((await run({ cmd: 'touch needs-approval-6' })).status).toBe(200);
    expect((await run({ cmd: 'touch needs-approval-6' })).status).toBe(200);
    expect((await run({ cmd: 'touch needs-approval-7' })).status).toBe(428);
  });

  it('another tenant sees no approval and cannot decide one', async () => {
    const r = await run({ cmd: 'touch needs-approval-8' });
    const id = (r.body.details as { approvalId: string }).approvalId;
    const outsider = srv.key('other-tenant', ['sandboxes:read', 'approvals:decide']);
    expect((await srv.call(outsider, 'GET', `/v1/approvals/${id}`)).status).toBe(404);
    expect((await srv.call(outsider, 'POST', `/v1/approvals/${id}/approve`, {})).body.code).toBe('E_APPROVAL_NOT_FOUND');
    expect((await new WardenClient(srv.conn(outsider)).approvals.list()).map((a) => a.id)).not.toContain(id);
  });

  it('a streamed session command that needs an approval gives the SDK the approval id (details cross in-band errors)', async () => {
    const s = await sbx.sessions.create();
    const err = await s.run('touch needs-approval-9', { onStdout: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_APPROVAL_PENDING' });
    expect((err as { details: { approvalId?: string } }).details.approvalId).toMatch(/^apr_/);
    await s.close();
  });

  it('session commands pass the guard too', async () => {
    const s = await sbx.sessions.create();
    const r = await srv.call(agentKey, 'POST', `/v1/sandboxes/${sbx.id}/sessions/${s.id}/run`, { command: 'rm -rf / --no-preserve-root' });
    expect(r.body.code).toBe('E_GUARD_DENIED');
    expect((await s.run('echo still-here')).stdout).toBe('still-here\n');
    await s.close();
  });

  it('a sandbox policy can add a restriction but never relax the server’s', async () => {
    const strict = await Sandbox.create({
      ...srv.conn(agentKey),
      guardPolicy: `version: 1
rules:
  - id: sandbox.no-python
    category: process-spawn
    risk: low
    decision: deny
    message: no python in this sandbox
    when: { command: { program: ['python*'] } }
    examples: { match: ['python3 -V'], not_match: ['ls'] }
  - id: sandbox.allow-everything
    category: fs-destructive
    risk: low
    decision: allow
    message: try to allow rm
    when: { command: { program: [rm] } }
    examples: { match: ['rm x'], not_match: ['ls'] }
`,
    });
    try {
      const py = await srv.call(agentKey, 'POST', `/v1/sandboxes/${strict.id}/commands`, { cmd: 'python3 -V' });
      expect(py.body.code).toBe('E_GUARD_DENIED');
      const rm = await srv.call(agentKey, 'POST', `/v1/sandboxes/${strict.id}/commands`, { cmd: 'rm -rf / --no-preserve-root' });
      expect(rm.body.code).toBe('E_GUARD_DENIED');
      expect((await srv.call(agentKey, 'POST', `/v1/sandboxes/${strict.id}/commands`, { cmd: 'echo ok' })).body.stdout).toBe('ok\n');
    } finally {
      await strict.kill();
    }
  });

  it('a sandbox policy that breaks its own examples is refused with the rule named, and no sandbox is made', async () => {
    const before = (await srv.call(agentKey, 'GET', '/v1/sandboxes')).body.sandboxes as unknown[];
    const r = await srv.call(agentKey, 'POST', '/v1/sandboxes', {
      guardPolicy: 'version: 1\nrules:\n  - id: bad.example\n    category: process-spawn\n    risk: low\n    decision: deny\n    message: m\n    when: { command: { program: [ls] } }\n    examples: { match: [\'echo hi\'], not_match: [\'pwd\'] }\n',
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('E_POLICY_INVALID');
    expect(r.body.message).toContain('bad.example');
    expect(((await srv.call(agentKey, 'GET', '/v1/sandboxes')).body.sandboxes as unknown[]).length).toBe(before.length);
  });

  it('checks code without running it', async () => {
    const r = await agent.guard.check('import os as o\no.system("rm -rf /")', { language: 'python' });
    expect(r.decision).toBe('deny');
    expect(r.findings.length).toBeGreaterThan(0);
    const ev = r.findings[0]?.evidence[0];
    expect(ev && r.text.slice(ev.start, ev.end).length).toBeGreaterThan(0);
    expect((await agent.guard.check('print(sum(range(10)))', { language: 'python' })).decision).toBe('allow');
  });

  it('the audit log has the whole story in order, and verifies', async () => {
    const events = await agent.audit.query({ sandboxId: sbx.id, limit: 1000 });
    const actions = events.map((e) => e.action);
    expect(actions[0]).toBe('sandbox.create');
    expect(actions).toEqual(expect.arrayContaining(['command.start', 'command.end', 'approval.request', 'approval.decide', 'session.command']));
    expect(events.every((e, i) => i === 0 || e.seq > (events[i - 1]?.seq ?? 0))).toBe(true);
    expect(events.every((e) => e.tenant === 'guarded')).toBe(true);
    // Another tenant's reader sees none of it; only admins verify.
    const outsider = new WardenClient(srv.conn(srv.key('other-tenant')));
    expect(await outsider.audit.query({ sandboxId: sbx.id })).toEqual([]);
    expect((await srv.call(agentKey, 'GET', '/v1/audit/verify')).body.code).toBe('E_FORBIDDEN');
    const v = await new WardenClient(srv.conn(srv.adminKey)).audit.verify();
    expect(v).toMatchObject({ ok: true, firstBad: null });
    expect(v.events).toBeGreaterThan(10);
  });

  it('scanner verdicts on uploads are in the audit log', async () => {
    const eicar = String.raw`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`;
    expect((await srv.put(agentKey, sbx.id, 'eicar.com', eicar)).status).toBe(200);
    const [v] = await agent.audit.query({ sandboxId: sbx.id, action: 'scan.verdict', order: 'desc', limit: 1 });
    expect(v).toMatchObject({ action: 'scan.verdict', tenant: 'guarded' });
    expect(v?.preview).toContain('eicar.com');
    expect(v?.outcome).toMatch(/malicious|critical/);
    expect(v?.ruleIds.length).toBeGreaterThan(0);
  });
});

/** Polls the approver's queue until a pending approval for the marker appears. */
async function pendingFor(marker: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const hit = (await approver.approvals.list({ state: 'pending' })).find((a) => a.action.includes(marker));
    if (hit) return hit.id;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no pending approval for ${marker} appeared`);
}
