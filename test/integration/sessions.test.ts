/** Stateful shell sessions in a real bubblewrap sandbox: state, framing, limits, restarts and teardown, with the host as oracle. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasCode, type SessionResult } from '@warden/protocol';
import type { Sandbox, Session } from '@warden/core';
import { markerToken } from '../../packages/core/src/session/framing.js';
import { eventually, processesOwnedBy, sandboxProcessAlive, sandboxProcesses, testEngine, testRuntime, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let sbx: Sandbox;

beforeAll(async () => {
  t = await testEngine();
  sbx = await t.engine.create({ limits: { timeoutMs: 20_000 } });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

/** A session in the shared sandbox whose id is printed if the test fails. */
async function session(box: Sandbox = sbx, opts?: Parameters<Sandbox['sessions']['create']>[0]): Promise<Session> {
  const s = await box.sessions.create(opts);
  onTestFailed(() => console.error(`sandbox ${box.id}, session ${s.id}: ${JSON.stringify(s.info())}`));
  return s;
}

/** Host pids of the sandbox's processes whose argv is exactly `argv` (gVisor: pids in its kernel, which holds them). */
async function hostPids(box: Sandbox, argv: readonly string[]): Promise<number[]> {
  if (testRuntime() === 'gvisor') return (await sandboxProcesses(t.engine, box)).filter((p) => p.cmdline === argv.join(' ')).map((p) => p.pid);
  const want = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const pid of await processesOwnedBy(new Set([box.info().hostUid]))) {
    if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) === want) pids.push(pid);
  }
  return pids;
}

/** Whether a pid of `hostPids` still runs (a zombie does not). */
async function hostRunning(box: Sandbox, pid: number): Promise<boolean> {
  return sandboxProcessAlive(t.engine, box, pid);
}

/** Waits until exactly one such process runs on the host and returns its pid. */
async function oneHostPid(box: Sandbox, argv: readonly string[]): Promise<number> {
  let pids: number[] = [];
  await eventually(async () => (pids = await hostPids(box, argv)).length === 1, 10_000, `${argv.join(' ')} to run`);
  return pids[0]!;
}

const ok = (stdout: string, stderr = ''): Partial<SessionResult> => ({ reason: 'exited', exitCode: 0, stdout, stderr, truncated: false, sessionRestarted: false });

describe('state persists between commands', () => {
  it('keeps cwd, exported and shell variables, functions and aliases', async () => {
    await using s = await session();
    expect(s.id).toMatch(/^ses_[a-z2-7]{12}$/);
    expect(s.info()).toMatchObject({ shell: 'bash', cwd: '/workspace', state: 'open', commandsRun: 0 });

    expect(await s.run('mkdir -p /tmp/w && cd /tmp/w && export EXPORTED=e1 && LOCAL=l1')).toMatchObject(ok(''));
    expect(await s.run('greet() { echo "hello $1"; }; alias ll="echo aliased"')).toMatchObject(ok(''));
    const r = await s.run('echo "$PWD $EXPORTED $LOCAL"; greet you; ll; sh -c \'echo "child sees ${EXPORTED:-nothing} ${LOCAL:-nothing}"\'');

    expect(r).toMatchObject(ok('/tmp/w e1 l1\nhello you\naliased\nchild sees e1 nothing\n'));
    expect(s.info()).toMatchObject({ cwd: '/tmp/w', commandsRun: 3, busy: false });
  });

  it('starts in the cwd and env it was given', async () => {
    await sbx.exec(['mkdir', '-p', '/tmp/start here']);
    await using s = await session(sbx, { cwd: '/tmp/start here', env: { GREETING: 'hi there' } });
    expect(await s.run('echo "$PWD|$GREETING"')).toMatchObject(ok('/tmp/start here|hi there\n'));
  });

  it('treats an unbalanced quote as a syntax error of that command, and the next command runs', async () => {
    await using s = await session();
    const bad = await s.run('echo "unterminated');
    expect(bad).toMatchObject({ reason: 'exited', exitCode: 2, stdout: '' });
    expect(bad.stderr).toMatch(/unexpected EOF/);
    expect(await s.run("echo 'also unterminated")).toMatchObject({ reason: 'exited', exitCode: 2 });
    // bash 5.2 misreads a line that starts with a reserved word after such an error: the frame guards against it.
    expect(await s.run('for i in 1 2; do echo "$i"; done')).toMatchObject(ok('1\n2\n'));
  });
});

