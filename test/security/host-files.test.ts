/**
 * Threat: sandboxed code reads or writes files of the host it was not given.
 * Oracle: the host filesystem (the secret never shows up inside, the target
 * path never appears on the host). Twin: the same probes on a host directory
 * lent as the workspace do read and write it.
 */
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, tempDir } from '../helpers/host.js';
import { token, useEngine } from './harness.js';

const h = useEngine();

/** Every way to name a host path from inside that we can think of. */
const aliases = (p: string): string[] => [p, `/proc/1/root${p}`, `/proc/self/root${p}`, `/proc/1/cwd/../../..${p}`];

/** Lists every file holding `needle` in the sandbox's tree (but /usr, /proc, /dev, /sys: big or endless). */
const grepEverywhere = (needle: string): string[] => [
  'sh',
  '-c',
  'grep -rl --no-messages -F -e "$1" / --exclude-dir=proc --exclude-dir=usr --exclude-dir=dev --exclude-dir=sys; true',
  'sh',
  needle,
];

describe('host files are unreadable from a sandbox', () => {
  it('cannot read a world-readable secret in a host temp dir, by any path', async () => {
    await using host = await tempDir('warden-secret-');
    await chmod(host.path, 0o755); // only the mount namespace protects it, not permissions
    const secret = token('secret');
    const file = join(host.path, 'secret.txt');
    await writeFile(file, secret, { mode: 0o644 });
    await using sbx = await h.create();

    for (const p of aliases(file)) {
      const r = await sbx.exec(['cat', p], { timeoutMs: 10_000 });
      expect(r.reason, p).toBe('exited');
      expect(r.exitCode, `${p}: ${r.stderr}`).not.toBe(0);
      expect(r.stdout.includes(secret), p).toBe(false);
    }
    // Nor anywhere else the sandbox can look.
    const r = await sbx.exec(grepEverywhere(secret), { timeoutMs: 20_000 });
    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(await readFile(file, 'utf8')).toBe(secret); // the host still has it
  });

  it('twin: the same cat and grep probes find the secret when its directory is the workspace', async () => {
    await using host = await tempDir('warden-secret-');
    const secret = token('secret');
    await writeFile(join(host.path, 'secret.txt'), secret, { mode: 0o600 });
    await using sbx = await h.create({ workspace: { hostPath: host.path } });

    const r = await sbx.exec(['cat', '/workspace/secret.txt'], { timeoutMs: 10_000 });
    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(secret);

    const g = await sbx.exec(grepEverywhere(secret), { timeoutMs: 20_000 });
    expect(g.reason).toBe('exited');
    expect(g.exitCode).toBe(0);
    expect(g.stdout).toBe('/workspace/secret.txt\n');
  });

  it('cannot read /root or /etc/shadow of the host', async () => {
    const secret = token('root-secret');
    const rootFile = `/root/.${token('warden-sec')}`;
    await writeFile(rootFile, secret, { mode: 0o644 });
    try {
      await using sbx = await h.create();
      const shadow = await readFile('/etc/shadow', 'utf8');
      const rootLine = shadow.split('\n').find((l) => l.startsWith('root:'));
      expect(rootLine, 'the host has a root line in /etc/shadow').toBeDefined();

      for (const p of [...aliases(rootFile), ...aliases('/etc/shadow')]) {
        const r = await sbx.exec(['cat', p], { timeoutMs: 10_000 });
        expect(r.reason, p).toBe('exited');
        expect(r.exitCode, p).not.toBe(0);
        expect(r.stdout.includes(secret), p).toBe(false);
        expect(r.stdout.includes(rootLine!), p).toBe(false); // never print the host's shadow
      }
      const ls = await sbx.exec(['ls', '-a', '/root'], { timeoutMs: 10_000 });
      expect(ls.reason).toBe('exited');
      expect(ls.exitCode).not.toBe(0);
      expect(ls.stdout).toBe('');
    } finally {
      await rm(rootFile, { force: true });
    }
  });
});

describe('host files are unwritable from a sandbox', () => {
  it('cannot create a file in a host temp dir, even through /proc aliases', async () => {
    await using host = await tempDir('warden-escape-');
    await chmod(host.path, 0o777); // only the mount namespace protects it, not permissions
    await using sbx = await h.create();

    for (const [i, p] of aliases(join(host.path, 'pwned')).entries()) {
      const target = p.replace(/pwned$/, `pwned-${i}`);
      const r = await sbx.exec(['sh', '-c', 'echo x > "$1"', 'sh', target], { timeoutMs: 10_000 });
      expect(r.reason, target).toBe('exited');
      expect(r.exitCode, target).not.toBe(0);
      await expect(stat(join(host.path, `pwned-${i}`)), target).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('recreating the host path inside lands in the private /tmp, never on the host', async () => {
    await using host = await tempDir('warden-escape-');
    await using sbx = await h.create();
    const target = join(host.path, 'pwned');

    const r = await sbx.exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && echo x > "$1" && cat "$1"', 'sh', target], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0); // it "worked" — in the sandbox's own tmpfs
    expect(r.stdout).toBe('x\n');
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('cannot create files in the host /usr, /etc or / (read-only root)', async () => {
    await using sbx = await h.create();
    const name = token('pwned');
    const targets = [`/usr/bin/${name}`, `/etc/${name}`, `/${name}`, `/usr/lib/${name}`];

    for (const t of targets) {
      const r = await sbx.exec(['sh', '-c', 'echo x > "$1"', 'sh', t], { timeoutMs: 10_000 });
      expect(r.reason, t).toBe('exited');
      expect(r.exitCode, t).not.toBe(0);
      expect(await exists(t), `${t} on the host`).toBe(false);
    }
  });

  it('twin: the same write probe creates the file when the host dir is the workspace', async () => {
    await using host = await tempDir('warden-escape-');
    await using sbx = await h.create({ workspace: { hostPath: host.path } });

    const r = await sbx.exec(['sh', '-c', 'echo x > "$1"', 'sh', '/workspace/pwned'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(await readFile(join(host.path, 'pwned'), 'utf8')).toBe('x\n');
  });
});
