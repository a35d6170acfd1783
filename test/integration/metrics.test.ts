/**
 * GET /metrics on a real server: who may scrape, that the exposition parses,
 * and that the numbers move with what happens — scrape, do things through the
 * API, scrape again and compare.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient } from '@warden/sdk';
import { parseExposition, type Exposition } from '../helpers/prometheus.js';
import { testServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let metricsKey: string;
let agentKey: string;

beforeAll(async () => {
  // One warm sandbox, so pool numbers have something to count.
  srv = await testServer({ poolSize: 1 });
  metricsKey = srv.key('ops', ['metrics:read']);
  agentKey = srv.key('metrics-t');
});

afterAll(async () => {
  await srv?.[Symbol.asyncDispose]();
});

async function scrape(key = metricsKey): Promise<Exposition> {
  const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /metrics', () => {
  it('needs a key with metrics:read (or admin); a tenant key is refused', async () => {
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(401);
    const tenant = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${agentKey}` } });
    expect(tenant.status).toBe(403);
    expect(((await tenant.json()) as { code: string; message: string }).message).toContain('metrics:read');
    await scrape(srv.adminKey);
    // A metrics key can scrape and do nothing else.
    expect((await srv.call(metricsKey, 'GET', '/v1/sandboxes')).status).toBe(403);
  });

  it('parses, declares every warden metric with HELP and TYPE, and has the process metrics', async () => {
    const m = await scrape();
    const names = [...m.types.keys()];
    for (const name of [
      'warden_sandboxes',
      'warden_sandboxes_created_total',
      'warden_command_duration_seconds',
      'warden_guard_decisions_total',
      'warden_approvals_pending',
      'warden_audit_append_seconds',
      'warden_pool_size',
      'warden_pool_hits_total',
      'warden_scan_verdicts_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names).toContain(name);
    }
    expect(m.types.get('warden_command_duration_seconds')).toBe('histogram');
    // Series exist at zero before anything happened, so dashboards see 0 rather than a gap.
    expect(m.samples.some((s) => s.name === 'warden_sandboxes' && s.labels.state === 'running' && s.labels.runtime === 'bwrap')).toBe(true);
    expect(m.value('warden_pool_size', { pool: '0', runtime: 'bwrap' })).toBe(1);
  });

  it('moves with what happens: sandboxes, commands, code, guard decisions, approvals, audit appends, pool hits, scans', async () => {
    await until('the pool is warm', async () => (await scrape()).value('warden_pool_idle', { pool: '0', runtime: 'bwrap' }) === 1);
    const before = await scrape();
    const sbx = await Sandbox.create(srv.conn(agentKey));
    try {
      const during = await scrape();
      expect(during.value('warden_sandboxes_created_total', { runtime: 'bwrap' }) - before.value('warden_sandboxes_created_total', { runtime: 'bwrap' })).toBe(1);
      expect(during.value('warden_sandboxes', { state: 'running', runtime: 'bwrap' }) - before.value('warden_sandboxes', { state: 'running', runtime: 'bwrap' })).toBe(1);
      expect(during.value('warden_pool_hits_total', { pool: '0', runtime: 'bwrap' }) - before.value('warden_pool_hits_total', { pool: '0', runtime: 'bwrap' })).toBe(1);

      expect((await sbx.commands.run('true')).exitCode).toBe(0);
      expect((await sbx.commands.run('exit 2')).exitCode).toBe(2);
      expect((await sbx.commands.run('sleep 5', { timeoutMs: 200 })).reason).toBe('timeout');
      expect((await sbx.runCode('1 + 1')).results[0]?.text).toBe('2');
      await expect(sbx.commands.run('rm -rf / --no-preserve-root')).rejects.toMatchObject({ code: 'E_GUARD_DENIED' });
      const pending = await sbx.commands.run('unset HISTFILE; echo ok').catch((err: unknown) => err as { code: string; details: { approvalId: string } });
      expect(pending).toMatchObject({ code: 'E_APPROVAL_PENDING' });
      const approvalId = (pending as { details: { approvalId: string } }).details.approvalId;

      const held = await scrape();
      expect(held.value('warden_approvals_pending') - before.value('warden_approvals_pending')).toBe(1);

      const approver = new WardenClient(srv.conn(srv.key('metrics-t', ['approvals:decide'])));
      await approver.approvals.approve(approvalId);
      expect((await sbx.commands.run('unset HISTFILE; echo ok', { approvalId })).stdout).toBe('ok\n');

      const client = new WardenClient(srv.conn(agentKey));
      expect((await client.scan('just text', 'note.txt')).level).toBe('clean');
      await sbx.files.write('up.txt', 'hello'); // the default scan policy reports uploads

      const after = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}): number => after.value(name, labels) - before.value(name, labels);
      const cmd = (outcome: string): Record<string, string> => ({ kind: 'command', outcome });
      expect(delta('warden_command_duration_seconds_count', cmd('ok'))).toBe(2); // `true`, and the approved one
      expect(delta('warden_command_duration_seconds_count', cmd('failed'))).toBe(1);
      expect(delta('warden_command_duration_seconds_count', cmd('timeout'))).toBe(1);
      expect(delta('warden_command_duration_seconds_sum', cmd('timeout'))).toBeGreaterThanOrEqual(0.2);
      expect(delta('warden_command_duration_seconds_bucket', { ...cmd('timeout'), le: '0.1' })).toBe(0); // it ran at least 200 ms
      expect(delta('warden_command_duration_seconds_count', { kind: 'code', outcome: 'ok' })).toBe(1);

      const guard = (decision: string, outcome: string, kind = 'command'): number => delta('warden_guard_decisions_total', { kind, decision, outcome });
      expect(guard('allow', 'allowed')).toBe(3);
      expect(guard('allow', 'allowed', 'code')).toBe(1);
      expect(guard('deny', 'denied')).toBe(1);
      expect(guard('ask', 'pending')).toBe(1);
      expect(guard('ask', 'approved')).toBe(1);

      expect(delta('warden_approvals_requested_total')).toBe(1);
      expect(delta('warden_approvals_decided_total', { state: 'approved' })).toBe(1);
      expect(after.value('warden_approvals_pending')).toBe(before.value('warden_approvals_pending'));

      // Each decision is appended durably before its action; command ends are group-committed.
      expect(delta('warden_audit_append_seconds_count', { durable: 'true' })).toBeGreaterThanOrEqual(7);
      expect(delta('warden_audit_append_seconds_count', { durable: 'false' })).toBeGreaterThanOrEqual(5);
      expect(delta('warden_audit_append_seconds_sum', { durable: 'true' })).toBeGreaterThan(0);
      expect(delta('warden_audit_events_total', { action: 'command.end' })).toBe(5);

      expect(delta('warden_scan_verdicts_total', { direction: 'direct', level: 'clean', blocked: 'false' })).toBe(1);
      expect(delta('warden_scan_verdicts_total', { direction: 'upload', level: 'clean', blocked: 'false' })).toBe(1);
    } finally {
      await sbx.kill();
    }
    const end = await scrape();
    expect(end.value('warden_sandboxes_ended_total', { runtime: 'bwrap', reason: 'killed' }) - before.value('warden_sandboxes_ended_total', { runtime: 'bwrap', reason: 'killed' })).toBe(1);
    expect(end.value('warden_sandboxes', { state: 'running', runtime: 'bwrap' })).toBe(before.value('warden_sandboxes', { state: 'running', runtime: 'bwrap' }));
  });
});
