/**
 * Threat: sandboxed code changes, reads or finds codebase entries its policy
 * does not let it change (`read`), read (`view`) or see (`none`): by chmod,
 * chown, rename, link, unlink, truncate, utimes, xattrs, symlink swaps,
 * forged overlay whiteouts and opaque markers, `..`, hard links to outside
 * paths, file handles, /proc/self/fd re-opens, or by walking and guessing.
 * Oracles (the host): the codebase's source dir, every blob under
 * `<dataDir>/codebases/blobs`, the shared view tree under `<dataDir>/views`
 * (content, mode, owner, mtime, xattrs), the stored manifest, and a fresh
 * sandbox on the same version. Twins: each operation works on a `write`
 * entry or the sandbox's own file, the same probes find a `read` file, and
 * the host fingerprint notices each kind of change made on purpose to a copy.
 */
import { chmod, copyFile, mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest, Sandbox } from '@warden/core';
import type { PolicyInput } from '@warden/protocol';
import { tempDir, testRuntime, type TempDir } from '../helpers/host.js';
import { runOnHost, token, useEngine } from './harness.js';

const h = useEngine();

const DB_SECRET = token('db-secret');
const ENV_SECRET = token('env-secret');
const DEEP_SECRET = token('deep-secret');
const DOCS_SECRET = token('docs-secret');
const VIEW_TEXT = token('view-only');
const META_TEXT = token('view-meta');

/** The codebase. Levels come from POLICY; the comments say which. */
const FILES: Record<string, string> = {
  'README.md': 'hello\n', // read
  'src/main.ts': 'export const answer = 42;\n', // read, in a read dir
  'src/tool.sh': '#!/bin/sh\necho tool\n', // read, executable
  'src/lib/util.ts': 'export const util = 1;\n', // read, nested
  'src/.env': `DEEP=${DEEP_SECRET}\n`, // none, at depth in a read dir
  'docs/guide.md': '# Guide\n', // write
  'docs/ro.md': 'read only in a writable dir\n', // read, in a writable (sticky) dir
  'docs/meta.json': `{"v":"${META_TEXT}"}\n`, // view, in a writable (sticky) dir
  'docs/ref/spec.md': '# Spec\n', // read dir inside a writable dir
  'docs/.env': `DOCS=${DOCS_SECRET}\n`, // none, in a writable dir
  'metadata/info.json': `{"v":"${VIEW_TEXT}"}\n`, // view, in a view dir
  'out/w.txt': 'writable\n', // write, in an all-writable dir
  'out/sub/x.txt': 'x\n', // write, nested
  'secrets/db.txt': `postgres://root:${DB_SECRET}@db/prod\n`, // none
  'secrets/public.txt': 'public key fingerprint\n', // read, under a hidden dir
  '.env': `API_KEY=${ENV_SECRET}\n`, // none
};

const POLICY: PolicyInput = {
  default: 'read',
  rules: [
    { pattern: 'docs/', level: 'write' },
    { pattern: 'docs/ro.md', level: 'read' },
    { pattern: 'docs/meta.json', level: 'view' },
    { pattern: 'docs/ref/', level: 'read' },
    { pattern: 'metadata/', level: 'view' },
    { pattern: 'out/', level: 'write' },
    { pattern: 'secrets/', level: 'none' },
    { pattern: 'secrets/public.txt', level: 'read' },
    { pattern: '.env', level: 'none' },
  ],
};

/** Mode of every entry as the sandbox must see it (`find -printf '%m %p'`). */
const LAYOUT = [
  '1777 ./docs',
  '444 ./docs/ro.md',
  '0 ./docs/meta.json',
  '555 ./docs/ref',
  '444 ./docs/ref/spec.md',
  '666 ./docs/guide.md',
  '555 .',
  '444 ./README.md',
  '555 ./metadata',
  '0 ./metadata/info.json',
  '777 ./out',
  '777 ./out/sub',
  '666 ./out/sub/x.txt',
  '666 ./out/w.txt',
  '555 ./secrets',
  '444 ./secrets/public.txt',
  '555 ./src',
  '555 ./src/lib',
  '444 ./src/lib/util.ts',
  '444 ./src/main.ts',
  '555 ./src/tool.sh',
].sort();

const NAME = 'levels';
let src: TempDir;
let manifest: Manifest;
let baseline: Fingerprint;
let roots: string[];

const dataDir = (): string => h.engine.config.dataDir;
const blobOf = (path: string): string => {
  const e = manifest.entries.find((x) => x.path === path);
  if (e?.type !== 'file') throw new Error(`${path} is not a file of the manifest`);
  return join(dataDir(), 'codebases', 'blobs', e.sha256.slice(0, 2), e.sha256);
};

