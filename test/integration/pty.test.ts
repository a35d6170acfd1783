/**
 * Commands on a pseudo-terminal (`pty`), terminal resizing, and the
 * `descendants` kill scope, in a real bubblewrap sandbox. The host's /proc is
 * the oracle for which processes are still alive.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import type { Sandbox, SandboxProcess } from '@warden/core';
import { eventually, processesOwnedBy, sandboxProcessAlive, sandboxProcesses, testEngine, testRuntime, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let sbx: Sandbox;
let uid: number;

beforeAll(async () => {
  t = await testEngine();
  sbx = await t.engine.create({ limits: { timeoutMs: 30_000 } });
  uid = sbx.info().hostUid;
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

const PTY = { cols: 80, rows: 24 } as const;

/** Output as it streams in, for waiting on a prompt or an answer. */
function capture(): { readonly text: () => string; readonly onStdout: (b: Buffer) => void } {
  const chunks: Buffer[] = [];
  return { text: () => Buffer.concat(chunks).toString('utf8'), onStdout: (b) => chunks.push(b) };
}

async function until(out: { text: () => string }, re: RegExp, what: string): Promise<void> {
  try {
    await eventually(() => re.test(out.text()), 10_000, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; output so far: ${JSON.stringify(out.text())} (sandbox ${sbx.id})`);
  }
}

async function hostCmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
}

/** Host pids of the sandbox whose command line is exactly `cmdline` (gVisor: pids in its kernel, which holds the processes). */
async function hostPids(cmdline: string): Promise<number[]> {
  if (testRuntime() === 'gvisor') return (await sandboxProcesses(t.engine, sbx)).filter((p) => p.cmdline === cmdline).map((p) => p.pid);
  const out: number[] = [];
  for (const pid of await processesOwnedBy(new Set([uid]))) if ((await hostCmdline(pid)) === cmdline) out.push(pid);
  return out;
}

/** True while a host pid exists and is not a zombie (gVisor: a pid of `hostPids`, while its kernel lists it). */
async function hostAlive(pid: number): Promise<boolean> {
  if (testRuntime() === 'gvisor') return sandboxProcessAlive(t.engine, sbx, pid);
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}

async function expectGone(pids: readonly number[], what: string): Promise<void> {
  await eventually(async () => !(await Promise.all(pids.map(hostAlive))).some(Boolean), 5000, `${what} (host pids ${pids.join(', ')}) to be gone`);
}

/** The error `fn` throws (undefined if it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** An interactive shell on a pty, its prompt seen. */
async function interactiveShell(): Promise<{ sh: SandboxProcess; out: ReturnType<typeof capture> }> {
  const out = capture();
  const sh = sbx.spawn(['sh', '-i'], { pty: PTY, env: { PS1: 'PROMPT> ' }, onStdout: out.onStdout });
  await until(out, /PROMPT> $/, 'the first prompt');
  return { sh, out };
}

describe('commands on a pseudo-terminal', () => {
  it('run on a /dev/pts terminal that is stdin, stdout and stderr', async () => {
    const r = await sbx.exec(['sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; echo to-stderr >&2'], { pty: PTY });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stderr: '' });
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\nall-ttys\r\nto-stderr\r\n$/);
  });

  it('without pty, no standard stream is a terminal', async () => {
    const r = await sbx.exec(['sh', '-c', 'for fd in 0 1 2; do [ -t $fd ] && echo "fd $fd is a tty"; done; tty; exit 0']);
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'not a tty\n' });
    const py = await sbx.exec(['python3', '-c', 'import sys; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty())']);
    expect(py.stdout).toBe('False False False\n');
  });

  it('get the requested size and TERM, and see a resize as a new size and SIGWINCH', async () => {
    const out = capture();
    const p = sbx.spawn(['sh', '-c', 'stty size; echo "$TERM"; trap "stty size; exit 0" WINCH; echo ready; while :; do sleep 0.05; done'], {
      pty: { cols: 100, rows: 30 },
      onStdout: out.onStdout,
    });
    await until(out, /ready\r\n/, 'the WINCH trap');
    expect(out.text()).toBe('30 100\r\nxterm-256color\r\nready\r\n');
    p.resize(120, 40);
    // gVisor (runsc 0.0~20221219) resizes the terminal but sends no SIGWINCH: the signal is sent by hand there.
    if (testRuntime() === 'gvisor') p.kill('SIGWINCH', 'group');
    const r = await p.wait();
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(r.stdout).toBe('30 100\r\nxterm-256color\r\nready\r\n40 120\r\n');
  });

  it('an interactive shell echoes what is typed and runs it', async () => {
    const { sh, out } = await interactiveShell();
    await sh.write('echo $((6 * 7))\n');
    await until(out, /42\r\nPROMPT> $/, 'the answer and the next prompt');
    expect(out.text()).toContain('echo $((6 * 7))\r\n'); // the terminal's echo of the input
    await sh.write('exit 3\n');
    expect(await sh.wait()).toMatchObject({ reason: 'exited', exitCode: 3 });
  });

  // gVisor (runsc 0.0~20221219) echoes ^C but sends no SIGINT: its terminals have no job-control signals.
  it.runIf(testRuntime() !== 'gvisor')('^C typed into the terminal interrupts the foreground sleep of an interactive shell, and the shell lives on', async () => {
    const { sh, out } = await interactiveShell();
    await sh.write('sleep 600\n');
    let sleeps: number[] = [];
    await eventually(async () => (sleeps = await hostPids('sleep 600')).length === 1, 5000, 'sleep 600 to run');
    await sh.write('\x03');
    await expectGone(sleeps, 'the interrupted sleep');
    await sh.write('echo "status=$?"\n');
    await until(out, /status=130\r\nPROMPT> $/, 'the status of the interrupted sleep (128 + SIGINT)');
    await sh.write('exit 4\n');
    expect(await sh.wait()).toMatchObject({ reason: 'exited', exitCode: 4 });
  });

  // gVisor (runsc 0.0~20221219) never ends a terminal read on ^D at the start of a line: `cat` would wait for ever.
  const eofOnCtrlD = testRuntime() !== 'gvisor';

  it.runIf(eofOnCtrlD)('stdin is typed and then ended with ^D', async () => {
    const r = await sbx.exec(['cat'], { pty: PTY, stdin: 'typed\n' });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'typed\r\ntyped\r\n' });
  });

  it.runIf(eofOnCtrlD)("empty stdin types a single ^D: the terminal's input stays open after it", async () => {
    const r = await sbx.exec(['sh', '-c', 'cat; echo first-done; timeout 1 cat; echo "second=$?"'], { pty: PTY, stdin: '' });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'first-done\r\nsecond=124\r\n' });
  });

  it('resize after the process ended does nothing', async () => {
    const p = sbx.spawn(['true'], { pty: PTY });
    await p.wait();
    expect(() => p.resize(100, 50)).not.toThrow();
  });
});

describe("kill scope 'descendants'", () => {
  // gVisor (runsc 0.0~20221219) sends SIGHUP to an orphaned process group when a stopped member of it dies,
  // even one whose parent is in the group (Linux spares that case): the agent's freeze-then-kill of the
  // background jobs then also ends a shell that shares their group. Known gap, see docs/runtime-gvisor.md.
  it.runIf(testRuntime() !== 'gvisor')('kills every child of a shell, as the host sees it, and the shell carries on', async () => {
    const out = capture();
    const p = sbx.spawn(['sh', '-c', 'sleep 600 & sleep 600 & (sleep 600 &); echo ready; wait; echo survived; exit 5'], { onStdout: out.onStdout });
    await until(out, /ready\n/, 'the children to start');
    let sleeps: number[] = [];
    await eventually(async () => (sleeps = await hostPids('sleep 600')).length === 3, 5000, 'three sleep 600 on the host');
    const [shell] = await hostPids('sh -c sleep 600 & sleep 600 & (sleep 600 &); echo ready; wait; echo survived; exit 5');
    expect(shell).toBeDefined();

    p.kill('SIGKILL', 'descendants');

    await expectGone(sleeps, 'every sleep, the orphaned one too');
    const r = await p.wait();
    expect(r).toMatchObject({ reason: 'exited', exitCode: 5, stdout: 'ready\nsurvived\n' });
    expect(await hostAlive(shell!)).toBe(false);
  });

  it('stops the running command of an interactive shell on a pty without ending the shell', async () => {
    const { sh, out } = await interactiveShell();
    await sh.write('sleep 600 | cat\n');
    let pipeline: number[] = [];
    await eventually(async () => (pipeline = [...(await hostPids('sleep 600')), ...(await hostPids('cat'))]).length === 2, 5000, 'the pipeline to run');

    sh.kill('SIGKILL', 'descendants');

    await expectGone(pipeline, 'the pipeline');
    // The shell may first report the job as stopped and killed (the agent freezes a tree before
    // killing it); the terminal echoes the line as typed, so only the answer has the computed number.
    await sh.write('echo alive-$((1 + 1))\n');
    await until(out, /alive-2\r\n/, 'the shell to answer');
    await sh.write('exit 0\n');
    expect(await sh.wait()).toMatchObject({ reason: 'exited', exitCode: 0 });
  });

  it('of a command without children signals nothing', async () => {
    const p = sbx.spawn(['sleep', '600']);
    await p.started();
    p.kill('SIGKILL', 'descendants');
    // A ping answered after the SIGNAL frame: the agent has handled it.
    await sbx.ping();
    const [pid] = await hostPids('sleep 600');
    expect(pid).toBeDefined();
    expect(await hostAlive(pid!)).toBe(true);
    p.kill();
    expect(await p.wait()).toMatchObject({ reason: 'signaled', signal: 'SIGKILL' });
  });
});

describe('validation', () => {
  it.each([
    ['null', null],
    ['a string', '80x24'],
    ['an array', [80, 24]],
    ['no rows', { cols: 80 }],
    ['zero columns', { cols: 0, rows: 24 }],
    ['too many rows', { cols: 80, rows: 1001 }],
    ['a fraction', { cols: 80.5, rows: 24 }],
    ['a numeric string', { cols: '80', rows: 24 }],
    ['negative rows', { cols: 80, rows: -1 }],
  ])('spawn refuses pty as %s with E_INVALID_ARGUMENT naming the option', (_name, pty) => {
    const err = thrown(() => sbx.spawn(['true'], { pty: pty as never }));
    expect(hasCode(err, 'E_INVALID_ARGUMENT'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/^pty/);
  });

  it('accepts the extremes 1 and 1000', async () => {
    const r = await sbx.exec(['stty', 'size'], { pty: { cols: 1000, rows: 1 } });
    expect(r.stdout).toBe('1 1000\r\n');
  });

  it.each([
    ['zero columns', 0, 24],
    ['too many rows', 80, 1001],
    ['NaN', Number.NaN, 24],
    ['a fraction', 80, 23.5],
  ])('resize refuses %s with E_INVALID_ARGUMENT', async (_name, cols, rows) => {
    const p = sbx.spawn(['sleep', '600'], { pty: PTY });
    try {
      const err = thrown(() => p.resize(cols, rows));
      expect(hasCode(err, 'E_INVALID_ARGUMENT'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/^resize\(cols, rows\): (cols|rows) must be an integer from 1 to 1000/);
    } finally {
      p.kill();
      await p.wait();
    }
  });

  it('resize of a process without a pty throws E_INVALID_ARGUMENT and the process is unharmed', async () => {
    const p = sbx.spawn(['sh', '-c', 'sleep 0.2; echo fine']);
    const err = thrown(() => p.resize(100, 40));
    expect(hasCode(err, 'E_INVALID_ARGUMENT'), String(err)).toBe(true);
    expect((err as Error).message).toContain('started without pty');
    expect(await p.wait()).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'fine\n' });
  });

  it('kill refuses an unknown scope with E_INVALID_ARGUMENT', async () => {
    const p = sbx.spawn(['sleep', '600']);
    try {
      const err = thrown(() => p.kill('SIGTERM', 'children' as never));
      expect(hasCode(err, 'E_INVALID_ARGUMENT'), String(err)).toBe(true);
      expect((err as Error).message).toContain('"descendants"');
    } finally {
      p.kill();
      await p.wait();
    }
  });
});
