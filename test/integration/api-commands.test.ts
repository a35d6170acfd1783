/** End to end over a real socket with the SDK: sandboxes and commands. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, hasCode } from '@warden/sdk';
import { eventually, processesOwnedBy } from '../helpers/host.js';
import { testServer, type TestServer } from '../helpers/server.js';
import { runWarden } from '../helpers/cli.js';

let t: TestServer;
let conn: { url: string; apiKey: string };
let sbx: Sandbox;

beforeAll(async () => {
  t = await testServer();
  conn = t.conn(t.key('acme'));
  sbx = await Sandbox.create({ ...conn, metadata: { suite: 'api-commands' } });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

describe('sandboxes over the API', () => {
  it('creates, gets, lists by metadata, extends and kills a sandbox', async () => {
    const s = await Sandbox.create({ ...conn, metadata: { job: 'lifecycle', who: 'a b&c=d' }, limits: { memoryMb: 128 } });
    const info = await s.getInfo();
    expect(info).toMatchObject({ id: s.id, state: 'running', tenant: 'acme', metadata: { job: 'lifecycle', who: 'a b&c=d' }, limits: { memoryMb: 128 } });

    const page = await Sandbox.list({ ...conn, metadata: { who: 'a b&c=d' } });
    expect(page.sandboxes.map((x) => x.id)).toEqual([s.id]);

    const before = Date.parse(info.expiresAt);
    const extended = await s.setTimeout(2 * 3_600_000);
    expect(Date.parse(extended.expiresAt)).toBeGreaterThan(before);

    await s.kill();
    const after = await s.getInfo();
    expect(after).toMatchObject({ state: 'closed', closedReason: 'killed' });
    await expect(Sandbox.connect(s.id, conn)).rejects.toSatisfy((e) => hasCode(e, 'E_SANDBOX_CLOSED'));
    await s.kill(); // idempotent
  });

  it('pages through many sandboxes with a cursor, each exactly once', async () => {
    const made = await Promise.all([0, 1, 2, 3, 4].map(() => Sandbox.create({ ...conn, metadata: { batch: 'paging' } })));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await Sandbox.list({ ...conn, metadata: { batch: 'paging' }, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.sandboxes.map((x) => x.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(made.map((m) => m.id).sort());
    await Promise.all(made.map((m) => m.kill()));
  });

  it('ends a sandbox when its TTL passes and records why', async () => {
    const s = await Sandbox.create({ ...conn, timeoutMs: 1000 });
    await eventually(async () => (await s.getInfo()).state === 'closed', 10_000, 'the sandbox to expire');
    expect((await s.getInfo()).closedReason).toBe('expired');
  });
});

describe('commands over the API', () => {
  it('runs a command to completion with exit code, stdout and stderr apart', async () => {
    const r = await sbx.commands.run('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ reason: 'exited', exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('streams output in order as it is produced', async () => {
    const chunks: string[] = [];
    const times: number[] = [];
    const r = await sbx.commands.run('for i in 1 2 3 4 5; do echo $i; sleep 0.1; done', {
      onStdout: (s) => {
        chunks.push(s);
        times.push(Date.now());
      },
    });
    expect(chunks.join('')).toBe('1\n2\n3\n4\n5\n');
    expect(r.stdout).toBe('1\n2\n3\n4\n5\n');
    // Live, not buffered: the first chunk arrived well before the last.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(250);
  });

  it('keeps interleaved stdout and stderr in their own streams', async () => {
    const out: string[] = [];
    const err: string[] = [];
    await sbx.commands.run('for i in 1 2 3; do echo o$i; echo e$i >&2; done', { onStdout: (s) => out.push(s), onStderr: (s) => err.push(s) });
    expect(out.join('')).toBe('o1\no2\no3\n');
    expect(err.join('')).toBe('e1\ne2\ne3\n');
  });

  it('passes stdin, cwd and env', async () => {
    const r = await sbx.commands.run('cat; pwd; echo $GREETING', { stdin: 'piped\n', cwd: '/tmp', envs: { GREETING: 'hello' } });
    expect(r.stdout).toBe('piped\n/tmp\nhello\n');
  });

  it('runs in the background, detaches, and reattaches with the full output replayed', async () => {
    const h = await sbx.commands.run('echo first; sleep 0.5; echo second', { background: true });
    expect(h.id).toMatch(/^cmd_/);
    const listed = await sbx.commands.list();
    expect(listed.find((c) => c.id === h.id)?.running).toBe(true);
    const seen: string[] = [];
    const again = await sbx.commands.connect(h.id, { onStdout: (s) => seen.push(s) });
    const r = await again.wait();
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'first\nsecond\n' });
    expect(seen.join('')).toBe('first\nsecond\n');
    expect((await h.wait()).stdout).toBe('first\nsecond\n');
  });

  it('feeds stdin to a background command piece by piece and closes it', async () => {
    const h = await sbx.commands.run('tr a-z A-Z', { background: true, stdin: { pipe: true } });
    await h.sendStdin('abc\n');
    await h.sendStdin('def\n');
    await h.closeStdin();
    expect((await h.wait()).stdout).toBe('ABC\nDEF\n');
  });

  it('signals a running command and reports the signal', async () => {
    const h = await sbx.commands.run('trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done', { background: true });
    let ready = false;
    const follow = await sbx.commands.connect(h.id, { onStdout: (s) => (ready ||= s.includes('ready')) });
    await eventually(() => ready, 5000, 'the trap to be set');
    await h.kill('SIGTERM', 'process');
    const r = await follow.wait();
    expect(r).toMatchObject({ reason: 'exited', exitCode: 7 });
    expect(r.stdout).toContain('got-term');
  });

  it('kills the whole tree when a streamed caller goes away', async () => {
    const info = await sbx.getInfo();
    const ctl = new AbortController();
    const running = sbx.commands.run('sleep 600 & sleep 600; wait', { onStdout: () => undefined, signal: ctl.signal });
    await eventually(async () => {
      const r = await sbx.commands.run('ps -eo comm | grep -c "^sleep$" || true');
      return r.stdout.trim() === '2';
    }, 5000, 'the sleeps to start');
    ctl.abort();
    await expect(running).rejects.toThrow();
    await eventually(async () => (await sbx.commands.run('ps -eo comm | grep -c "^sleep$" || true')).stdout.trim() === '0', 5000, 'the sleeps to be killed');
    expect(info.state).toBe('running');
  });

  it('kills the whole tree when a caller waiting for the plain result goes away', async () => {
    const ctl = new AbortController();
    const running = sbx.commands.run('sleep 601 & sleep 601; wait', { signal: ctl.signal });
    const count = async (): Promise<string> => (await sbx.commands.run('ps -eo args | grep -c "^sleep 601$" || true')).stdout.trim();
    await eventually(async () => (await count()) === '2', 5000, 'the sleeps to start');
    ctl.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    await eventually(async () => (await count()) === '0', 5000, 'the sleeps to be killed');
  });

  it('answers a background command that cannot start with E_EXEC_FAILED at once, not never', async () => {
    const started = Date.now();
    await expect(sbx.commands.run('', { argv: ['/no/such/program'], background: true })).rejects.toSatisfy((e) => hasCode(e, 'E_EXEC_FAILED'));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a timeout with the partial output', async () => {
    const r = await sbx.commands.run('echo before; sleep 30', { timeoutMs: 300 });
    expect(r).toMatchObject({ reason: 'timeout', stdout: 'before\n' });
  });

  it('runs an exact argv without a shell', async () => {
    const r = await sbx.commands.run('', { argv: ['printf', '%s|', 'a b', '$HOME', '*'] });
    expect(r.stdout).toBe('a b|$HOME|*|');
  });

  it('leaves no sandbox process behind once the sandbox is killed', async () => {
    const s = await Sandbox.create(conn);
    await s.commands.run('sleep 600', { background: true });
    const hostUid = t.server.engine.get(s.id).info().hostUid;
    expect(await processesOwnedBy(new Set([hostUid]))).not.toEqual([]); // the probe sees the sandbox's processes
    await s.kill();
    expect(await processesOwnedBy(new Set([hostUid]))).toEqual([]);
  });
});

describe('shutdown', () => {
  it('ends while a client follows a long command: its sandbox is killed and the stream ends with the result', async () => {
    const own = await testServer();
    const c = own.conn(own.key('shutdown'));
    const s = await Sandbox.create(c);
    const h = await s.commands.run('echo ready; sleep 600', { background: true });
    let following = false;
    const follow = await s.commands.connect(h.id, { onStdout: (x) => (following ||= x.includes('ready')) });
    await eventually(() => following, 5000, 'the follower to be attached');
    const hostUid = own.server.engine.get(s.id).info().hostUid;
    const started = Date.now();
    await own[Symbol.asyncDispose]();
    expect(Date.now() - started).toBeLessThan(20_000); // the grace period, then the engine closes
    expect(await follow.wait()).toMatchObject({ reason: 'sandbox-closed' }); // the follower hears how it ended
    expect(await processesOwnedBy(new Set([hostUid]))).toEqual([]);
  }, 30_000);
});

describe('the CLI through the server', () => {
  it('warden run --server streams output, forwards stdin, passes the exit code and leaves no sandbox running', async () => {
    const key = t.key('cli');
    const r = await runWarden(['run', '--server', t.url, '--', 'sh', '-c', 'cat; echo err >&2; exit 3'], { dataDir: '/nonexistent', stdin: 'piped\n', env: { WARDEN_API_KEY: key } });
    expect(r).toMatchObject({ code: 3, stdout: 'piped\n', stderr: 'err\n' });
    expect((await Sandbox.list(t.conn(key))).sandboxes).toEqual([]);
    const json = await runWarden(['run', '--server', t.url, '--json', '--', 'echo', 'hi'], { dataDir: '/nonexistent', env: { WARDEN_API_KEY: key } });
    expect(JSON.parse(json.stdout)).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'hi\n' });
  });

  it('warden run --server without a valid key says what to do', async () => {
    const r = await runWarden(['run', '--server', t.url, '--', 'true'], { dataDir: '/nonexistent', env: { WARDEN_API_KEY: 'wdn_wrong' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_UNAUTHENTICATED');
  });
});