/**
 * Everything the host keeps about the codebase, as root sees it: per entry
 * type and mode, owner, and for non-directories size, mtime, sha256 of the
 * content or the link target; xattrs (trusted.* included) of every entry.
 */
type Fingerprint = Record<string, unknown[]>;
const FINGERPRINT_PY = String.raw`
import hashlib, json, os, stat, sys
out = {}
def add(p):
    st = os.lstat(p)
    rec = [stat.filemode(st.st_mode), st.st_uid, st.st_gid]
    if stat.S_ISREG(st.st_mode):
        with open(p, 'rb') as f:
            rec += [st.st_size, st.st_mtime_ns, st.st_nlink, hashlib.sha256(f.read()).hexdigest()]
    elif stat.S_ISLNK(st.st_mode):
        rec.append(os.readlink(p))
    rec.append(sorted([k, os.getxattr(p, k, follow_symlinks=False).hex()] for k in os.listxattr(p, follow_symlinks=False)))
    out[p] = rec
for root in sys.argv[1:]:
    add(root)
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            add(os.path.join(d, n))
print(json.dumps(out, sort_keys=True))
`;

async function fingerprint(paths: readonly string[]): Promise<Fingerprint> {
  const r = await runOnHost(['/usr/bin/python3', '-c', FINGERPRINT_PY, ...paths], { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Fingerprint;
}

/** Differences between two fingerprints, readable in a failure message. */
function changes(before: Fingerprint, after: Fingerprint): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = JSON.stringify(before[k]);
    const b = JSON.stringify(after[k]);
    if (a !== b) out.push(`${k}: ${a ?? 'absent'} -> ${b ?? 'absent'}`);
  }
  return out;
}

async function sh(sbx: Sandbox, script: string, ...args: string[]): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const r = await sbx.exec(['sh', '-c', script, 'sh', ...args], { timeoutMs: 20_000 });
  expect(r.reason, `${script}: ${r.stderr}`).toBe('exited');
  return r;
}

const create = (): Promise<Sandbox> => h.create({ codebase: { name: NAME }, policy: POLICY });

/** What the sandbox sees of one entry: mode, owner, size, mtime, links, type, and a hash when readable. */
const STATE = 'stat -c "%a %U:%G %s %.9Y %h %F" -- "$1"; { sha256sum < "$1"; } 2>/dev/null || echo unreadable';
const stateOf = async (sbx: Sandbox, path: string): Promise<string> => (await sh(sbx, STATE, path)).stdout;

// When only some directories are writable, the rest of the workspace is a read-only bind and each writable
// directory its own overlay: refusals there are EROFS, and links or moves between them are cross-device.
// Under one overlay of everything they are plain DAC (EACCES/EPERM).
// gVisor (runsc 0.0~20221219) has no extended attributes on host mounts at all: setxattr is refused as unsupported.
const DENIED = testRuntime() === 'gvisor' ? /Permission denied|Operation not permitted|Read-only file system|Invalid cross-device link|Operation not supported/ : /Permission denied|Operation not permitted|Read-only file system|Invalid cross-device link/;

beforeAll(async () => {
  src = await tempDir('warden-levels-');
  for (const [p, text] of Object.entries(FILES)) {
    await mkdir(join(src.path, p, '..'), { recursive: true });
    await writeFile(join(src.path, p), text);
  }
  await chmod(join(src.path, 'src/tool.sh'), 0o755);
  await h.engine.codebases.add({ dir: src.path }, { name: NAME });
  manifest = await h.engine.codebases.show(NAME);
  // Build the shared view once, then record what the host has.
  await (await h.engine.create({ codebase: { name: NAME }, policy: POLICY })).kill();
  const views = join(dataDir(), 'views');
  const viewDirs = (await readdir(views)).filter((n) => !n.startsWith('.')).map((n) => join(views, n));
  expect(viewDirs.length).toBe(2); // the variants dir and this policy's view
  roots = [src.path, join(dataDir(), 'codebases', 'blobs'), ...viewDirs];
  baseline = await fingerprint(roots);
});

afterEach(async () => {
  if (!baseline) return;
  expect(changes(baseline, await fingerprint(roots)), 'the host copy of the codebase changed').toEqual([]);
  expect(await h.engine.codebases.show(NAME)).toEqual(manifest);
});

afterAll(async () => {
  await src?.[Symbol.asyncDispose]();
});

describe('the layout the attacks start from', () => {
  it('modes and visibility are as the policy says', async () => {
    await using sbx = await create();
    const r = await sh(sbx, "find . -printf '%m %p\\n' | sort");
    expect(r.stdout.trim().split('\n')).toEqual(LAYOUT);
  });
});