describe('output framing', () => {
  it('keeps stdout and stderr apart', async () => {
    await using s = await session();
    expect(await s.run('echo out; echo err >&2; echo out2')).toMatchObject(ok('out\nout2\n', 'err\n'));
  });

  it('delivers all 256 byte values exactly on both streams, and output without a trailing newline', async () => {
    await using s = await session();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const escaped = [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    const out: Buffer[] = [];
    const err: Buffer[] = [];

    const r = await s.run(`printf '${escaped}'; printf '${escaped}' >&2`, { onStdout: (b) => out.push(b), onStderr: (b) => err.push(b) });

    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
    expect(Buffer.concat(err).equals(bytes)).toBe(true);
    expect(await s.run('printf abc; printf x >&2')).toMatchObject(ok('abc', 'x'));
    expect(await s.run('printf "line\\n\\n"')).toMatchObject(ok('line\n\n'));
  });

  it('passes large output through unchanged', async () => {
    await using s = await session();
    const r = await s.run('seq 1 200000');
    expect(r.stdout).toBe(Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join(''));
  });

  it('leaves output that looks like an end marker of another nonce alone', async () => {
    await using s = await session();
    const fake = Buffer.concat([markerToken('0'.repeat(32)), Buffer.from('0 /\0'), markerToken('f'.repeat(32)).subarray(0, 20), Buffer.from('tail')]);
    const escaped = [...fake].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    const out: Buffer[] = [];
    const err: Buffer[] = [];

    const r = await s.run(`printf '${escaped}'; printf '${escaped}' >&2; exit_code() { return 5; }; exit_code`, {
      onStdout: (b) => out.push(b),
      onStderr: (b) => err.push(b),
    });

    expect(r).toMatchObject({ reason: 'exited', exitCode: 5 });
    expect(Buffer.concat(out).equals(fake)).toBe(true);
    expect(Buffer.concat(err).equals(fake)).toBe(true);
  });

  it('never gives a command the session’s control stream as stdin; stdin bytes go to the command only', async () => {
    await using s = await session();
    expect(await s.run('cat; read line; echo "[$?:${line-}]"')).toMatchObject(ok('[1:]\n'));
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await s.run('od -An -tx1 | tr -d " \\n"', { stdin: bytes })).toMatchObject(ok(bytes.toString('hex')));
    expect(await s.run('echo after')).toMatchObject(ok('after\n'));
  });

  it('a set -x trace never carries the end markers into stderr', async () => {
    await using s = await session();
    const on = await s.run('set -x; echo traced');
    const still = await s.run('echo again; set +x');

    expect(on).toMatchObject(ok('traced\n', '++ echo traced\n'));
    expect(still).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'again\n' });
    expect(still.stderr).toContain("+ command eval 'echo again; set +x'\n++ echo again\n++ set +x\n");
    expect(still.stderr).not.toMatch(/printf|__warden_end/);
    expect(await s.run('echo quiet')).toMatchObject(ok('quiet\n'));
  });
});

describe('exit status and the end of the shell', () => {
  it('passes exit statuses through, 128+n for a signal', async () => {
    await using s = await session();
    for (const code of [0, 1, 42, 255]) expect(await s.run(`(exit ${code})`)).toMatchObject({ reason: 'exited', exitCode: code });
    expect(await s.run('sh -c \'kill -TERM $$\'')).toMatchObject({ reason: 'exited', exitCode: 143 });
  });

  it('`exit 3` ends the session: the result says session-ended with the code, then the session is gone', async () => {
    const s = await session();
    const queued = [s.run('exit 3'), s.run('echo never')];

    const [exited, after] = await Promise.all(queued);

    expect(exited).toMatchObject({ reason: 'session-ended', exitCode: 3, sessionRestarted: false });
    expect(after).toMatchObject({ reason: 'session-ended', exitCode: null, stdout: '' });
    expect(s.info()).toMatchObject({ state: 'closed', closedReason: 'the shell ended (exit code 3)' });
    const err = await s.run('true').catch((e: unknown) => e);
    expect(hasCode(err, 'E_SESSION_CLOSED')).toBe(true);
    expect(() => sbx.sessions.get(s.id)).toThrow(expect.objectContaining({ code: 'E_SESSION_NOT_FOUND' }) as Error);
    expect(sbx.sessions.list().map((i) => i.id)).not.toContain(s.id);
  });

  it('close() ends the session and kills its background jobs; run() then throws E_SESSION_CLOSED', async () => {
    const s = await session();
    const argv = ['sleep', '600.101'];
    expect(await s.run(`${argv.join(' ')} >/dev/null 2>&1 &`)).toMatchObject({ reason: 'exited', exitCode: 0 });
    const bg = await oneHostPid(sbx, argv);
    expect(sbx.sessions.get(s.id)).toBe(s);

    await s.close();
    await s.close(); // idempotent

    // SIGKILLed by then; under load it may take a moment to finish dying and be reaped.
    await eventually(async () => !(await hostRunning(sbx, bg)), 2000, 'the background job to be gone');
    const err = await s.run('true').catch((e: unknown) => e);
    expect(hasCode(err, 'E_SESSION_CLOSED')).toBe(true);
    expect(sbx.sessions.list().map((i) => i.id)).not.toContain(s.id);
  });
});

