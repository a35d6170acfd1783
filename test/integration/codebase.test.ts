/** Codebases under per-path levels, enforced by the kernel; copy-on-write deltas. Host as the oracle. */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile, chmod, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { hasCode, type PolicyInput } from '@warden/protocol';
import { sandboxHostProcesses, tempDir, testEngine, testRuntime, type TempDir, type TestEngine } from '../helpers/host.js';

let t: TestEngine;
let src: TempDir;
const POLICY: PolicyInput = {
  default: 'read',
  rules: [
    { pattern: 'docs/', level: 'write' },
    { pattern: 'metadata/', level: 'view' },
    { pattern: 'secrets/', level: 'none' },
    { pattern: '.env*', level: 'none' },
  ],
};

async function fixture(dir: string): Promise<void> {
  const files: Record<string, string> = {
    'src/main.ts': 'export const answer = 42;\n',
    'src/tool.sh': '#!/bin/sh\necho tool\n',
    'docs/guide.md': '# Guide\n',
    'metadata/info.json': '{"owner":"ops","size":"exactly this"}\n',
    'secrets/db.txt': 'postgres://root:hunter2@db/prod\n',
    '.env': 'API_KEY=sk-live-123\n',
    'README.md': 'hello\n',
  };
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  await chmod(join(dir, 'src/tool.sh'), 0o755);
}

const sh = (sbx: Sandbox, script: string) => sbx.exec(['sh', '-c', script]);

beforeAll(async () => {
  t = await testEngine();
  src = await tempDir('warden-codebase-');
  await fixture(src.path);
  const m = await t.engine.codebases.add({ dir: src.path }, { name: 'app' });
  expect(m.version).toBe(1);
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
  await src?.[Symbol.asyncDispose]();
});

describe('levels, as the sandbox sees them', () => {
  let sbx: Sandbox;
  beforeAll(async () => {
    sbx = await t.engine.create({ codebase: { name: 'app' }, policy: POLICY });
  });
  afterAll(() => sbx?.kill());

  it('none: does not exist for ls, stat, open or find', async () => {
    const r = await sh(sbx, 'ls -a; stat secrets 2>&1; cat secrets/db.txt 2>&1; cat .env 2>&1; find / -name db.txt -o -name .env 2>/dev/null | grep -v ^/proc');
    expect(r.stdout).not.toMatch(/secrets\n|\.env\n|hunter2|sk-live/);
    expect(r.stdout).toMatch(/stat: cannot statx? 'secrets': No such file or directory/);
    expect(r.stdout).toMatch(/cat: secrets\/db.txt: No such file or directory/);
  });

  it('view: lists with real names and sizes, but reading is refused', async () => {
    const r = await sh(sbx, 'ls metadata; stat -c %s metadata/info.json; cat metadata/info.json; echo rc=$?');
    const realSize = (await stat(join(src.path, 'metadata/info.json'))).size;
    expect(r.stdout).toBe(`info.json\n${realSize}\nrc=1\n`);
    expect(r.stderr).toContain('Permission denied');
  });

  it('read: readable, but cannot be modified, renamed, deleted, chmodded or replaced', async () => {
    const r = await sh(
      sbx,
      [
        'cat src/main.ts',
        'echo x >> src/main.ts 2>/dev/null || echo append-denied',
        'truncate -s 0 src/main.ts 2>/dev/null || echo truncate-denied',
        'mv src/main.ts src/moved.ts 2>/dev/null || echo rename-denied',
        'rm -f src/main.ts 2>/dev/null; test -e src/main.ts && echo delete-denied',
        'chmod 777 src/main.ts 2>/dev/null || echo chmod-denied',
        'touch -d 2000-01-01 src/main.ts 2>/dev/null || echo utimes-denied',
        'ln src/main.ts docs/hardlink 2>/dev/null || echo link-denied',
        'echo new > src/new.ts 2>/dev/null || echo create-denied',
        'touch .wh.README.md 2>/dev/null || echo whiteout-name-denied; cat README.md',
        './src/tool.sh',
      ].join('; '),
    );
    expect(r.stdout).toBe(
      'export const answer = 42;\nappend-denied\ntruncate-denied\nrename-denied\ndelete-denied\nchmod-denied\nutimes-denied\nlink-denied\ncreate-denied\nwhiteout-name-denied\nhello\ntool\n',
    );
  });

  it('write: fully writable, and new files are the sandbox’s own', async () => {
    const r = await sh(sbx, 'echo more >> docs/guide.md && echo made > docs/new.md && mkdir docs/sub && mv docs/new.md docs/sub/ && cat docs/guide.md docs/sub/new.md && chmod 600 docs/sub/new.md && echo ok');
    expect(r.stdout).toBe('# Guide\nmore\nmade\nok\n');
  });

  it('a file named like an overlay whiteout is just a file: it hides nothing', async () => {
    const r = await sh(sbx, 'touch docs/.wh.guide.md && ls -a docs | grep -c guide.md && head -1 docs/guide.md');
    expect(r.stdout).toBe('2\n# Guide\n');
  });

  it('the codebase on the host never changes underneath', async () => {
    expect(await readFile(join(src.path, 'docs/guide.md'), 'utf8')).toBe('# Guide\n');
    const m = await t.engine.codebases.show('app', 1);
    expect(m.entries.find((e) => e.path === 'docs/guide.md')).toMatchObject({ size: 8 });
  });
});

