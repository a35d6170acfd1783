/**
 * Threat: sandboxed code plants symlinks — or swaps a directory for one while
 * an operation runs — so that a file operation the host asks for
 * (`sandbox.files`: read, write, move, remove, list, watch) reaches a host
 * file. Oracle: host canaries (a secret file in a world-readable host
 * directory, and the host's /etc/shadow): their content and entries never
 * change and never come back. Twin: the same links aimed at a directory the
 * sandbox was lent do reach it, so the probes would notice a leak.
 */
import { readdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@warden/core';
import { hasCode, isWardenError } from '@warden/protocol';
import { tempDir, testRuntime, type TempDir } from '../helpers/host.js';
import { token, useEngine } from './harness.js';

const h = useEngine();

interface Canary extends AsyncDisposable {
  readonly dir: TempDir;
  readonly file: string;
  readonly secret: string;
  /** The host dir's entries and the file's content, as they must stay. */
  intact(): Promise<void>;
}

async function canary(): Promise<Canary> {
  const dir = await tempDir('warden-canary-');
  await chmod(dir.path, 0o755); // only the mount namespace protects it, not permissions
  const secret = token('shadow');
  const file = join(dir.path, 'shadow');
  await writeFile(file, secret, { mode: 0o644 });
  await writeFile(join(dir.path, 'other'), 'other', { mode: 0o644 });
  return {
    dir,
    file,
    secret,
    intact: async () => {
      expect((await readdir(dir.path)).sort()).toEqual(['other', 'shadow']);
      expect(await readFile(file, 'utf8')).toBe(secret);
      expect(await readFile(join(dir.path, 'other'), 'utf8')).toBe('other');
    },
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/** Every name for a host path a sandbox could try (the /proc ones are refused outright: PID 1 is the non-dumpable agent). */
const aliases = (p: string): string[] => [p, `/proc/1/root${p}`, `/proc/self/root${p}`, `/proc/1/cwd/../../..${p}`];

async function plant(sbx: Sandbox, script: string): Promise<void> {
  const r = await sbx.exec(['sh', '-c', script]);
  expect(r.exitCode, r.stderr).toBe(0);
}

/** The WardenError code a call ends with, or 'resolved'. */
async function code(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: unknown) => (isWardenError(e) ? e.code : `not a WardenError: ${String(e)}`),
  );
}

describe('symlinks planted by sandboxed code do not lead file operations to the host', () => {
  it('read: links to a host file (and its /proc aliases) find nothing; nor do the host paths themselves', async () => {
    await using c = await canary();
    const shadow = await readFile('/etc/shadow', 'utf8');
    await using sbx = await h.create();
    const targets = [...aliases(c.file), ...aliases('/etc/shadow')];
    await plant(sbx, targets.map((p, i) => `ln -s '${p}' link${i}`).join(' && '));

    for (const [i, p] of targets.entries()) {
      for (const path of [`link${i}`, p]) {
        const got = await sbx.files.readText(path).then(
          (text) => ({ text }),
          (e: unknown) => e,
        );
        expect(hasCode(got, 'E_FILE_NOT_FOUND') || hasCode(got, 'E_PERMISSION_DENIED'), `${path}: ${JSON.stringify(got)}`).toBe(true);
        expect(JSON.stringify(got)).not.toContain(c.secret);
      }
    }
    await c.intact();
    expect(await readFile('/etc/shadow', 'utf8')).toBe(shadow);
  });

  it('write and move: a link to a host file is replaced inside the sandbox, a link to a host directory leads nowhere', async () => {
    await using c = await canary();
    await using sbx = await h.create();
    await plant(sbx, `ln -s '${c.file}' filelink && ln -s '${c.dir.path}' dirlink && ln -s '/proc/1/root${c.dir.path}' proclink && echo mine > mine`);

    const replaced = await sbx.files.write('filelink', 'pwned');
    expect(replaced.type).toBe('file'); // the link itself became a sandbox file
    expect(await code(sbx.files.write('dirlink/shadow', 'pwned'))).toBe('E_FILE_NOT_FOUND');
    expect(await code(sbx.files.write('dirlink/new', 'pwned'))).toBe('E_FILE_NOT_FOUND');
    // /proc/1 is the non-dumpable agent: its root is off limits to the sandbox user.
    expect(['E_FILE_NOT_FOUND', 'E_PERMISSION_DENIED']).toContain(await code(sbx.files.write('proclink/new', 'pwned')));
    expect(await code(sbx.files.move('mine', 'dirlink/moved'))).toBe('E_FILE_NOT_FOUND');
    expect(await code(sbx.files.move('mine', 'dirlink/shadow', { overwrite: true }))).toBe('E_FILE_NOT_FOUND');
    expect(await code(sbx.files.mkdir('dirlink/sub'))).toBe('E_FILE_NOT_FOUND');
    // The host path itself names the sandbox's own private /tmp, not the host's.
    await sbx.files.write(`${c.dir.path}/new`, 'pwned');
    expect(await sbx.files.readText(`${c.dir.path}/new`)).toBe('pwned');
    await c.intact();
  });

  it('remove and list: links to host paths are removed as links, trees holding them lose only the links', async () => {
    await using c = await canary();
    await using sbx = await h.create();
    await plant(sbx, `ln -s '${c.dir.path}' dirlink && ln -s '${c.file}' filelink && mkdir -p tree/sub && ln -s '${c.dir.path}' tree/sub/l && ln -s '/proc/1/root${c.dir.path}' tree/p && ln -s / tree/root`);

    expect(await code(sbx.files.list('dirlink'))).toBe('E_FILE_NOT_FOUND');
    const everything = await sbx.files.list('/workspace', { depth: 6 });
    expect(everything.map((e) => e.name)).not.toContain('shadow');
    expect(await code(sbx.files.watch('dirlink', { onEvent: () => undefined }))).toBe('E_FILE_NOT_FOUND');
    for (const p of aliases(c.dir.path)) expect(['E_FILE_NOT_FOUND', 'E_PERMISSION_DENIED'], p).toContain(await code(sbx.files.remove(p)));

    await sbx.files.remove('dirlink');
    await sbx.files.remove('filelink');
    await sbx.files.remove('tree');
    expect(await sbx.files.list('/workspace')).toEqual([]);
    await c.intact();
    // the links the sandbox could follow (/) were not followed either
    expect((await sbx.exec(['test', '-x', '/usr/bin/env'])).exitCode).toBe(0);
  });

  it('a directory swapped for a link while remove runs never redirects it', async () => {
    await using c = await canary();
    await using sbx = await h.create({ limits: { timeoutMs: 30_000 } });
    await plant(sbx, 'mkdir -p keep && for i in 1 2 3 4 5; do echo k > keep/$i; done');
    // Flip race/d between a full directory and links to the host canary and to keep/ as fast as possible.
    const flipper = sbx.spawn([
      'sh',
      '-c',
      `mkdir -p race; while [ ! -e stop ]; do mkdir -p race/d/x 2>/dev/null && touch race/d/a race/d/x/b 2>/dev/null; rm -rf race/d; ln -s '${c.dir.path}' race/d 2>/dev/null; rm -f race/d; ln -s /workspace/keep race/d 2>/dev/null; rm -f race/d; done`,
    ]);
    const outcomes = new Set<string>();
    for (let i = 0; i < 150; i++) {
      outcomes.add(await code(sbx.files.remove('race/d')));
    }
    await sbx.files.write('stop', '');
    await flipper.wait();
    // Only "removed" or a clean refusal, never anything else (gVisor's kernel answers some of the race with EINVAL).
    const refusals = ['E_FILE_NOT_FOUND', 'E_NOT_A_DIRECTORY', 'E_FILE_EXISTS', 'E_FILE_OPERATION_FAILED', ...(testRuntime() === 'gvisor' ? ['E_INVALID_ARGUMENT'] : [])];
    for (const o of outcomes) expect(['resolved', ...refusals]).toContain(o);
    expect(outcomes.has('resolved'), [...outcomes].join(',')).toBe(true);
    await c.intact();
    // keep/ was only ever the target of a link: removing the link never touched it.
    expect((await sbx.files.list('keep')).map((e) => e.name)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('twin: the same links aimed at a directory the sandbox was lent do reach it', async () => {
    await using c = await canary();
    await using sbx = await h.create({ workspace: { hostPath: c.dir.path } });
    await plant(sbx, 'ln -s /workspace/shadow filelink && mkdir sub && ln -s /workspace sub/dirlink');

    expect(await sbx.files.readText('filelink')).toBe(c.secret); // read follows a link it can see
    expect((await sbx.files.list('sub/dirlink')).map((e) => e.name)).toContain('shadow');
    await sbx.files.write('sub/dirlink/new', 'made'); // write lands through a directory link
    expect(await readFile(join(c.dir.path, 'new'), 'utf8')).toBe('made');
    await sbx.files.remove('filelink'); // remove takes the link, never its target
    await sbx.files.remove('sub');
    await sbx.files.remove('new');
    expect(await readFile(c.file, 'utf8')).toBe(c.secret);
    await sbx.kill();
    await c.intact();
  });
});
