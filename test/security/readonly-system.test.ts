/**
 * Threat: sandboxed code changes modes or owners of the system files it is
 * shown (a setuid /usr/bin/env, a writable /etc/passwd) or replaces them.
 * Oracle: the host files keep their mode, owner, size and mtime — both the
 * host's /usr and /etc and the engine's own /etc files bound into the sandbox.
 * Twin: the same chmod works on a file the sandbox owns, and the host sees it.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, testRuntime } from '../helpers/host.js';
import { useEngine } from './harness.js';

const h = useEngine();

const fingerprint = async (p: string): Promise<string> => {
  const s = await stat(p);
  return `mode=${s.mode.toString(8)} uid=${s.uid} gid=${s.gid} size=${s.size} mtime=${s.mtimeMs} ino=${s.ino}`;
};

/** [description, argv] — each must fail inside. */
const ATTACKS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['chmod setuid /usr/bin/env', ['chmod', '4777', '/usr/bin/env']],
  ['chmod /usr/bin/python3.11', ['chmod', '777', '/usr/bin/python3.11']],
  ['chown /usr/bin/env', ['chown', '1000:1000', '/usr/bin/env']],
  ['chmod /etc/passwd', ['chmod', '666', '/etc/passwd']],
  ['chown /etc/passwd', ['chown', '1000', '/etc/passwd']],
  ['append to /etc/passwd', ['sh', '-c', 'echo "evil::0:0::/:/bin/sh" >> /etc/passwd']],
  ['truncate /usr/bin/env', ['sh', '-c', ': > /usr/bin/env']],
  ['remove /usr/bin/env', ['rm', '-f', '/usr/bin/env']],
  ['rename /etc/passwd', ['mv', '/etc/passwd', '/etc/passwd.old']],
  ['touch /usr/bin/env', ['touch', '/usr/bin/env']],
];

describe('read-only system paths cannot be changed', () => {
  it.each(ATTACKS)('%s fails and the host file is unchanged', async (_what, argv) => {
    await using sbx = await h.create();
    // The engine's passwd bound into the sandbox (docker: one per sandbox, naming its host uid; gvisor: in its shared root).
    const bound = {
      bwrap: `${h.engine.stateDir}/etc/passwd`,
      docker: `${h.engine.stateDir}/docker/${sbx.id}/etc/passwd`,
      gvisor: `${h.engine.stateDir}/gvisor/rootfs/etc/passwd`,
    }[testRuntime()];
    const watched = ['/usr/bin/env', '/usr/bin/python3.11', '/etc/passwd', bound];
    const before = await Promise.all(watched.map(fingerprint));

    const r = await sbx.exec(argv, { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system|Operation not permitted|Permission denied/);
    expect(await Promise.all(watched.map(fingerprint))).toEqual(before);
  });

  it('twin: the same chmod works on a file the sandbox owns, and the host sees the new mode', async () => {
    await using host = await tempDir('warden-chmod-');
    const file = join(host.path, 'mine');
    await writeFile(file, 'x', { mode: 0o644 });
    await using sbx = await h.create({ workspace: { hostPath: host.path } });

    const r = await sbx.exec(['chmod', '600', '/workspace/mine'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect((await stat(file)).mode & 0o7777).toBe(0o600);
  });
});
