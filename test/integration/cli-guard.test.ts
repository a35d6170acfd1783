/**
 * The guard, approvals and audit commands of the `warden` binary, the way an
 * operator runs them: against a real server, and on the data dir directly.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWarden } from '../helpers/cli.js';
import { testServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await testServer();
});
afterAll(async () => {
  await srv?.[Symbol.asyncDispose]();
});

describe('warden guard', () => {
  it('check: deny exits 1 and names the rule; allow exits 0; --json gives { decision, risk, findings }', async () => {
    const deny = await runWarden(['guard', 'check', '-c', 'sudo /bin/rm -r -f /'], { dataDir: srv.dataDir });
    expect(deny.code).toBe(1);
    expect(deny.stdout).toMatch(/^DENY/);
    expect(deny.stdout).toContain('fs.rm-root');
    const ok = await runWarden(['guard', 'check', '--lang', 'python', '-c', 'print(sum(range(10)))', '--json'], { dataDir: srv.dataDir });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ decision: 'allow', risk: 'none', findings: [] });
  });

  it('check: ask exits 3; a policy layer can add a rule', async () => {
    const file = join(srv.dataDir, 'extra.yaml');
    await writeFile(
      file,
      "version: 1\nrules:\n  - id: t.ask-make\n    category: process-spawn\n    risk: low\n    decision: ask\n    message: make needs a person\n    when: { command: { program: [make] } }\n    examples: { match: ['make all'], not_match: ['ls'] }\n",
    );
    const r = await runWarden(['guard', 'check', '-c', 'make all', '--policy', file, '--json'], { dataDir: srv.dataDir });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'ask', findings: [{ ruleId: 't.ask-make', layer: 'cli' }] });
  });

  it('policy --check refuses a policy whose example fails, naming the rule; --print-default prints a policy that checks', async () => {
    const bad = join(srv.dataDir, 'bad.yaml');
    await writeFile(bad, "version: 1\nrules:\n  - id: t.bad\n    category: process-spawn\n    risk: low\n    decision: deny\n    message: m\n    when: { command: { program: [ls] } }\n    examples: { match: ['pwd'], not_match: ['echo'] }\n");
    const r = await runWarden(['guard', 'policy', '--check', bad, '--json'], { dataDir: srv.dataDir });
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_POLICY_INVALID' } });
    expect(r.stdout).toContain('t.bad');
    const def = await runWarden(['guard', 'policy', '--print-default'], { dataDir: srv.dataDir });
    const file = join(srv.dataDir, 'default.yaml');
    await writeFile(file, def.stdout);
    expect((await runWarden(['guard', 'policy', '--check', file], { dataDir: srv.dataDir })).code).toBe(0);
  });
});

describe('warden approvals and audit', () => {
  it('an approver lists and approves from the CLI; the agent then runs the command; audit query and verify see it', async () => {
    const agentKey = srv.key('cli-tenant');
    const approverKey = srv.key('cli-tenant', ['sandboxes:read', 'approvals:decide']);
    const created = await srv.call(agentKey, 'POST', '/v1/sandboxes', {});
    const sbx = created.body.id as string;
    try {
      const asked = await srv.call(agentKey, 'POST', `/v1/sandboxes/${sbx}/commands`, { cmd: 'sudo true' });
      expect(asked.body.code).toBe('E_APPROVAL_PENDING');
      const id = (asked.body as { details: { approvalId: string } }).details.approvalId;

      const env = { WARDEN_API_KEY: approverKey };
      const list = await runWarden(['approvals', 'list', '--state', 'pending', '--server', srv.url, '--json'], { dataDir: srv.dataDir, env });
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as { approvals: Array<{ id: string }> }).approvals.map((a) => a.id)).toContain(id);
      const human = await runWarden(['approvals', 'show', id, '--server', srv.url], { dataDir: srv.dataDir, env });
      expect(human.stdout).toContain('sudo true');
      const approve = await runWarden(['approvals', 'approve', id, '--reason', 'ok by me', '--server', srv.url, '--json'], { dataDir: srv.dataDir, env });
      expect(JSON.parse(approve.stdout)).toMatchObject({ id, state: 'approved', reason: 'ok by me' });

      const ran = await srv.call(agentKey, 'POST', `/v1/sandboxes/${sbx}/commands`, { cmd: 'sudo true', approvalId: id });
      expect(ran.status).toBe(200);

      const query = await runWarden(['audit', 'query', '--sandbox', sbx, '--action', 'approval.*', '--server', srv.url, '--json'], { dataDir: srv.dataDir, env });
      const actions = (JSON.parse(query.stdout) as { events: Array<{ action: string }> }).events.map((e) => e.action);
      expect(actions).toEqual(['approval.request', 'approval.decide']);
      // As root on the host: read-only, straight from the data dir, while the server runs.
      const verify = await runWarden(['audit', 'verify', '--data-dir', srv.dataDir, '--json'], { dataDir: srv.dataDir });
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    } finally {
      await srv.call(agentKey, 'DELETE', `/v1/sandboxes/${sbx}`);
    }
  });

  it('approvals show cannot be spoofed by terminal escapes in the action: control characters are printed escaped', async () => {
    const agentKey = srv.key('cli-tenant');
    const approverKey = srv.key('cli-tenant', ['sandboxes:read', 'approvals:decide']);
    const created = await srv.call(agentKey, 'POST', `/v1/sandboxes`, {});
    const sbx = created.body.id as string;
    try {
      // Erase the line, return to its start, and draw something harmless over it.
      const asked = await srv.call(agentKey, 'POST', `/v1/sandboxes/${sbx}/commands`, { cmd: 'sudo true # \x1b[2K\rls -la' });
      expect(asked.body.code).toBe('E_APPROVAL_PENDING');
      const id = (asked.body as { details: { approvalId: string } }).details.approvalId;
      const human = await runWarden(['approvals', 'show', id, '--server', srv.url], { dataDir: srv.dataDir, env: { WARDEN_API_KEY: approverKey } });
      expect(human.code).toBe(0);
      expect(human.stdout).not.toContain('\x1b');
      expect(human.stdout).not.toContain('\r');
      expect(human.stdout).toContain('sudo true # \\x1b[2K\\rls -la');
    } finally {
      await srv.call(agentKey, 'DELETE', `/v1/sandboxes/${sbx}`);
    }
  });

  it('an exported log verifies offline against the public key, and a tampered export names the bad event', async () => {
    const out = join(srv.dataDir, 'audit.jsonl');
    const exp = await runWarden(['audit', 'export', '-o', out, '--server', srv.url], { dataDir: srv.dataDir, env: { WARDEN_API_KEY: srv.adminKey } });
    expect(exp.code).toBe(0);
    const pub = join(srv.dataDir, 'audit.pub');
    const verify = (await srv.call(srv.adminKey, 'GET', '/v1/audit/verify')).body as { publicKey: string };
    await writeFile(pub, verify.publicKey);
    const ok = await runWarden(['audit', 'verify', '--file', out, '--public-key', pub, '--json'], { dataDir: srv.dataDir });
    expect(ok.code).toBe(0);

    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(out, 'utf8')).split('\n');
    const i = lines.findIndex((l) => l.includes('"approval.decide"'));
    expect(i).toBeGreaterThan(0);
    lines[i] = (lines[i] ?? '').replace('ok by me', 'ok by ME');
    const forged = join(srv.dataDir, 'forged.jsonl');
    await writeFile(forged, lines.join('\n'));
    const bad = await runWarden(['audit', 'verify', '--file', forged, '--public-key', pub, '--json'], { dataDir: srv.dataDir });
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; firstBad: { seq: number } };
    expect(report.ok).toBe(false);
    expect(report.firstBad.seq).toBe((JSON.parse(lines[i] ?? '{}') as { seq: number }).seq);
  });
});