interface FileAttack {
  readonly name: string;
  /** Acts on "$1", a read or view file; must fail. */
  readonly cmd: string;
  /** Twin: after `setup`, the same `cmd` on `path` succeeds, and `proof` then prints `proves`. */
  readonly twin?: { readonly path: string; readonly setup?: string; readonly proof: string; readonly proves: string };
}

const OWN = 'echo mine > docs/mine.txt';
const SETXATTR = (name: string): string => `python3 -c "import os, sys; os.setxattr(sys.argv[1], '${name}', b'y')" "$1"`;
const GETXATTR = (name: string, path: string): string => `python3 -c "import os; print(os.getxattr('${path}', '${name}').decode())"`;

const FILE_ATTACKS: readonly FileAttack[] = [
  { name: 'chmod', cmd: 'chmod 666 "$1"', twin: { path: 'docs/mine.txt', setup: OWN, proof: 'stat -c %a docs/mine.txt', proves: '666\n' } },
  {
    name: 'chown',
    // To the sandbox's own uid and gid (1000 under bwrap's user namespace, the host uid in a container).
    cmd: 'chown "$(id -u):$(id -g)" "$1"',
    twin: { path: 'docs/mine.txt', setup: OWN, proof: 'stat -c %U:%G docs/mine.txt', proves: 'sandbox:sandbox\n' },
  },
  {
    name: 'utimes to a chosen time',
    cmd: 'touch -c -d @946684800 "$1"',
    twin: { path: 'docs/mine.txt', setup: OWN, proof: 'stat -c %Y docs/mine.txt', proves: '946684800\n' },
  },
  {
    name: 'utimes to now',
    cmd: 'touch -c "$1"',
    twin: {
      path: 'out/w.txt',
      setup: 'stat -c %.9Y out/w.txt > /tmp/before',
      proof: '[ "$(stat -c %.9Y out/w.txt)" != "$(cat /tmp/before)" ] && echo changed',
      proves: 'changed\n',
    },
  },
  { name: 'truncate', cmd: 'truncate -s 0 "$1"', twin: { path: 'out/w.txt', proof: 'stat -c %s out/w.txt', proves: '0\n' } },
  { name: 'append', cmd: 'echo pwned >> "$1"', twin: { path: 'out/w.txt', proof: 'cat out/w.txt', proves: 'writable\npwned\n' } },
  {
    name: 'overwrite in place (dd conv=notrunc)',
    cmd: 'printf PWNED | dd of="$1" conv=notrunc status=none',
    twin: { path: 'out/w.txt', proof: 'cat out/w.txt', proves: 'PWNEDble\n' },
  },
  { name: 'rename in place', cmd: 'mv -T -- "$1" "$1.moved"', twin: { path: 'out/w.txt', proof: 'ls out', proves: 'sub\nw.txt.moved\n' } },
  { name: 'move into a writable dir', cmd: 'mv -- "$1" out/moved', twin: { path: 'docs/mine.txt', setup: OWN, proof: 'cat out/moved', proves: 'mine\n' } },
  { name: 'unlink', cmd: 'rm -f -- "$1"', twin: { path: 'out/w.txt', proof: 'ls out', proves: 'sub\n' } },
  {
    name: 'hard link into a writable dir, then write through the link',
    cmd: 'ln -- "$1" out/hl && echo pwned >> out/hl',
    // (links between two writable directories cross mounts; within one they work)
    twin: { path: 'out/w.txt', proof: 'cat out/hl', proves: 'writable\npwned\n' },
  },
  { name: 'set a user.* xattr', cmd: SETXATTR('user.warden'), twin: { path: 'out/w.txt', proof: GETXATTR('user.warden', 'out/w.txt'), proves: 'y\n' } },
  // No twin inside: trusted.* needs CAP_SYS_ADMIN, which no sandbox file grants; the host twin below proves the oracle sees xattrs.
  { name: 'set a trusted.overlay.* xattr (forge overlay metadata)', cmd: SETXATTR('trusted.overlay.metacopy') },
  {
    name: 'symlink swap: make a writable path a link to it, then write through',
    cmd: 'rm -f out/w.txt && ln -s "/workspace/$1" out/w.txt && echo pwned >> out/w.txt',
    twin: { path: 'docs/guide.md', proof: 'cat docs/guide.md', proves: '# Guide\npwned\n' },
  },
  {
    name: 'rename a writable file over it',
    cmd: 'echo evil > docs/evil && mv -f -- docs/evil "$1"',
    twin: { path: 'out/w.txt', proof: 'cat out/w.txt', proves: 'evil\n' },
  },
  {
    name: 'plant an overlay whiteout (char 0:0) on its name from /tmp',
    cmd: 'rm -f /tmp/wh && mknod /tmp/wh c 0 0 && mv -f /tmp/wh "$1"',
    // Twin: moving the same whiteout over a write entry replaces the name (as a plain copy, not a whiteout: see below).
  },
];

