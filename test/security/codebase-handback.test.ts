/**
 * Threat: the host (root) reads a codebase sandbox's changes to diff, export,
 * commit or snapshot them, through `/proc/<pid>/root/...`. Paths under that
 * magic link still resolve absolute symlinks against the HOST's root, so a
 * symlink the sandbox plants — over a directory of a snapshot layer, or
 * swapped in for a directory while the host walks it — could make root read
 * a host file into a diff, an export, a new codebase version or a snapshot. And a commit could delete entries the sandbox could
 * not even see (`none`), by deleting the directory that held them.
 * Oracles (the host): the bytes of every export, every blob in the store and
 * every file of a snapshot never hold the host secret; the latest version
 * still has the hidden entries with their content. Twins: a secret the
 * sandbox itself writes does show up in the same exports, blobs and
 * snapshots; a directory without hidden entries is deleted by a commit.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest, Sandbox } from '@warden/core';
import { hasCode, type PolicyInput } from '@warden/protocol';
import { eventually, tempDir, type TempDir } from '../helpers/host.js';
import { token, useEngine } from './harness.js';

const h = useEngine();

const HIDDEN_SECRET = token('hidden');
const FILES: Record<string, string> = {
  'README.md': 'hello\n',
  'out/w.txt': 'writable\n',
  'out/sub/x.txt': 'x\n',
  'out/sub/.env': `KEY=${HIDDEN_SECRET}\n`, // none
  'out/plain/y.txt': 'y\n',
};
const POLICY: PolicyInput = {
  default: 'read',
  rules: [
    { pattern: 'out/', level: 'write' },
    { pattern: '.env', level: 'none' },
  ],
};
const NAME = 'handback';

let src: TempDir;
let host: TempDir;
let base: Manifest;
const HOST_SECRET = token('host-secret');
const HOST_ONLY_NAME = `${token('host-only')}.txt`;

const dataDir = (): string => h.engine.config.dataDir;
const create = (): Promise<Sandbox> => h.create({ codebase: { name: NAME, version: 1 }, policy: POLICY });

async function sh(sbx: Sandbox, script: string, ...args: string[]): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const r = await sbx.exec(['sh', '-c', script, 'sh', ...args], { timeoutMs: 20_000 });
  expect(r.reason, `${script}: ${r.stderr}`).toBe('exited');
  return r;
}

/** Every regular file under `dir` (recursively) whose bytes contain `needle`. */
/** Every path under `dir`, without following symlinks (a snapshot may legitimately hold one to a host path). */
async function walkNoFollow(dir: string): Promise<Array<{ path: string; isFile: boolean }>> {
  const out: Array<{ path: string; isFile: boolean }> = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    out.push({ path: p, isFile: e.isFile() });
    if (e.isDirectory()) out.push(...(await walkNoFollow(p)));
  }
  return out;
}

async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await walkNoFollow(dir)) {
    if (e.isFile && (await readFile(e.path)).includes(needle)) out.push(e.path);
  }
  return out;
}

