/**
 * Threat: TIOCSTI pushes keystrokes into a terminal's input queue; a
 * sandboxed process holding a terminal of the user could type commands into
 * the user's shell after the sandbox exits (CVE-2017-5226).
 * Oracle: the errno, and the pty master (an injected byte is echoed there).
 * Twin: on the same pty TIOCGWINSZ works inside, and the same probe run on
 * the host by an unprivileged uid without the filter gets past EPERM.
 */
import { describe, expect, it } from 'vitest';
import { runOnHost, useEngine } from './harness.js';

const h = useEngine();
const EPERM = 1;

/**
 * Forks onto a new pty as the child's controlling terminal (TIOCSTI needs
 * that). The child reports TIOCGWINSZ and TIOCSTI on the terminal; the parent
 * prints everything the master received: the child's report and any echo of
 * an injected byte.
 */
const PY_TIOCSTI = `
import fcntl, json, os, pty, select, termios
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCGWINSZ, b'\\0' * 8)
    os.write(1, b'winsz ok\\n')
    try:
        fcntl.ioctl(0, termios.TIOCSTI, b'Q')
        os.write(1, b'sti 0\\n')
    except OSError as e:
        os.write(1, b'sti %d\\n' % e.errno)
    os._exit(0)
os.waitpid(pid, 0)
# What the child left in the terminal: read until EOF/EIO (Linux, once the slave is gone) or until
# nothing more comes (gVisor's master never reports the hang-up).
data = b''
while select.select([master], [], [], 0.5)[0]:
    try:
        chunk = os.read(master, 1024)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(json.dumps(data.decode().replace('\\r', '')))
`;

describe('terminal input injection is blocked', () => {
  it('TIOCSTI on its own controlling pty fails with EPERM inside and injects nothing', async () => {
    await using sbx = await h.create();

    const r = await sbx.exec(['python3', '-c', PY_TIOCSTI], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(`winsz ok\nsti ${EPERM}\n`); // and no echoed Q
  });

  it('twin: on the host, without the filter, the same probe gets past EPERM', async () => {
    const r = await runOnHost(['/usr/bin/python3', '-c', PY_TIOCSTI], { uid: 65534 });

    expect(r.code, r.stderr).toBe(0);
    const tty = JSON.parse(r.stdout) as string;
    const m = /^winsz ok\n(Q?)sti (\d+)\n$/.exec(tty);
    expect(m, tty).not.toBeNull();
    expect(Number(m![2])).not.toBe(EPERM);
    // Where the host still allows TIOCSTI (dev.tty.legacy_tiocsti=1), the master saw the injected byte.
    if (m![2] === '0') expect(m![1]).toBe('Q');
  });
});