const TARGETS = [
  { path: 'src/main.ts', what: 'a read file in a read dir' },
  { path: 'docs/ro.md', what: 'a read file in a writable sticky dir' },
  { path: 'docs/meta.json', what: 'a view file in a writable sticky dir' },
  { path: 'metadata/info.json', what: 'a view file in a view dir' },
] as const;

describe('read and view files cannot be changed, renamed, removed or replaced', () => {
  it.each(FILE_ATTACKS)('$name: refused on read and view files; twin: works where the level allows it', async (attack) => {
    await using sbx = await create();
    for (const t of TARGETS) {
      const before = await stateOf(sbx, t.path);
      const r = await sh(sbx, attack.cmd, t.path);
      expect(r.exitCode, `${attack.name} on ${t.what} (${t.path}) succeeded: ${r.stdout}`).not.toBe(0);
      expect(r.stderr, `${t.path}`).toMatch(DENIED);
      expect(await stateOf(sbx, t.path), `${t.path} as the sandbox sees it`).toBe(before);
    }
    // (gVisor: no xattrs anywhere, so the user.* twin cannot work there; the refusals above still hold.)
    if (attack.twin && !(testRuntime() === 'gvisor' && attack.cmd.includes('setxattr'))) {
      const { path, setup, proof, proves } = attack.twin;
      if (setup) expect((await sh(sbx, setup)).exitCode).toBe(0);
      const r = await sh(sbx, attack.cmd, path);
      expect(r.exitCode, `twin on ${path}: ${r.stderr}`).toBe(0);
      expect((await sh(sbx, proof)).stdout).toBe(proves);
    }
  });

  it('writing into a view placeholder, or reading it by any open, is refused; twin: the same opens read a read file', async () => {
    await using sbx = await create();
    // Every way to open a file we know of, by path and through descriptors.
    const OPENS = String.raw`
import os, sys
p = sys.argv[1]
d, n = os.path.split(p)
def attempt(name, f):
    try:
        print(name, 'READ', f().strip())
    except OSError as e:
        print(name, 'ERR', e.errno)
def read_fd(fd):
    try:
        return os.read(fd, 4096).decode()
    finally:
        os.close(fd)
attempt('open', lambda: read_fd(os.open(p, os.O_RDONLY)))
attempt('openat(O_PATH dir)', lambda: read_fd(os.open(n, os.O_RDONLY, dir_fd=os.open(d, os.O_PATH | os.O_DIRECTORY))))
attempt('reopen /proc/self/fd of O_PATH', lambda: read_fd(os.open('/proc/self/fd/%d' % os.open(p, os.O_PATH), os.O_RDONLY)))
attempt('/proc/self/root', lambda: read_fd(os.open('/proc/self/root/workspace/' + p, os.O_RDONLY)))
attempt('/proc/self/cwd', lambda: read_fd(os.open('/proc/self/cwd/' + p, os.O_RDONLY)))
attempt('/proc/PID/root', lambda: read_fd(os.open('/proc/%d/root/workspace/%s' % (os.getpid(), p), os.O_RDONLY)))
attempt('open for writing', lambda: str(os.write(os.open(p, os.O_WRONLY), b'x')))
attempt('open O_RDWR', lambda: str(os.write(os.open(p, os.O_RDWR), b'x')))
`;
    for (const p of ['docs/meta.json', 'metadata/info.json']) {
      const r = await sh(sbx, 'python3 -c "$1" "$2"', OPENS, p);
      expect(r.stdout, p).not.toMatch(/view-(only|meta)/);
      expect(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => l.replace(/ ERR 13$/, ' denied')),
        `${p}: ${r.stderr}`,
      ).toEqual([
        'open denied',
        'openat(O_PATH dir) denied',
        'reopen /proc/self/fd of O_PATH denied',
        '/proc/self/root denied',
        '/proc/self/cwd denied',
        '/proc/PID/root denied',
        'open for writing denied',
        'open O_RDWR denied',
      ]);
      // …nor through /proc/1/root (the agent), nor by tools that copy.
      const tools = await sh(sbx, 'cat "/proc/1/root/workspace/$1"; cp "$1" /tmp/copy; tar -cf /tmp/t.tar "$1"; dd if="$1" status=none; true', p);
      expect(tools.stdout).toBe('');
      expect(tools.stderr).not.toMatch(/view-(only|meta)/);
      expect((await sh(sbx, 'stat -c %s "$1"', p)).stdout).toBe(`${Buffer.byteLength(FILES[p]!)}\n`); // names and sizes stay visible
    }
    // Twin: the very same opens read a read file (writing it is still refused).
    const twin = await sh(sbx, 'python3 -c "$1" "$2"', OPENS, 'docs/ro.md');
    expect(twin.stdout.trim().split('\n')).toEqual([
      'open READ read only in a writable dir',
      'openat(O_PATH dir) READ read only in a writable dir',
      'reopen /proc/self/fd of O_PATH READ read only in a writable dir',
      '/proc/self/root READ read only in a writable dir',
      '/proc/self/cwd READ read only in a writable dir',
      '/proc/PID/root READ read only in a writable dir',
      'open for writing ERR 13',
      'open O_RDWR ERR 13',
    ]);
  });
});