describe('concurrency', () => {
  it('serialises concurrent run() calls in call order, each with its own output', async () => {
    await using s = await session();
    await s.run('N=0');
    const runs = Array.from({ length: 10 }, (_, i) => s.run(`sleep 0.0${(10 - i) % 4}; N=$((N+1)); echo "$N:${i}"; echo "e${i}" >&2; (exit ${i})`));
    expect(s.info()).toMatchObject({ busy: true, queued: 9 });

    const results = await Promise.all(runs);

    results.forEach((r, i) => expect(r).toMatchObject({ reason: 'exited', exitCode: i, stdout: `${i + 1}:${i}\n`, stderr: `e${i}\n` }));
    expect(s.info()).toMatchObject({ busy: false, queued: 0, commandsRun: 11 });
  });

  it('lists and finds open sessions by id', async () => {
    await using a = await session();
    await using b = await session();
    expect(sbx.sessions.get(a.id)).toBe(a);
    expect(sbx.sessions.list().map((i) => i.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(() => sbx.sessions.get('ses_nosuchsession')).toThrow(expect.objectContaining({ code: 'E_SESSION_NOT_FOUND' }) as Error);
  });
});

describe('limits', () => {
  it('a timeout kills the command’s processes and keeps the shell and its state', async () => {
    await using s = await session();
    await s.run('cd /tmp && KEEP=kept');
    const argv = ['sleep', '600.202'];
    const running = s.run(`echo started; ${argv.join(' ')}; echo not-reached`, { timeoutMs: 1000 });
    const pid = await oneHostPid(sbx, argv);

    const r = await running;

    expect(r).toMatchObject({ reason: 'timeout', exitCode: null, stdout: 'started\n', sessionRestarted: false });
    expect(r.durationMs).toBeLessThan(5_000);
    expect(await hostRunning(sbx, pid)).toBe(false);
    expect(await s.run('echo "$KEEP $PWD"')).toMatchObject(ok('kept /tmp\n'));
  });

  it('a timeout also stops the rest of the command line and a loop of builtins, and keeps the shell', async () => {
    await using s = await session();
    await s.run('KEEP=kept');

    const list = await s.run('sleep 600; echo reached; sleep 600', { timeoutMs: 300 });
    const loop = await s.run('echo looping; while :; do :; done; echo reached', { timeoutMs: 300 });

    expect(list).toMatchObject({ reason: 'timeout', stdout: '', sessionRestarted: false });
    expect(loop).toMatchObject({ reason: 'timeout', stdout: 'looping\n', sessionRestarted: false });
    expect(list.durationMs + loop.durationMs).toBeLessThan(5_000);
    expect(await s.run('echo $KEEP')).toMatchObject(ok('kept\n'));
  });

  it('a busy loop the shell cannot leave is stopped by replacing the shell; its state is gone and the old shell too', async () => {
    await using s = await session();
    const bash = ['bash', '--noprofile', '--norc'];
    await s.run('cd /tmp && LOST=yes');
    const before = await hostPids(sbx, bash);
    expect(before).toHaveLength(1); // this session's shell

    // `break` in the interrupt trap leaves only the function's loop; the loop around it calls it again.
    const r = await s.run('echo spinning; spin() { while :; do :; done; }; while :; do spin; done', { timeoutMs: 300 });

    expect(r).toMatchObject({ reason: 'timeout', exitCode: null, stdout: 'spinning\n', sessionRestarted: true });
    expect(await s.run('echo "${LOST-unset} $PWD"')).toMatchObject(ok('unset /workspace\n'));
    expect(s.info()).toMatchObject({ restarts: 1, state: 'open', cwd: '/workspace' });
    expect(await hostRunning(sbx, before[0]!)).toBe(false);
    const after = await hostPids(sbx, bash);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });

  it('caps output, stops the command and keeps the session', async () => {
    await using s = await session();
    await s.run('KEEP=1');
    const r = await s.run('yes', { maxOutputBytes: 64 * 1024 });
    expect(r).toMatchObject({ reason: 'output-limit', truncated: true, exitCode: null, sessionRestarted: false });
    expect(r.stdout.length + r.stderr.length).toBe(64 * 1024);
    expect(await s.run('echo $KEEP')).toMatchObject(ok('1\n'));
  });

  it('abort() stops a running command; a queued one is dropped without running', async () => {
    await using s = await session();
    const ac = new AbortController();
    const running = s.run('sleep 600', { signal: ac.signal });
    const queued = s.run('touch /tmp/should-not-exist', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);

    expect(await running).toMatchObject({ reason: 'aborted', sessionRestarted: false });
    expect(await queued).toMatchObject({ reason: 'aborted', durationMs: 0 });
    expect(await s.run('test -e /tmp/should-not-exist')).toMatchObject({ reason: 'exited', exitCode: 1 });
    expect(await s.run('echo alive', { signal: AbortSignal.abort() })).toMatchObject({ reason: 'aborted' });
  });

  it('rejects bad arguments with E_INVALID_ARGUMENT and runs nothing', async () => {
    await using s = await session();
    const bad: Array<[unknown, unknown]> = [
      ['', {}],
      ['a\0b', {}],
      [42, {}],
      ['true', { timeoutMs: 0 }],
      ['true', { maxOutputBytes: 1.5 }],
      ['true', { timeout: 5 }],
      ['true', { stdin: 5 }],
      ['x'.repeat(5 * 1024 * 1024), {}],
    ];
    for (const [command, opts] of bad) {
      const err = await s.run(command as string, opts as object).catch((e: unknown) => e);
      expect(hasCode(err, 'E_INVALID_ARGUMENT'), JSON.stringify([command, opts]).slice(0, 80)).toBe(true);
    }
    expect(s.info().commandsRun).toBe(0);
    const badCwd = await sbx.sessions.create({ cwd: '/nope' }).catch((e: unknown) => e);
    expect(hasCode(badCwd, 'E_EXEC_FAILED')).toBe(true);
    expect((badCwd as Error).message).toContain('/nope');
    const relative = await sbx.sessions.create({ cwd: 'rel' }).catch((e: unknown) => e);
    expect(hasCode(relative, 'E_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('without bash', () => {
  it('falls back to sh, with the same state, framing and timeouts', async () => {
    await sbx.exec(['sh', '-c', 'mkdir -p /tmp/shonly && ln -sf "$(command -v dash || command -v sh)" /tmp/shonly/sh']);
    // With only sh on PATH, the session's launcher finds no bash.
    await using s = await session(sbx, { env: { PATH: '/tmp/shonly' } });
    expect(s.info().shell).toBe('sh');

    expect(await s.run('export PATH=/usr/bin:/bin; cd /tmp; X=5; f() { echo "f$1"; }')).toMatchObject(ok(''));
    expect(await s.run('printf "$X $PWD "; f 1; echo err >&2')).toMatchObject(ok('5 /tmp f1\n', 'err\n'));
    expect(await s.run('sleep 600', { timeoutMs: 300 })).toMatchObject({ reason: 'timeout', sessionRestarted: false });
    expect(await s.run('echo $X')).toMatchObject(ok('5\n'));
    const err = await s.run('cat', { stdin: 'x' }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('the sandbox ending', () => {
  it('ends its sessions: running and queued commands resolve sandbox-closed, and no process is left', async () => {
    const box = await t.engine.create();
    const hostUid = box.info().hostUid;
    try {
      const s = await session(box);
      const other = await session(box);
      await other.run('sleep 600 >/dev/null 2>&1 &');
      const running = s.run('sleep 600.303');
      const queued = s.run('echo never');
      await oneHostPid(box, ['sleep', '600.303']);

      await box.kill();

      expect(await running).toMatchObject({ reason: 'sandbox-closed', exitCode: null });
      expect(await queued).toMatchObject({ reason: 'sandbox-closed', stdout: '' });
      expect(s.info().state).toBe('closed');
      expect(other.info().state).toBe('closed');
      expect(box.sessions.list()).toEqual([]);
      const err = await s.run('true').catch((e: unknown) => e);
      expect(hasCode(err, 'E_SANDBOX_CLOSED')).toBe(true);
      const create = await box.sessions.create().catch((e: unknown) => e);
      expect(hasCode(create, 'E_SANDBOX_CLOSED')).toBe(true);
      expect(await processesOwnedBy(new Set([hostUid]))).toEqual([]);
    } finally {
      await box.kill();
    }
  });
});
