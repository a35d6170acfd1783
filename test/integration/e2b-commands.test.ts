/**
 * Commands and terminals through the official `e2b` SDK (newest and previous
 * minor), unchanged, against a real Warden server: foreground runs with
 * streaming callbacks, exit codes, timeouts, background processes with
 * stdin, connect, list and kill (the whole tree), PTYs, the guard, and what
 * Warden refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Current from 'e2b';
import * as PreviousModule from 'e2b-prev';

/** The previous minor has the same API; one type lets a test run against either. */
const Previous = PreviousModule as unknown as typeof Current;
import { testServer, type TestServer } from '../helpers/server.js';
import { PROCESS_NAMES, rejection, useE2b } from '../helpers/e2b.js';

let t: TestServer;
let restore: () => void;
const sandboxes: Array<{ kill(): Promise<unknown>; sandboxId: string }> = [];

beforeAll(async () => {
  t = await testServer();
  restore = useE2b(t, t.key('e2b-commands'));
});

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.kill().catch(() => undefined)));
  restore?.();
  await t?.[Symbol.asyncDispose]();
});

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each([
  ['e2b 2.51.0', Current],
  ['e2b 2.50.0', Previous],
] as const)('%s', (_name, sdk) => {
  let sbx: Current.Sandbox;
  beforeAll(async () => {
    sbx = await sdk.Sandbox.create();
    sandboxes.push(sbx);
  });

  it('runs a command in the foreground, streaming stdout and stderr to callbacks as they come', async () => {
    const seen: string[] = [];
    const started = Date.now();
    let firstAt = 0;
    const r = await sbx.commands.run('echo one; echo two >&2; sleep 0.5; echo three', {
      onStdout: (d) => {
        firstAt ||= Date.now() - started;
        seen.push(`out:${d}`);
      },
      onStderr: (d) => void seen.push(`err:${d}`),
    });
    expect(r).toEqual({ exitCode: 0, error: undefined, stdout: 'one\nthree\n', stderr: 'two\n' });
    expect(seen).toEqual(['out:one\n', 'err:two\n', 'out:three\n']);
    expect(Date.now() - started - firstAt).toBeGreaterThanOrEqual(400); // the first line came before the sleep ended
  });

  it('reports a non-zero exit as CommandExitError, with cwd and envs applied', async () => {
    const err = await rejection(sbx.commands.run('cd .; echo "$PWD $X"; echo oops >&2; exit 3', { cwd: '/tmp', envs: { X: 'forty-two' } }));
    expect(err).toBeInstanceOf(sdk.CommandExitError);
    expect(err).toMatchObject({ exitCode: 3, stdout: '/tmp forty-two\n', stderr: 'oops\n', error: 'exit status 3' });
  });

  it('runs background commands: list, sendStdin, closeStdin, wait', async () => {
    const out: string[] = [];
    const h = await sbx.commands.run('cat', { background: true, stdin: true, cwd: '/tmp', envs: { K: 'v' }, onStdout: (d) => void out.push(d) });
    expect(h.pid).toBeGreaterThan(0);
    expect(await sbx.commands.list()).toContainEqual({ pid: h.pid, cmd: '/bin/bash', args: ['-l', '-c', 'cat'], envs: { K: 'v' }, cwd: '/tmp' });
    await sbx.commands.sendStdin(h.pid, 'hello ');
    await h.sendStdin('world\n');
    await until(() => out.join('') === 'hello world\n', 'the echoed input');
    await h.closeStdin();
    expect(await h.wait()).toMatchObject({ exitCode: 0, stdout: 'hello world\n' });
    expect((await sbx.commands.list()).map((p) => p.pid)).not.toContain(h.pid);
  });

  it('kills a background command and everything it started; connect follows it from another client', async () => {
    const mine: string[] = [];
    const h = await sbx.commands.run('sleep 600 & sleep 600 & echo started; wait', { background: true, onStdout: (d) => void mine.push(d) });
    await until(() => mine.join('') === 'started\n', 'the first line');
    const other = await sdk.Sandbox.connect(sbx.sandboxId);
    const followed: string[] = [];
    const follower = await other.commands.connect(h.pid, { onStdout: (d) => void followed.push(d) });
    await until(async () => (await sbx.commands.run(PROCESS_NAMES)).stdout.split('\n').filter((n) => n === 'sleep').length === 2, 'two sleeps');
    expect(await sbx.commands.kill(h.pid)).toBe(true);
    const err = await rejection(h.wait());
    expect(err).toBeInstanceOf(sdk.CommandExitError);
    expect(err).toMatchObject({ exitCode: -1, error: 'signal: killed' });
    await expect(follower.wait()).rejects.toMatchObject({ exitCode: -1 });
    await until(async () => !(await sbx.commands.run(PROCESS_NAMES)).stdout.split('\n').includes('sleep'), 'the sleeps to be gone');
    expect(await sbx.commands.kill(h.pid)).toBe(false);
    expect(followed).toEqual([]); // connect streams from now on; "started" came before it
  });

  it('kills a command at its timeoutMs: TimeoutError, and the process is gone', async () => {
    const err = await rejection(sbx.commands.run('sleep 30', { timeoutMs: 700 }));
    expect(err).toBeInstanceOf(sdk.TimeoutError);
    await until(async () => !(await sbx.commands.run(PROCESS_NAMES)).stdout.split('\n').includes('sleep'), 'the sleep to be gone');
  });

  it('runs a shell on a pseudo-terminal: input, resize, kill', async () => {
    const data: Buffer[] = [];
    const text = (): string => Buffer.concat(data).toString();
    const pty = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => void data.push(Buffer.from(d)) });
    await sbx.pty.sendInput(pty.pid, new TextEncoder().encode('echo $((6*7)) $TERM; stty size\n'));
    await until(() => /42 xterm-256color\r?\n(.*\r?\n)?24 80/.test(text()), 'the answer and the size', 10_000);
    await sbx.pty.resize(pty.pid, { cols: 120, rows: 40 });
    await sbx.pty.sendInput(pty.pid, new TextEncoder().encode('stty size\n'));
    await until(() => text().includes('40 120'), 'the new size');
    expect(await sbx.pty.kill(pty.pid)).toBe(true);
    await expect(pty.wait()).rejects.toMatchObject({ exitCode: -1 });
  });
});

