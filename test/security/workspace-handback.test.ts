/**
 * Threat: a lent workspace is handed back to its (root) owner after the
 * sandbox ends: entries the sandbox planted there — a setuid program, a
 * symlink to /etc/shadow, a device node — could turn into a root setuid
 * binary on the host or make the hand-back chown a host file.
 * Oracle: the host's view of the workspace and of /etc/shadow after the
 * sandbox is gone. Twin: ordinary files the sandbox made are handed back,
 * with their content and permission bits.
 */
import { chmod, chown, lstat, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, tempDir } from '../helpers/host.js';
import { useEngine } from './harness.js';

const h = useEngine();

describe('handing a lent workspace back gives the host nothing dangerous', () => {
  it('a setuid/setgid program made inside is not a root setuid program afterwards', async () => {
    await using host = await tempDir('warden-handback-');
    {
      await using sbx = await h.create({ workspace: { hostPath: host.path } });
      const r = await sbx.exec(['sh', '-c', 'cp /usr/bin/id /workspace/suid && chmod 6755 /workspace/suid && stat -c %a /workspace/suid'], {
        timeoutMs: 10_000,
      });
      expect(r.reason).toBe('exited');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe('6755\n'); // the sandbox may set the bits on its own file
    }

    const st = await stat(join(host.path, 'suid'));
    expect(st.uid).toBe(0); // handed back to the directory's owner
    expect(st.mode & 0o6000).toBe(0); // …without the setuid/setgid bits
    expect(st.mode & 0o777).toBe(0o755);
  });

  it('a symlink to a host file planted inside does not make the hand-back chown or chmod that file', async () => {
    await using host = await tempDir('warden-handback-');
    // The victim is owned by nobody with an odd mode, so a hand-back that followed the link (chown to the
    // workspace owner, root) would visibly change it; /etc/shadow, already root's, could not show that.
    await using elsewhere = await tempDir('warden-victim-');
    const victim = join(elsewhere.path, 'victim');
    await writeFile(victim, 'host data\n');
    await chown(victim, 65534, 65534);
    await chmod(victim, 0o604);
    {
      await using sbx = await h.create({ workspace: { hostPath: host.path } });
      const r = await sbx.exec(['sh', '-c', `ln -s ${victim} /workspace/victim && ln -s ${elsewhere.path} /workspace/dir`], { timeoutMs: 10_000 });
      expect(r.reason).toBe('exited');
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const after = await stat(victim);
    expect({ uid: after.uid, gid: after.gid, mode: after.mode & 0o7777 }).toEqual({ uid: 65534, gid: 65534, mode: 0o604 });
    expect((await stat(elsewhere.path)).uid).toBe(0);
    expect(await readlink(join(host.path, 'victim'))).toBe(victim);
    expect((await lstat(join(host.path, 'victim'))).uid).toBe(0); // the link itself was handed back
  });

  it('a file name that is not UTF-8 neither breaks the hand-back nor stays owned by the sandbox uid', async () => {
    await using host = await tempDir('warden-handback-');
    const name = Buffer.from([...Buffer.from('bad'), 0xff, 0xfe]);
    let sandboxUid = 0;
    {
      await using sbx = await h.create({ workspace: { hostPath: host.path } });
      sandboxUid = sbx.info().hostUid;
      const r = await sbx.exec(['sh', '-c', `mkdir /workspace/d && printf x > "/workspace/d/$(printf 'bad\\377\\376')"`], { timeoutMs: 10_000 });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const path = Buffer.concat([Buffer.from(`${host.path}/d/`), name]);
    const st = await lstat(path);
    expect(st.uid).not.toBe(sandboxUid); // twin: inside, the sandbox uid owned it
    expect(st.uid).toBe(0);
    expect((await lstat(join(host.path, 'd'))).uid).toBe(0);
  });

  it('cannot create a device node in the workspace', async () => {
    await using host = await tempDir('warden-handback-');
    await using sbx = await h.create({ workspace: { hostPath: host.path } });

    const r = await sbx.exec(['mknod', '/workspace/mem', 'c', '1', '1'], { timeoutMs: 10_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(await exists(join(host.path, 'mem'))).toBe(false);
  });

  it('twin: ordinary files made inside come back to the owner with their content and mode', async () => {
    await using host = await tempDir('warden-handback-');
    {
      await using sbx = await h.create({ workspace: { hostPath: host.path } });
      const r = await sbx.exec(['sh', '-c', 'mkdir /workspace/d && echo hi > /workspace/d/f && chmod 640 /workspace/d/f'], { timeoutMs: 10_000 });
      expect(r.reason).toBe('exited');
      expect(r.exitCode, r.stderr).toBe(0);
    }

    const st = await stat(join(host.path, 'd', 'f'));
    expect(st.uid).toBe(0);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(await readFile(join(host.path, 'd', 'f'), 'utf8')).toBe('hi\n');
  });
});