describe('read and view directories cannot be renamed, emptied or replaced', () => {
  const DIRS = ['src', 'src/lib', 'docs/ref', 'metadata', 'secrets'] as const;

  it('rename, move, rmdir, rm -rf, chmod, chown and creating entries are refused; twin: all work on the sandbox’s own dirs', async () => {
    await using sbx = await create();
    const tree = async (): Promise<string> => (await sh(sbx, "find . -printf '%m %U %s %p\\n' | sort")).stdout;
    const before = await tree();
    const attacks = [
      'mv -T -- "$1" "$1.moved"',
      'mv -- "$1" out/',
      'mv -T -- "$1" docs/moved',
      'rmdir -- "$1"',
      'rm -rf -- "$1"',
      'chmod 777 -- "$1"',
      'chown "$(id -u)" -- "$1"',
      'touch -- "$1/new"',
      'mkdir -- "$1/new"',
      'ln -s /etc/shadow "$1/new"',
    ];
    for (const dir of DIRS) {
      for (const cmd of attacks) {
        const r = await sh(sbx, cmd, dir);
        expect(r.exitCode, `${cmd} on ${dir} succeeded`).not.toBe(0);
        expect(r.stderr, `${cmd} on ${dir}`).toMatch(new RegExp(`${DENIED.source}|inter-device move failed`));
        // A move across mounts is copy-then-delete: the copy may land (the sandbox may read and copy
        // these), the delete must not. Drop the copy so the tree comparison below checks the source only.
        await sh(sbx, 'c="docs/moved out/src out/lib out/ref out/metadata out/secrets"; chmod -R u+w $c 2>/dev/null; rm -rf $c');
      }
    }
    expect(await tree()).toBe(before);
    // Twin: the sandbox's own dirs, and writable dirs of the codebase, go along with every one of them.
    const twin = await sh(
      sbx,
      [
        'set -e',
        'mkdir -p docs/own/sub && echo x > docs/own/sub/f',
        'mv -T docs/own docs/own2 && mv docs/own2 out/ && chmod 700 out/own2 && chown "$(id -u)" out/own2',
        'touch out/own2/new && mkdir out/own2/newdir && rmdir out/own2/newdir',
        'rm -rf out/own2 && mv -T out/sub out/sub2 && rm -rf out/sub2',
        'ls -A out docs',
      ].join('\n'),
    );
    expect(twin.exitCode, twin.stderr).toBe(0);
    expect(twin.stdout).toBe('docs:\nguide.md\nmeta.json\nref\nro.md\n\nout:\nw.txt\n');
  });

  it('forged overlay whiteouts and opaque markers hide nothing; twin: a real delete does hide', async () => {
    await using sbx = await create();
    const seen = 'cat docs/ro.md out/w.txt out/sub/x.txt docs/ref/spec.md; ls -A docs out out/sub docs/ref | tr "\\n" " "';
    const before = (await sh(sbx, seen)).stdout;
    expect(before).toContain('read only in a writable dir');

    // Whiteout-shaped names (aufs style) are plain files: they may be created, and mean nothing.
    for (const name of ['docs/.wh.ro.md', 'docs/.wh..wh..opq', 'out/.wh.w.txt', 'out/.wh..wh..opq', 'out/sub/.wh..wh..opq', 'out/sub/.wh.x.txt']) {
      expect((await sh(sbx, 'touch -- "$1"', name)).exitCode, name).toBe(0);
    }
    // Overlay whiteouts (char 0:0) and opaque xattrs cannot be made through the overlay.
    const refused = [
      ['mknod', 'docs/.wh.ro.md2', 'c', '0', '0'],
      ['mknod', 'out/x', 'c', '0', '0'],
      ['mknod', 'out/sub/.wh..wh..opq2', 'c', '0', '0'],
      ['mknod', 'docs/ref/spec2.md', 'c', '0', '0'],
      ['python3', '-c', "import os; os.setxattr('out', 'trusted.overlay.opaque', b'y')"],
      ['python3', '-c', "import os; os.setxattr('out/sub', 'trusted.overlay.opaque', b'x')"],
      ['python3', '-c', "import os; os.setxattr('docs', 'trusted.overlay.opaque', b'y')"],
      ['python3', '-c', "import os; os.mkdir('out/new'); os.setxattr('out/new', 'trusted.overlay.opaque', b'y')"],
      ['python3', '-c', "import os; os.setxattr('docs/guide.md', 'trusted.overlay.redirect', b'/docs/ro.md')"],
    ];
    for (const argv of refused) {
      const r = await sbx.exec(argv, { timeoutMs: 10_000 });
      expect(r.exitCode, `${argv.join(' ')} succeeded`).not.toBe(0);
      expect(r.stderr, argv.join(' ')).toMatch(DENIED);
    }
    // user.overlay.* is only special on unprivileged (userxattr) overlays: on this one it is an inert attribute.
    // (gVisor sets no xattr at all.)
    const gvisor = testRuntime() === 'gvisor';
    const inert = await sh(
      sbx,
      "python3 -c \"import os; os.setxattr('out', 'user.overlay.opaque', b'y'); os.setxattr('out/sub', 'user.overlay.opaque', b'y')\"",
    );
    expect(inert.exitCode, inert.stderr).toBe(gvisor ? 1 : 0);
    const after = (await sh(sbx, seen)).stdout;
    expect(after.slice(0, after.indexOf('docs:'))).toBe(before.slice(0, before.indexOf('docs:')));
    expect(after).toContain('out/sub: .wh..wh..opq .wh.x.txt x.txt');

    // Twin: the kernel does let this uid make a whiteout on a plain tmpfs, and non-device nodes through the overlay…
    // (gVisor makes no device node anywhere, whiteout or not: only the fifo.)
    if (gvisor) expect((await sh(sbx, 'mkfifo out/fifo && stat -c %F out/fifo')).stdout).toBe('fifo\n');
    else {
      expect((await sh(sbx, 'mknod /tmp/wh c 0 0 && stat -c "%F %t:%T" /tmp/wh && mkfifo out/fifo && stat -c %F out/fifo')).stdout).toBe(
        'character special file 0:0\nfifo\n',
      );
    }
    // …and a real delete of a write entry does hide it (the overlay makes the whiteout itself).
    expect((await sh(sbx, 'rm out/w.txt && ls out | grep -c "^w.txt$"; cat out/w.txt')).stdout).toBe('0\n');
  });
});