/** gVisor: the overlays runsc's gofer serves at /workspace, read on the host from the mount namespace of `runsc run`. */
async function gvisorWorkspaceOverlays(s: Sandbox): Promise<string[]> {
  const stage = `${t.engine.stateDir}/gvisor/stage/ws`;
  for (const pid of await sandboxHostProcesses(t.engine, [s])) {
    if (!(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').includes('run')) continue;
    const lines = (await readFile(`/proc/${pid}/mountinfo`, 'utf8')).split('\n');
    return lines
      .filter((l) => / - overlay /.test(l))
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === stage || m.startsWith(`${stage}/`))
      .map((m) => `/workspace${m.slice(stage.length)}`);
  }
  throw new Error(`no runsc run among the host processes of ${s.id}`);
}

describe('a policy with nothing writable', () => {
  it('gets a read-only bind of the view (no overlay): same levels, empty diff, host-speed reads', async () => {
    await using s = await t.engine.create({
      codebase: { name: 'app', version: 1 },
      policy: { default: 'read', rules: [{ pattern: 'secrets/', level: 'none' }, { pattern: 'metadata/', level: 'view' }] },
    });
    const r = await sh(s, 'grep " /workspace " /proc/self/mountinfo | grep -c overlay; cat README.md; ls secrets 2>&1; cat metadata/info.json 2>&1; echo x > README.md 2>/dev/null || echo refused; touch new 2>/dev/null || echo refused');
    expect(r.stdout).toMatch(/^0\nhello\nls: cannot access 'secrets': No such file or directory\ncat: metadata\/info.json: Permission denied\nrefused\nrefused\n$/);
    expect(await s.diff()).toEqual({ added: [], modified: [], deleted: [] });
    await using w = await t.engine.create({ codebase: { name: 'app', version: 1 }, preset: 'full-write' });
    await using d = await t.engine.create({ codebase: { name: 'app', version: 1 }, policy: POLICY });
    if (testRuntime() === 'gvisor') {
      // gVisor's kernel shows its own mounts: the overlays are on the host, in runsc's mount namespace.
      expect(await gvisorWorkspaceOverlays(s)).toEqual([]);
      expect(await gvisorWorkspaceOverlays(w)).toEqual(['/workspace']);
      expect(await gvisorWorkspaceOverlays(d)).toEqual(['/workspace/docs']);
      return;
    }
    // twin: the same probe sees the overlay of a writable policy
    expect((await sh(w, 'grep " /workspace " /proc/self/mountinfo | grep -c overlay')).stdout).toBe('1\n');
    // and a policy writable only in docs/ overlays just docs/: the rest is read at host speed
    // (below /workspace: a container's own root is an overlay too)
    expect((await sh(d, 'grep overlay /proc/self/mountinfo | cut -d" " -f5 | grep ^/workspace')).stdout).toBe('/workspace/docs\n');
  });
});

describe('deltas', () => {
  it('two sandboxes writing the same path each see only their own change', async () => {
    await using a = await t.engine.create({ codebase: { name: 'app' }, preset: 'full-write' });
    await using b = await t.engine.create({ codebase: { name: 'app' }, preset: 'full-write' });
    await sh(a, 'echo A > README.md');
    await sh(b, 'echo B > README.md');
    expect((await sh(a, 'cat README.md')).stdout).toBe('A\n');
    expect((await sh(b, 'cat README.md')).stdout).toBe('B\n');
    expect((await t.engine.codebases.show('app')).version).toBe(1);
  });

  it('diff reports added, modified and deleted paths; export gives a tarball and a patch', async () => {
    await using s = await t.engine.create({ codebase: { name: 'app' }, preset: 'full-write' });
    await sh(s, 'echo changed > README.md; rm src/tool.sh; mkdir -p out; echo data > out/result.txt; rm -r docs');
    const diff = await s.diff();
    expect(diff.added.map((c) => c.path)).toEqual(['out', 'out/result.txt']);
    expect(diff.modified).toEqual([{ path: 'README.md', type: 'file', size: 8, oldSize: 6 }]);
    expect(diff.deleted.map((c) => c.path)).toEqual(['docs', 'src/tool.sh']);
    await using out = await tempDir();
    await s.exportChanges({ format: 'tar', file: join(out.path, 'changes.tar') });
    const listing = execFileSync('tar', ['-tf', join(out.path, 'changes.tar')], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(['.warden-deleted', 'README.md', 'out/', 'out/result.txt']);
    const patch = await s.exportChanges({ format: 'patch' });
    expect(patch).toContain('--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-hello\n+changed\n');
    expect(patch).toContain('--- /dev/null\n+++ b/out/result.txt');
    expect(patch).toContain('--- a/src/tool.sh\n+++ /dev/null');
    // The patch really turns the original tree into the sandbox's (git apply, outside any repository).
    await using copy = await tempDir();
    execFileSync('cp', ['-a', `${src.path}/.`, copy.path]);
    await writeFile(join(out.path, 'changes.patch'), patch);
    execFileSync('git', ['apply', join(out.path, 'changes.patch')], { cwd: copy.path });
    expect(await readFile(join(copy.path, 'README.md'), 'utf8')).toBe('changed\n');
    expect(await readFile(join(copy.path, 'out/result.txt'), 'utf8')).toBe('data\n');
    await expect(stat(join(copy.path, 'src/tool.sh'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(copy.path, 'docs/guide.md'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('commit makes a new version; running sandboxes keep theirs', async () => {
    await using older = await t.engine.create({ codebase: { name: 'app' }, preset: 'read-only' });
    await using s = await t.engine.create({ codebase: { name: 'app' }, policy: POLICY });
    await sh(s, 'echo committed > docs/guide.md; echo fresh > docs/fresh.md');
    const latest = (await t.engine.codebases.show('app')).version;
    const v = await s.commit();
    expect(v.version).toBe(latest + 1);
    // hidden entries survive the commit untouched
    expect(v.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['secrets/db.txt', '.env', 'docs/fresh.md']));
    await using newer = await t.engine.create({ codebase: { name: 'app', version: v.version }, preset: 'read-only' });
    expect((await sh(newer, 'cat docs/guide.md docs/fresh.md')).stdout).toBe('committed\nfresh\n');
    expect((await sh(older, 'cat docs/guide.md')).stdout).toBe('# Guide\n');
  });

  it('a snapshot starts new sandboxes with the frozen changes, deletions included', async () => {
    await using s = await t.engine.create({ codebase: { name: 'app', version: 1 }, preset: 'full-write' });
    await sh(s, 'echo snap > README.md; rm src/main.ts; mkdir made && echo mine > made/f');
    const snap = await s.snapshot();
    await sh(s, 'echo after > README.md');
    await using child = await t.engine.create({ snapshot: snap.id });
    expect((await sh(child, 'cat README.md; test -e src/main.ts || echo gone')).stdout).toBe('snap\ngone\n');
    const d = await child.diff();
    expect(d.modified.map((c) => c.path)).toEqual(['README.md']);
    expect(d.deleted.map((c) => c.path)).toEqual(['src/main.ts']);
    // what the first sandbox created stays changeable for sandboxes started from the snapshot
    expect((await sh(child, 'echo more >> made/f && cat made/f && rm -r made && echo removed')).stdout).toBe('mine\nmore\nremoved\n');
  });

  it('a directory replaced by a symlink is a deletion plus an addition, and commits', async () => {
    await using s = await t.engine.create({ codebase: { name: 'app', version: 1 }, preset: 'full-write' });
    await sh(s, 'rm -r docs && ln -s /etc docs');
    const d = await s.diff();
    expect(d.deleted).toEqual([{ path: 'docs', type: 'dir', size: 0 }]);
    expect(d.added).toEqual([{ path: 'docs', type: 'symlink', size: 0 }]);
    const v = await s.commit();
    expect(v.entries.filter((e) => e.path === 'docs' || e.path.startsWith('docs/'))).toEqual([{ type: 'symlink', path: 'docs', target: '/etc' }]);
  });

  it('the writable layer has a quota; hitting it says so', async () => {
    await using s = await t.engine.create({ codebase: { name: 'app' }, preset: 'full-write', limits: { diskMb: 4, memoryMb: 256 } });
    const r = await sh(s, 'head -c 8000000 /dev/zero > big; echo rc=$?');
    expect(r.stdout).toBe('rc=1\n');
    expect(r.stderr).toContain('No space left on device');
  });
});

describe('bad input', () => {
  it('a missing codebase is a typed error and nothing is left', async () => {
    const err = await t.engine.create({ codebase: { name: 'nope' } }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toMatch(/^E_CODEBASE_NOT_FOUND$/);
    expect(t.engine.list()).toEqual([]);
  });

  it('a bad pattern names the rule and leaves nothing behind', async () => {
    const err = await t.engine.create({ codebase: { name: 'app' }, policy: { rules: [{ pattern: 'src/[a', level: 'read' }] } }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toContain('rules[0].pattern "src/[a"');
    expect(t.engine.list()).toEqual([]);
    expect(await readdir(join(t.engine.stateDir, 'stage', 'ws')).catch(() => [])).toEqual([]);
  });

  it('diff on a plain sandbox, or after kill, says why not', async () => {
    await using plain = await t.engine.create();
    expect(hasCode(await plain.diff().catch((e: unknown) => e), 'E_NO_CODEBASE')).toBe(true);
    const s = await t.engine.create({ codebase: { name: 'app' } });
    await s.kill();
    expect(hasCode(await s.commit().catch((e: unknown) => e), 'E_SANDBOX_CLOSED')).toBe(true);
  });

  it('deleting a codebase also removes its views, giving the disk space back', async () => {
    await t.engine.codebases.add({ dir: src.path }, { name: 'short-lived' });
    const s = await t.engine.create({ codebase: { name: 'short-lived' }, preset: 'full-write' });
    const views = join(t.dataDir, 'views');
    expect((await readdir(views)).filter((v) => v.startsWith('short-lived@'))).toHaveLength(1);
    await s.kill();
    await t.engine.codebases.delete('short-lived');
    expect((await readdir(views)).filter((v) => v.startsWith('short-lived@'))).toEqual([]);
    // views of other codebases are untouched
    expect((await readdir(views)).some((v) => v.startsWith('app@'))).toBe(true);
  });

  it('a codebase in use cannot be deleted', async () => {
    await using _s = await t.engine.create({ codebase: { name: 'app' } });
    const err = await t.engine.codebases.delete('app').catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_CODEBASE_IN_USE');
  });

  it('a writable layer larger than the memory limit is refused up front', async () => {
    const err = await t.engine.create({ codebase: { name: 'app' }, limits: { diskMb: 512, memoryMb: 128 } }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toContain('limits.diskMb (512) is more than limits.memoryMb (128)');
  });

  it('combining a codebase with a host workspace is refused', async () => {
    const err = await t.engine.create({ codebase: { name: 'app' }, workspace: { hostPath: src.path } }).catch((e: unknown) => e);
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
  });

  it('no overlay or tmpfs mount is ever visible on the host', async () => {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(t.engine.stateDir);
    if (testRuntime() === 'docker') {
      // dockerd cannot see a private namespace: a codebase's layers are mounted under <stateDir>/docker/<sandbox> while it runs; none is left once it is gone.
      expect((await readdir(join(t.engine.stateDir, 'docker')).catch(() => [])).filter((n) => n.startsWith('sbx_'))).toEqual([]);
    } else {
      expect(await readdir(join(t.engine.stateDir, ...(testRuntime() === 'gvisor' ? ['gvisor'] : []), 'stage', 'ws'))).toEqual([]);
    }
  });
});