beforeAll(async () => {
  src = await tempDir('warden-handback-src-');
  for (const [p, text] of Object.entries(FILES)) {
    await mkdir(join(src.path, p, '..'), { recursive: true });
    await writeFile(join(src.path, p), text);
  }
  await h.engine.codebases.add({ dir: src.path }, { name: NAME });
  base = await h.engine.codebases.show(NAME, 1);
  // A host directory with a root-only secret the sandbox will point at.
  host = await tempDir('warden-handback-host-');
  await writeFile(join(host.path, 'secret.txt'), `${HOST_SECRET}\n`, { mode: 0o600 });
  await writeFile(join(host.path, HOST_ONLY_NAME), `${HOST_SECRET}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await src?.[Symbol.asyncDispose]();
  await host?.[Symbol.asyncDispose]();
});

/** Ways the host takes a sandbox's changes, each returning the bytes or files it produced for the checks. */
interface Handback {
  readonly tar: () => Promise<Buffer>;
  readonly patch: () => Promise<string>;
  readonly commit: () => Promise<string[]>;
  readonly snapshot: () => Promise<string>;
}

function handback(sbx: Sandbox, out: string): Handback {
  return {
    tar: async () => {
      const file = join(out, 'changes.tar');
      await sbx.exportChanges({ format: 'tar', file });
      return readFile(file);
    },
    patch: () => sbx.exportChanges({ format: 'patch' }),
    commit: async () => {
      const v = await sbx.commit();
      const added = v.entries.filter((e) => e.type === 'file' && !base.entries.some((b) => b.type === 'file' && b.sha256 === e.sha256));
      return added.map((e) => (e.type === 'file' ? join(dataDir(), 'codebases', 'blobs', e.sha256.slice(0, 2), e.sha256) : ''));
    },
    snapshot: async () => join(dataDir(), 'snapshots', (await sbx.snapshot()).id),
  };
}

describe('symlinks the sandbox plants are handed back as symlinks', () => {
  it('a link to a host file comes back as a link: no export, commit or snapshot holds the file', async () => {
    await using out = await tempDir('warden-handback-out-');
    await using sbx = await create();
    const plant = await sh(sbx, 'ln -s "$1/secret.txt" out/link && ln -s /etc/shadow out/shadow && ln -s "$1" out/dirlink && ls out', host.path);
    expect(plant.stdout).toBe('dirlink\nlink\nplain\nshadow\nsub\nw.txt\n');
    const diff = await sbx.diff();
    expect(diff.added).toEqual([
      { path: 'out/dirlink', type: 'symlink', size: 0 },
      { path: 'out/link', type: 'symlink', size: 0 },
      { path: 'out/shadow', type: 'symlink', size: 0 },
    ]);
    const shadowLine = (await readFile('/etc/shadow', 'utf8')).split('\n')[0]!;
    const hb = handback(sbx, out.path);
    const tar = await hb.tar();
    expect(tar.includes(HOST_SECRET)).toBe(false);
    expect(tar.includes(shadowLine)).toBe(false);
    const patch = await hb.patch();
    expect(patch).not.toContain(HOST_SECRET);
    expect(patch).not.toContain(shadowLine);
    expect(await hb.commit()).toEqual([]); // no new content at all
    const latest = await h.engine.codebases.show(NAME);
    expect(latest.entries.filter((e) => e.path.startsWith('out/') && e.type === 'symlink')).toEqual([
      { type: 'symlink', path: 'out/dirlink', target: host.path },
      { type: 'symlink', path: 'out/link', target: `${host.path}/secret.txt` },
      { type: 'symlink', path: 'out/shadow', target: '/etc/shadow' },
    ]);
    const snap = await hb.snapshot();
    expect(await filesHolding(snap, HOST_SECRET)).toEqual([]);
    expect(await filesHolding(dataDir(), HOST_SECRET)).toEqual([]);
  });

  it('twin: a secret the sandbox writes itself is in the tar, the patch, the committed blobs and the snapshot', async () => {
    await using out = await tempDir('warden-handback-out-');
    await using sbx = await create();
    const own = token('own-secret');
    await sh(sbx, 'mkdir out/d && echo "$1" > out/d/secret.txt', own);
    const hb = handback(sbx, out.path);
    expect((await hb.tar()).includes(own)).toBe(true);
    expect(await hb.patch()).toContain(own);
    const blobs = await hb.commit();
    expect(blobs).toHaveLength(1);
    expect(await readFile(blobs[0]!, 'utf8')).toBe(`${own}\n`);
    expect((await filesHolding(await hb.snapshot(), own)).length).toBe(1);
  });
});

describe('a snapshot layer under the delta', () => {
  /** A snapshot whose layer holds out/d/secret.txt ("decoy"), writable by the sandboxes started from it. */
  const snapshotWithDir = async (): Promise<string> => {
    await using a = await create();
    expect((await sh(a, 'mkdir out/d && echo decoy > out/d/secret.txt && chmod 777 out/d')).exitCode).toBe(0);
    return (await a.snapshot()).id;
  };

  it('a symlink put over a directory of the layer is not followed: diff, tar, patch and commit never reach the host file', async () => {
    await using out = await tempDir('warden-handback-out-');
    await using sbx = await h.create({ snapshot: await snapshotWithDir() });
    const r = await sh(sbx, 'rm -rf out/d && ln -s "$1" out/d && readlink out/d && ls out/d/', host.path);
    expect(r.stdout).toBe(`${host.path}\n`); // inside, the link leads nowhere
    const leaks: string[] = [];
    const diff = await sbx.diff();
    const below = [...diff.added, ...diff.modified].filter((c) => c.path.startsWith('out/d/'));
    if (below.length > 0) leaks.push(`diff reports entries below the symlink (the host's): ${JSON.stringify(below)}`);
    const hb = handback(sbx, out.path);
    // Each hand-back must work (the symlink is handed back as a symlink), and none may carry the host file.
    if ((await hb.tar()).includes(HOST_SECRET)) leaks.push('the tarball holds the host secret');
    if ((await hb.patch()).includes(HOST_SECRET)) leaks.push('the patch holds the host secret');
    for (const b of await hb.commit()) if ((await readFile(b)).includes(HOST_SECRET)) leaks.push(`blob ${b} holds the host secret`);
    expect(leaks, 'host data read through a sandbox symlink').toEqual([]);
    expect(await filesHolding(dataDir(), HOST_SECRET)).toEqual([]);
  });

  it("twin: left alone, the layer's file is in the diff, the tar and the patch", async () => {
    await using out = await tempDir('warden-handback-out-');
    await using sbx = await h.create({ snapshot: await snapshotWithDir() });
    const diff = await sbx.diff();
    expect(diff.added).toEqual([
      { path: 'out/d', type: 'dir', size: 0 },
      { path: 'out/d/secret.txt', type: 'file', size: 6 },
    ]);
    const hb = handback(sbx, out.path);
    expect((await hb.tar()).includes('decoy\n')).toBe(true);
    expect(await hb.patch()).toContain('+decoy\n');
  });
});