describe('no path leads outside /workspace or back into the store', () => {
  it('`..` from /workspace ends at the sandbox root; the store is not there; twin: the host reads the same blob', async () => {
    await using sbx = await create();
    const blob = blobOf('secrets/db.txt');
    const r = await sh(sbx, 'cd docs/../../ && pwd; cd /workspace/docs/../../../.. && pwd; realpath /workspace/../..');
    expect(r.stdout).toBe('/\n/\n/\n');
    for (const p of [
      `/workspace/../..${blob}`,
      `/workspace/docs/../../../..${blob}`,
      `docs/../../../..${blob}`,
      `/proc/self/cwd/../../..${blob}`,
      `/proc/self/root/../..${blob}`,
      `/workspace/../..${dataDir()}/views`,
    ]) {
      const c = await sh(sbx, 'cat -- "$1"; test -e "$1" && echo exists; true', p);
      expect(c.stdout, p).toBe('');
      expect(c.stderr, p).toMatch(/No such file or directory/);
    }
    expect((await runOnHost(['cat', blob])).stdout).toBe(FILES['secrets/db.txt']);
  });

  it('hard links from outside /workspace into it are refused; twin: a link within it works', async () => {
    await using sbx = await create();
    for (const [from, to] of [
      ['/usr/bin/env', 'docs/env'],
      ['/.warden/agent', 'out/agent'],
      ['/etc/passwd', 'out/passwd'],
      ['/tmp/own', 'out/own'],
    ] as const) {
      const r = await sh(sbx, 'echo own > /tmp/own; ln -- "$1" "$2"', from, to);
      expect(r.exitCode, `${from} -> ${to}`).not.toBe(0);
      expect(r.stderr).toMatch(/Invalid cross-device link/);
    }
    const twin = await sh(sbx, 'ln docs/guide.md docs/guide-link && cat docs/guide-link && stat -c %h docs/guide-link');
    expect(twin.stdout).toBe('# Guide\n2\n');
  });

  it('name_to_handle_at and open_by_handle_at are refused with EPERM; twin: on the host the same probe opens the blob', async () => {
    await using sbx = await create();
    const HANDLES = String.raw`
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
p = sys.argv[1].encode()
buf = ctypes.create_string_buffer(8 + 128)
ctypes.c_uint.from_buffer(buf, 0).value = 128
mnt = ctypes.c_int()
r = libc.name_to_handle_at(-100, p, buf, ctypes.byref(mnt), 0)
print('name_to_handle_at', r, 0 if r == 0 else ctypes.get_errno())
if r != 0:  # forge one: FILEID_INO32_GEN with the file's inode, generation 0
    ctypes.c_uint.from_buffer(buf, 0).value = 8
    ctypes.c_int.from_buffer(buf, 4).value = 1
    ctypes.c_uint.from_buffer(buf, 8).value = os.stat(p).st_ino & 0xffffffff
fd = libc.open_by_handle_at(os.open(os.path.dirname(p), os.O_RDONLY), buf, os.O_RDONLY)
print('open_by_handle_at', os.read(fd, 4096).decode().strip() if fd >= 0 else 'errno %d' % ctypes.get_errno())
`;
    for (const p of ['/workspace/docs/meta.json', '/workspace/src/main.ts', '/workspace/docs/ro.md']) {
      const r = await sh(sbx, 'python3 -c "$1" "$2"', HANDLES, p);
      expect(r.stdout, `${p}: ${r.stderr}`).toBe('name_to_handle_at -1 1\nopen_by_handle_at errno 1\n');
    }
    // Twin: root on the host runs the same probe on the view file's blob and reads it (CAP_DAC_READ_SEARCH).
    const host = await runOnHost(['/usr/bin/python3', '-c', HANDLES, blobOf('docs/meta.json')]);
    expect(host.stdout).toBe(`name_to_handle_at 0 0\nopen_by_handle_at ${FILES['docs/meta.json']!.trim()}\n`);
  });
});

