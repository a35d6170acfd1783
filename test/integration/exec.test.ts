/** Behaviour of commands in a real bubblewrap sandbox: results, streams, stdin, signals, limits. */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import type { Sandbox } from '@warden/core';
import { eventually, sandboxHostProcesses, testEngine, testRuntime, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let sbx: Sandbox;

beforeAll(async () => {
  t = await testEngine();
  sbx = await t.engine.create({ limits: { timeoutMs: 20_000 } });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
});

describe('exec results', () => {
  it('passes exit codes through', async () => {
    for (const code of [0, 1, 42, 255]) {
      const r = await sbx.exec(['sh', '-c', `exit ${code}`]);
      expect(r).toMatchObject({ reason: 'exited', exitCode: code, signal: null });
    }
  });

  it('reports death by signal with its name', async () => {
    const r = await sbx.exec(['sh', '-c', 'kill -TERM $$']);
    expect(r).toMatchObject({ reason: 'signaled', exitCode: null, signal: 'SIGTERM' });
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await sbx.exec(['sh', '-c', 'echo out; echo err >&2; echo out2']);
    expect(r.stdout).toBe('out\nout2\n');
    expect(r.stderr).toBe('err\n');
  });

  it('runs Python', async () => {
    const r = await sbx.exec(['python3', '-c', 'print(sum(range(10)))']);
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: '45\n' });
  });

  it('feeds stdin and closes it', async () => {
    const r = await sbx.exec(['sh', '-c', 'wc -c; cat'], { stdin: 'x'.repeat(100_000) });
    expect(r.stdout.trim()).toBe('100000');
  });

  it('uses cwd and env, and hides nothing it was given', async () => {
    await sbx.exec(['mkdir', '-p', '/workspace/sub']);
    const r = await sbx.exec(['sh', '-c', 'pwd; echo "$GREETING"'], { cwd: '/workspace/sub', env: { GREETING: 'hi there' } });
    expect(r.stdout).toBe('/workspace/sub\nhi there\n');
  });

  it('names a missing command and a missing cwd as E_EXEC_FAILED', async () => {
    const missing = await sbx.exec(['no-such-command-xyz']).catch((e: unknown) => e);
    expect(hasCode(missing, 'E_EXEC_FAILED')).toBe(true);
    expect((missing as Error).message).toContain('no-such-command-xyz');
    const badCwd = await sbx.exec(['true'], { cwd: '/nope' }).catch((e: unknown) => e);
    expect(hasCode(badCwd, 'E_EXEC_FAILED')).toBe(true);
    expect((badCwd as Error).message).toContain('/nope');
  });

  it('rejects bad argv and options with E_INVALID_ARGUMENT', async () => {
    for (const argv of [[], [''], ['a\0b'], 'ls' as unknown as string[], [1] as unknown as string[]]) {
      const err = await sbx.exec(argv).catch((e: unknown) => e);
      expect(hasCode(err, 'E_INVALID_ARGUMENT'), JSON.stringify(argv)).toBe(true);
    }
    for (const opts of [{ timeoutMs: 0 }, { timeoutMs: 1.5 }, { maxOutputBytes: -1 }, { cwd: 'relative' }, { env: { 'BAD NAME': 'x' } }]) {
      const err = await sbx.exec(['true'], opts).catch((e: unknown) => e);
      expect(hasCode(err, 'E_INVALID_ARGUMENT'), JSON.stringify(opts)).toBe(true);
    }
    const huge = await sbx.exec(['echo', 'x'.repeat(17 * 1024 * 1024)]).catch((e: unknown) => e);
    expect(hasCode(huge, 'E_INVALID_ARGUMENT')).toBe(true);
    expect((huge as Error).message).toContain('16 MiB');
    // the sandbox is still fine afterwards
    expect((await sbx.exec(['true'])).exitCode).toBe(0);
  });
});

describe('streaming', () => {
  it('delivers output in order as it is produced', async () => {
    const seen: string[] = [];
    const r = await sbx.exec(['sh', '-c', 'for i in 1 2 3 4 5; do echo o$i; echo e$i >&2; sleep 0.02; done'], {
      onStdout: (b) => seen.push(`out:${b.toString().trim()}`),
      onStderr: (b) => seen.push(`err:${b.toString().trim()}`),
    });
    expect(r.exitCode).toBe(0);
    expect(seen).toEqual(['out:o1', 'err:e1', 'out:o2', 'err:e2', 'out:o3', 'err:e3', 'out:o4', 'err:e4', 'out:o5', 'err:e5']);
  });

  it('streams stdin interactively through spawn', async () => {
    const lines: string[] = [];
    const p = sbx.spawn(['sh', '-c', 'while read l; do echo "got $l"; done'], { stdin: 'pipe', onStdout: (b) => lines.push(b.toString()) });
    await p.write('one\n');
    await p.write('two\n');
    await p.end();
    const r = await p.wait();
    expect(r.reason).toBe('exited');
    expect(r.stdout).toBe('got one\ngot two\n');
  });

  it('round-trips binary data', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = await sbx.exec(['sh', '-c', 'od -An -tx1 | tr -d " \\n"'], { stdin: bytes });
    expect(r.stdout).toBe(bytes.toString('hex'));
  });
});

