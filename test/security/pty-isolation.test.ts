/**
 * Threat: the pseudo-terminal the agent gives a command (spawn's `pty`) becomes
 * a way out: sandboxed code types commands into the shell a user drives through
 * it (TIOCSTI), the terminal is one of the host's (so /dev/pts on the host is
 * reachable), or escape sequences make the host side answer as a terminal
 * emulator would and feed input back in.
 * Oracle: the errno and the shell's output (an injected line would run before
 * a later sentinel); the host's stat of the terminal the command holds; the
 * exact bytes the host receives.
 * Twins: the same line typed by the host does run; a pty opened on the host
 * is on the host's devpts instance, by the same stat.
 */
import { readdir, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Sandbox, SandboxProcess } from '@warden/core';
import { eventually, testRuntime } from '../helpers/host.js';
import { hostPidsMatching, runOnHost, sandboxHostPids, useEngine } from './harness.js';

const h = useEngine();
const PTY = { cols: 80, rows: 24 } as const;
const EPERM = 1;

/** Types `line` into the terminal of fd 0, one TIOCSTI per byte. */
const PY_TIOCSTI = `
import fcntl, sys, termios
try:
    for ch in sys.argv[1].encode():
        fcntl.ioctl(0, termios.TIOCSTI, bytes([ch]))
    print('sti ok')
except OSError as e:
    print('sti errno %d' % e.errno)
`;

interface Shell {
  readonly sh: SandboxProcess;
  readonly text: () => string;
  /** Types `line` and waits until `answer` appears in the output. */
  run(line: string, answer: RegExp): Promise<void>;
}

async function interactiveShell(sbx: Sandbox): Promise<Shell> {
  const chunks: Buffer[] = [];
  const text = (): string => Buffer.concat(chunks).toString('utf8');
  const sh = sbx.spawn(['sh', '-i'], { pty: PTY, env: { PS1: 'PROMPT> ' }, onStdout: (b) => chunks.push(b), timeoutMs: 30_000 });
  const waitFor = (re: RegExp): Promise<void> =>
    eventually(() => re.test(text()), 10_000, `${re} in the shell's output`).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; output: ${JSON.stringify(text())} (sandbox ${sbx.id})`);
    });
  await waitFor(/PROMPT> $/);
  return {
    sh,
    text,
    run: async (line, answer) => {
      await sh.write(`${line}\n`);
      await waitFor(answer);
    },
  };
}

describe('a pty does not open a way out of the sandbox', () => {
  it('TIOCSTI on the pty fails with EPERM and types nothing into the shell reading it', async () => {
    await using sbx = await h.create();
    await sbx.exec(['sh', '-c', 'cat > /workspace/sti.py'], { stdin: PY_TIOCSTI });
    const shell = await interactiveShell(sbx);

    await shell.run("python3 /workspace/sti.py 'echo injected-$((1000 + 337))'", /sti (ok|errno \d+)\r\n/);
    // Input is read in order: an injected line would run before this sentinel.
    // (The terminal echoes the line as typed: only its output has the computed number.)
    await shell.run('echo sentinel-$((40 + 2))', /sentinel-42\r\n/);

    expect(shell.text()).toContain(`sti errno ${EPERM}\r\n`);
    expect(shell.text()).not.toContain('injected-1337');
    await shell.sh.write('exit 0\n');
    expect(await shell.sh.wait()).toMatchObject({ reason: 'exited', exitCode: 0 });
  });

  it('twin: the same line typed by the host does run, and the oracle sees it', async () => {
    await using sbx = await h.create();
    const shell = await interactiveShell(sbx);

    await shell.run('echo injected-$((1000 + 337))', /injected-1337\r\n/);

    await shell.sh.write('exit 0\n');
    expect(await shell.sh.wait()).toMatchObject({ reason: 'exited', exitCode: 0 });
  });

  it("the terminal comes from the sandbox's own devpts instance, never the host's", async () => {
    await using sbx = await h.create();
    const p = sbx.spawn(['sleep', '600'], { pty: PTY });
    await p.started();
    if (testRuntime() === 'gvisor') {
      // gVisor's terminals live in its own kernel: no host process of the sandbox (runsc, gofer,
      // sentry, stubs) holds anything on the host's devpts.
      const hostPts = await stat('/dev/pts/ptmx');
      const held: string[] = [];
      for (const pid of await sandboxHostPids(h.engine, sbx)) {
        for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
          const st = await stat(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
          if (st?.isCharacterDevice() && st.dev === hostPts.dev) held.push(`host pid ${pid} fd ${fd}`);
        }
      }
      expect(held).toEqual([]);
      p.kill();
      expect(await p.wait()).toMatchObject({ reason: 'signaled', signal: 'SIGKILL' });
      return;
    }
    let pids: number[] = [];
    await eventually(async () => (pids = await hostPidsMatching(sbx.info().hostUid, 'sleep 600')).length === 1, 5000, 'the sleeper on the host');

    const terminal = await stat(`/proc/${pids[0]!}/fd/0`);
    const hostPts = await stat('/dev/pts/ptmx');

    expect(terminal.isCharacterDevice()).toBe(true);
    expect(terminal.dev, 'the devpts superblock of the terminal').not.toBe(hostPts.dev);
    p.kill();
    expect(await p.wait()).toMatchObject({ reason: 'signaled', signal: 'SIGKILL' });
  });

  it('twin: a pty opened on the host is on the host devpts instance, by the same stat', async () => {
    const r = await runOnHost(['/usr/bin/python3', '-c', 'import os, pty\nm, s = pty.openpty()\nprint(os.stat("/proc/self/fd/%d" % s).st_dev)'], { uid: 65534 });

    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout)).toBe((await stat('/dev/pts/ptmx')).dev);
  });

  it('without pty a command has no controlling terminal: /dev/tty cannot be opened', async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['python3', '-c', "import os\ntry:\n    os.open('/dev/tty', os.O_RDWR)\n    print('opened')\nexcept OSError as e:\n    print(e.errno)"]);

    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: testRuntime() === 'gvisor' ? '5\n' : '6\n' }); // ENXIO (gVisor: EIO)
    const withPty = await sbx.exec(['python3', '-c', "import os\nos.open('/dev/tty', os.O_RDWR)\nprint('opened')"], { pty: PTY });
    // gVisor (runsc 0.0~20221219) opens no /dev/tty at all, controlling terminal or not (EIO).
    if (testRuntime() === 'gvisor') expect(withPty.stdout).toMatch(/OSError: \[Errno 5\] Input\/output error: '\/dev\/tty'/);
    else expect(withPty.stdout).toBe('opened\r\n');
  });

  it('escape sequences that make a terminal answer reach the host as plain bytes, and nothing answers them', async () => {
    await using sbx = await h.create();
    // Cursor position report, device attributes, window title report, clipboard read (OSC 52).
    const queries = '\x1b[6n\x1b[c\x1b[21t\x1b]52;c;?\x07';
    const probe = `stty raw -echo; printf '${queries.replaceAll('\x1b', '\\033').replaceAll('\x07', '\\007')}'; ` + "answer=$(timeout 1 dd bs=64 count=1 2>/dev/null | od -An -c); stty sane; echo \"answer:[$answer]\"";

    const r = await sbx.exec(['sh', '-c', probe], { pty: PTY });

    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(r.stdout.startsWith(queries), JSON.stringify(r.stdout)).toBe(true);
    expect(r.stdout.slice(queries.length)).toBe('answer:[]\r\n');
  });
});