describe('none: absent for every probe', () => {
  const HIDDEN = [
    { path: '.env', name: '.env', secret: ENV_SECRET },
    { path: 'secrets/db.txt', name: 'db.txt', secret: DB_SECRET },
    { path: 'src/.env', name: '.env', secret: DEEP_SECRET },
    { path: 'docs/.env', name: '.env', secret: DOCS_SECRET },
  ] as const;
  const SHOWN = { path: 'src/main.ts', name: 'main.ts', secret: 'export const answer = 42;' } as const;

  /** Prints what a sandbox finds of `path`/`name`/`secret`, one probe a line, `-` when nothing. */
  const PROBES = String.raw`
p=$1; n=$2; s=$3; ino=$4; d=$(dirname "$p")
r() { printf '%s: %s\n' "$1" "$(cat | tr '\n' ' ' | sed 's/ $//')"; }
ls -a "$d" | grep -Fx -- "$n" | r ls-a
stat -c %n -- "$p" 2>/dev/null | r stat
cat -- "$p" 2>/dev/null | r open
find / \( -path /proc -o -path /sys -o -path /usr \) -prune -o -path "/workspace/$p" -print 2>/dev/null | r find
python3 -c 'import os, sys
def walk(d):
    for e in os.scandir(d):
        yield e.path
        if e.is_dir(follow_symlinks=False): yield from walk(e.path)
print("\n".join(x for x in walk("/workspace") if x == "/workspace/" + sys.argv[1]))' "$p" | r scandir
du -a /workspace | awk -v t="/workspace/$p" '$2 == t { print $2 }' | r du
find /workspace -inum "$ino" 2>/dev/null | r inode
ls -iRa /workspace 2>/dev/null | awk -v i="$ino" '$1 == i' | r ls-i
grep -rlF --no-messages -e "$s" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr | r grep
`;

  it.each(HIDDEN)('$path: ls -a, stat, open, find /, scandir, du, its inode and its content are all nowhere', async (x) => {
    await using sbx = await create();
    const ino = (await stat(blobOf(x.path))).ino; // the host knows where the content lives
    const r = await sh(sbx, PROBES, x.path, x.name, x.secret, String(ino));
    expect(r.stdout).toBe('ls-a: \nstat: \nopen: \nfind: \nscandir: \ndu: \ninode: \nls-i: \ngrep: \n');
    const direct = await sh(sbx, 'cat -- "$1"; stat -- "$1"', x.path);
    expect(direct.stderr).toMatch(/cat: .*: No such file or directory\nstat: cannot statx? .*: No such file or directory/);
  });

  it('twin: the same probes find a read file, its inode and its content', async () => {
    await using sbx = await create();
    const ino = (await stat(blobOf(SHOWN.path))).ino;
    const r = await sh(sbx, PROBES, SHOWN.path, SHOWN.name, SHOWN.secret, String(ino));
    const w = `/workspace/${SHOWN.path}`;
    // gVisor numbers inodes itself: a host inode number finds nothing there, shown file or hidden.
    const byInode = testRuntime() === 'gvisor' ? 'inode: \nls-i: \n' : `inode: ${w}\nls-i: ${ino} main.ts\n`;
    expect(r.stdout).toBe(`ls-a: main.ts\nstat: ${SHOWN.path}\nopen: ${FILES[SHOWN.path]!.trim()}\nfind: ${w}\nscandir: ${w}\ndu: ${w}\n${byInode}grep: ${w}\n`);
  });

  it('a hidden dir with a visible entry shows only that entry', async () => {
    await using sbx = await create();
    const r = await sh(sbx, 'ls -a secrets; cat secrets/public.txt; stat -c %a secrets');
    expect(r.stdout).toBe('.\n..\npublic.txt\npublic key fingerprint\n555\n');
  });

  it('a file made at a hidden path in a writable dir is the sandbox’s own: it shows nothing of the hidden one', async () => {
    await using sbx = await create();
    const r = await sh(sbx, 'cat docs/.env 2>&1; echo mine > docs/.env && cat docs/.env && stat -c %U docs/.env');
    expect(r.stdout).toBe('cat: docs/.env: No such file or directory\nmine\nsandbox\n');
    expect(r.stdout).not.toContain(DOCS_SECRET);
  });
});