describe('signals and concurrency', () => {
  it('delivers signals to a running process', async () => {
    let out = '';
    const p = sbx.spawn(['sh', '-c', 'trap "echo caught; exit 7" USR1; echo ready; while :; do sleep 0.05; done'], {
      onStdout: (b) => (out += b.toString()),
    });
    // "ready" is printed after the trap is installed
    await eventually(() => out.includes('ready'), 5000, 'the trap to be installed');
    p.kill('SIGUSR1', 'process');
    const r = await p.wait();
    expect(r).toMatchObject({ reason: 'exited', exitCode: 7 });
    expect(r.stdout).toContain('caught');
  });

  it('runs many processes in one sandbox at once without mixing output', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => sbx.exec(['sh', '-c', `sleep 0.0$((${i} % 5)); echo proc-${i}; exit ${i % 7}`])));
    results.forEach((r, i) => {
      expect(r.stdout).toBe(`proc-${i}\n`);
      expect(r.exitCode).toBe(i % 7);
    });
  });

  it('abort() kills the command and says so', async () => {
    const ac = new AbortController();
    const running = sbx.exec(['sleep', '30'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await running;
    expect(r.reason).toBe('aborted');
    expect(r.durationMs).toBeLessThan(10_000);
  });
});

/** CPU time (user + system, reaped children included) of the sandbox's host processes, in ms. */
async function hostCpuMs(box: Sandbox): Promise<number> {
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  let ticks = 0;
  for (const pid of await sandboxHostProcesses(t.engine, [box])) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0); // utime stime cutime cstime
  }
  return (ticks * 1000) / hz;
}

describe('limits', () => {
  it('a timeout kills the whole process tree, grandchildren included', async () => {
    const r = await sbx.exec(['sh', '-c', 'sleep 600 & sleep 600 & (sleep 600 &) ; sleep 600'], { timeoutMs: 300 });
    expect(r).toMatchObject({ reason: 'timeout', signal: 'SIGKILL' });
    const left = await sbx.exec(['sh', '-c', 'ps -eo comm | grep -c "^sleep" || true']);
    expect(left.stdout.trim()).toBe('0');
  });

  it('caps output and ends the command', async () => {
    const r = await sbx.exec(['sh', '-c', 'while :; do echo flood; done'], { maxOutputBytes: 64 * 1024 });
    expect(r).toMatchObject({ reason: 'output-limit', truncated: true });
    expect(r.stdout.length + r.stderr.length).toBe(64 * 1024);
  });

  it('returns when the process exits even if a background child keeps stdout open', async () => {
    const r = await sbx.exec(['sh', '-c', 'sleep 30 & echo started'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'started\n' });
    expect(r.durationMs).toBeLessThan(5_000);
    await sbx.exec(['pkill', 'sleep']);
  });

  it('holds a busy loop to its CPU quota', async () => {
    const slow = await t.engine.create({ limits: { cpus: 0.2 } });
    try {
      // gVisor's kernel counts a throttled task's time as running: there the host's count of the
      // sandbox's processes (sentry and stubs, children included) is the oracle.
      const gvisor = testRuntime() === 'gvisor';
      const before = gvisor ? await hostCpuMs(slow) : 0;
      const r = await slow.exec(['timeout', '1', 'sh', '-c', 'while :; do :; done']);
      const used = gvisor ? (await hostCpuMs(slow)) - before : r.cpuUserMs + r.cpuSystemMs;
      // 1 s of wall clock at 0.2 CPUs: about 200 ms of CPU time, never a full second.
      expect(used).toBeLessThan(450);
      expect(used).toBeGreaterThan(50);
    } finally {
      await slow.kill();
    }
  });

  it('enforces rlimits: no core dumps, capped file size, capped open files', async () => {
    const t2 = await t.engine.create({ limits: { fileSizeMb: 1, nofile: 64 } });
    try {
      const r = await t2.exec(['sh', '-c', 'ulimit -c; ulimit -n; head -c 2000000 /dev/zero > /workspace/big; echo rc=$?; stat -c %s /workspace/big']);
      // core 0, nofile 64, and the writer killed by SIGXFSZ (128+25) with exactly 1 MiB written
      expect(r.stdout).toBe('0\n64\nrc=153\n1048576\n');
    } finally {
      await t2.kill();
    }
  });
});