/** Swaps out/d (a dir holding secret.txt) and out/l (a symlink to the host dir) until /tmp/stop exists. */
const SWAPPER = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
os.mkdir('out/d')
with open('out/d/secret.txt', 'w') as f:
    f.write('decoy\n')
os.symlink(sys.argv[1], 'out/l')
n, end, exchange = 0, time.time() + 40, True
while time.time() < end and not os.path.exists('/tmp/stop'):
    for _ in range(256):
        if exchange and libc.renameat2(-100, b'out/d', -100, b'out/l', 2) != 0:  # RENAME_EXCHANGE
            if ctypes.get_errno() != 22 or n:
                sys.exit('renameat2: errno %d' % ctypes.get_errno())
            exchange = False  # no RENAME_EXCHANGE here (gVisor): three renames, a window after each
        if not exchange:
            os.rename('out/d', 'out/t'); os.rename('out/l', 'out/d'); os.rename('out/t', 'out/l')
        n += 1
print(n)
`;

describe('racing symlink swaps while the host reads the changes', () => {
  it('diff, tar and patch export, commit and snapshot never read a host file through a swapped-in symlink', async () => {
    await using out = await tempDir('warden-handback-out-');
    await using sbx = await create();
    expect((await sbx.exec(['sh', '-c', 'cat > /tmp/swap.py'], { stdin: SWAPPER })).exitCode).toBe(0);
    const swapper = sbx.exec(['python3', '/tmp/swap.py', host.path], { timeoutMs: 60_000 });
    await eventually(async () => (await sh(sbx, 'test -L out/l -o -L out/d && echo up')).stdout === 'up\n', 5000, 'the swapper to start');

    const leaks: string[] = [];
    const errors = new Map<string, number>();
    const noteError = (op: string, err: unknown): void => {
      const k = `${op}: ${(err as { code?: string }).code ?? (err as Error).message.slice(0, 60)}`;
      errors.set(k, (errors.get(k) ?? 0) + 1);
    };
    const hb = handback(sbx, out.path);
    const decoy = Buffer.byteLength('decoy\n');
    // (out/t: where the three-rename swap parks the decoy dir.)
    const allowed = new Set(['out/d', 'out/l', 'out/t', 'out/d/secret.txt', 'out/l/secret.txt', 'out/t/secret.txt']);
    const successes = new Map<string, number>();
    const race = async (op: string, attempt: () => Promise<string | undefined>): Promise<void> => {
      const until = Date.now() + 2000;
      for (let i = 0; Date.now() < until; i++) {
        try {
          const leak = await attempt();
          successes.set(op, (successes.get(op) ?? 0) + 1);
          if (leak !== undefined) {
            leaks.push(`${op} (attempt ${i}): ${leak}`);
            return;
          }
        } catch (err) {
          noteError(op, err); // refusing is fine; leaking is not
        }
      }
    };
    await race('diff', async () => {
      const d = await sbx.diff();
      const odd = [...d.added, ...d.modified].filter((c) => !allowed.has(c.path) || (c.type === 'file' && c.size !== decoy));
      return odd.length > 0 ? `reported ${JSON.stringify(odd)}` : undefined;
    });
    await race('tar export', async () => ((await hb.tar()).includes(HOST_SECRET) ? 'the tarball holds the host secret' : undefined));
    await race('patch export', async () => ((await hb.patch()).includes(HOST_SECRET) ? 'the patch holds the host secret' : undefined));
    await race('commit', async () => {
      for (const blob of await hb.commit()) if ((await readFile(blob)).includes(HOST_SECRET)) return `blob ${blob} holds the host secret`;
      return undefined;
    });
    await race('snapshot', async () => {
      const snap = await hb.snapshot();
      const found = [...(await filesHolding(snap, HOST_SECRET)), ...(await walkNoFollow(snap)).map((e) => e.path).filter((p) => p.includes(HOST_ONLY_NAME))];
      return found.length > 0 ? `snapshot files ${found.join(', ')}` : undefined;
    });

    await sh(sbx, 'touch /tmp/stop');
    const swaps = await swapper;
    expect(swaps.exitCode, swaps.stderr).toBe(0);
    expect(Number(swaps.stdout), 'the race really ran').toBeGreaterThan(1000);
    console.info(`swaps: ${swaps.stdout.trim()}; refusals: ${JSON.stringify(Object.fromEntries(errors))}`);
    expect(leaks, 'host data read through a sandbox symlink').toEqual([]);
    // A hand-back that always refused would pass the leak check: each must also have worked under the race.
    for (const op of ['diff', 'tar export', 'patch export', 'commit', 'snapshot']) expect(successes.get(op) ?? 0, `${op} succeeded`).toBeGreaterThan(0);
    expect(await filesHolding(join(dataDir(), 'codebases'), HOST_SECRET)).toEqual([]);
  });
});

describe('commit never drops what the sandbox could not see', () => {
  /** Commits; then the new version has the hidden entry as it was, or the commit was refused and made no version. */
  const commitKeepsHidden = async (sbx: Sandbox): Promise<void> => {
    const before = (await h.engine.codebases.show(NAME)).version;
    const v = await sbx.commit().catch((e: unknown) => e);
    if (v instanceof Error) {
      expect(hasCode(v, 'E_COMMIT_CONFLICT'), v.message).toBe(true);
      expect((await h.engine.codebases.show(NAME)).version).toBe(before);
      return;
    }
    const was = base.entries.find((e) => e.path === 'out/sub/.env');
    expect(was?.type).toBe('file');
    expect(
      (v as Manifest).entries.find((e) => e.path === 'out/sub/.env'),
      `version ${(v as Manifest).version} lost the hidden out/sub/.env`,
    ).toEqual(was);
  };

  it.each([
    ['rm -rf of the dir that holds it', 'rm -rf out/sub && test ! -e out/sub'],
    ['rmdir after emptying what is visible', 'rm out/sub/x.txt && rmdir out/sub'],
    ['mv of the dir that holds it', 'mv -T out/sub out/moved && test ! -e out/sub'],
  ])('%s: the hidden entry survives the commit, or the commit is refused', async (_what, script) => {
    await using sbx = await create();
    expect((await sh(sbx, 'ls -A out/sub')).stdout).toBe('x.txt\n'); // all the sandbox sees
    const r = await sh(sbx, script);
    expect(r.exitCode, r.stderr).toBe(0);
    await commitKeepsHidden(sbx);
  });

  it('writing at the hidden path is refused at commit (the guard that exists for writes)', async () => {
    await using sbx = await create();
    await sh(sbx, 'echo mine > out/sub/.env');
    const before = (await h.engine.codebases.show(NAME)).version;
    const err = await sbx.commit().catch((e: unknown) => e);
    expect(hasCode(err, 'E_COMMIT_CONFLICT')).toBe(true);
    expect((await h.engine.codebases.show(NAME)).version).toBe(before);
  });

  it('twin: a dir without hidden entries is deleted by the same commit', async () => {
    await using sbx = await create();
    await sh(sbx, 'rm -rf out/plain');
    const v = await sbx.commit();
    expect(v.entries.filter((e) => e.path.startsWith('out/plain'))).toEqual([]);
    expect((await h.engine.codebases.show(NAME)).version).toBe(v.version);
  });
});