describe('the oracles', () => {
  it('twin: the host fingerprint notices content, mode, owner, mtime, xattr, link, new and removed files', async () => {
    await using scratch = await tempDir('warden-oracle-');
    const copy = join(scratch.path, 'blob');
    const original = blobOf('src/main.ts');
    const reset = async (): Promise<Fingerprint> => {
      await runOnHost(['rm', '-rf', join(scratch.path, 'extra'), join(scratch.path, 'hl'), copy]);
      await copyFile(original, copy);
      await utimes(copy, 1_000_000, 1_000_000);
      await chmod(copy, 0o444);
      return fingerprint([scratch.path]);
    };
    const mutations: Array<[string, string[]]> = [
      ['content', ['sh', '-c', 'chmod 644 "$1" && echo x >> "$1" && chmod 444 "$1" && touch -d @1000000 "$1"', 'sh', copy]],
      ['mode', ['chmod', '666', copy]],
      ['owner', ['chown', '1234', copy]],
      ['mtime', ['touch', '-d', '@2000000', copy]],
      ['user xattr', ['/usr/bin/python3', '-c', 'import os, sys; os.setxattr(sys.argv[1], "user.x", b"1")', copy]],
      ['trusted xattr', ['/usr/bin/python3', '-c', 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")', copy]],
      ['hard link', ['ln', copy, join(scratch.path, 'hl')]],
      ['new file', ['touch', join(scratch.path, 'extra')]],
      ['removed file', ['rm', copy]],
    ];
    for (const [what, argv] of mutations) {
      const before = await reset();
      const r = await runOnHost(argv);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      expect(changes(before, await fingerprint([scratch.path])).length, what).toBeGreaterThan(0);
    }
  });

  it('a fresh sandbox on the same version still sees the original codebase', async () => {
    await using sbx = await create();
    const readable = Object.keys(FILES).filter((p) => LAYOUT.some((l) => l.endsWith(` ./${p}`) && !l.startsWith('0 ')));
    for (const p of readable) expect((await sh(sbx, 'cat -- "$1"', p)).stdout, p).toBe(FILES[p]);
    expect(readable.length).toBe(10);
    for (const p of ['docs/meta.json', 'metadata/info.json']) expect((await sh(sbx, 'stat -c %s -- "$1"', p)).stdout).toBe(`${Buffer.byteLength(FILES[p]!)}\n`);
    expect((await sh(sbx, "find . -printf '%m %p\\n' | sort")).stdout.trim().split('\n')).toEqual(LAYOUT);
    const m = await h.engine.codebases.show(NAME);
    expect(m.version).toBe(1);
    expect(
      m.entries
        .filter((e) => e.type === 'file')
        .map((e) => e.path)
        .sort(),
    ).toEqual(Object.keys(FILES).sort());
  });
});