describe('guard and refusals', () => {
  let sbx: Current.Sandbox;
  beforeAll(async () => {
    sbx = await Current.Sandbox.create();
    sandboxes.push(sbx);
  });

  it("a command the guard denies does not run; the SDK error carries the guard's reason", async () => {
    await sbx.files.write('keep/me.txt', 'still here');
    const err = await rejection(sbx.commands.run('rm -rf / --no-preserve-root'));
    expect(err).toBeInstanceOf(Current.SandboxError);
    expect(err.message).toMatch(/permission_denied.*guard/i);
    expect(await t.server.engine.get(sbx.sandboxId).files.readText('keep/me.txt')).toBe('still here');
  });

  it('a command the guard holds for a person fails with the approval id; approved for the session, the retry runs', async () => {
    const line = 'cat ~/.ssh/id_rsa 2>/dev/null; echo ran';
    const held = await rejection(sbx.commands.run(line));
    expect(held).toBeInstanceOf(Current.SandboxError);
    expect(held.message).toMatch(/failed_precondition/);
    const approvalId = /apr_[a-z2-7]{12}/.exec(held.message)?.[0];
    expect(approvalId).toBeDefined();
    t.server.engine.approvals.decide(approvalId ?? '', { approve: true, scope: 'session', by: 'key:a-person' });
    expect((await sbx.commands.run(line)).stdout).toBe('ran\n');
  });

  it('refuses user root, a missing process and a bad signal with clear errors', async () => {
    const root = await rejection(sbx.commands.run('id -u', { user: 'root' }));
    expect(root).toBeInstanceOf(Current.SandboxError);
    expect(root.message).toMatch(/unimplemented.*user "root" is not available/);
    await expect(sbx.commands.sendStdin(999_999, 'x')).rejects.toBeInstanceOf(Current.NotFoundError);
    expect(await sbx.commands.kill(999_999)).toBe(false);
    const h = await sbx.commands.run('sleep 30', { background: true });
    const noStdin = await rejection(sbx.commands.sendStdin(h.pid, 'x'));
    expect(noStdin).toBeInstanceOf(Current.InvalidArgumentError);
    expect(noStdin.message).toMatch(/started without stdin/);
    await h.kill();
  });

  it('keeps a quiet stream alive with keepalive messages at the interval the client asks for', async () => {
    const h = await sbx.commands.run('sleep 30', { background: true });
    const message = Buffer.from(JSON.stringify({ process: { pid: h.pid } }));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    const abort = new AbortController();
    const res = await fetch(`${t.url}/process.Process/Connect`, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        'content-type': 'application/connect+json',
        'keepalive-ping-interval': '1',
        'e2b-sandbox-id': sbx.sandboxId,
        'e2b-sandbox-port': '49983',
        'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken,
      },
      body: Buffer.concat([head, message]),
    });
    const messages: unknown[] = [];
    let buffered = Buffer.alloc(0);
    const started = Date.now();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
        messages.push(JSON.parse(buffered.subarray(5, 5 + buffered.readUInt32BE(1)).toString()));
        buffered = buffered.subarray(5 + buffered.readUInt32BE(1));
      }
      if (messages.length >= 3) break;
    }
    abort.abort();
    expect(messages).toEqual([{ event: { start: { pid: h.pid } } }, { event: { keepalive: {} } }, { event: { keepalive: {} } }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    await h.kill();
  });

  it('a command that cannot start is an error, not a result', async () => {
    const message = Buffer.from(JSON.stringify({ process: { cmd: '/no/such/program', args: [] } }));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    const res = await fetch(`${t.url}/process.Process/Start`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken },
      body: Buffer.concat([head, message]),
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body[0]).toBe(2); // end of stream, nothing before it
    expect(JSON.parse(body.subarray(5).toString())).toMatchObject({ error: { code: 'invalid_argument', message: expect.stringMatching(/Could not start "\/no\/such\/program"/) as string } });
    // Client streaming (StreamInput), which the SDK never uses, is refused by name.
    const streamInput = await fetch(`${t.url}/process.Process/StreamInput`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken },
      body: '{}',
    });
    expect(streamInput.status).toBe(501);
    expect(await streamInput.json()).toMatchObject({ code: 'unimplemented', message: expect.stringMatching(/StreamInput .* is not supported/) as string });
  });
});
