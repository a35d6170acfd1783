/** `warden codebase …` and `warden run --codebase …` as a user runs them. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWarden, type CliRun } from '../helpers/cli.js';
import { tempDir, type TempDir } from '../helpers/host.js';

let data: TempDir;
let src: TempDir;

/** All calls share one data dir: the codebase added first is used later. */
const warden = (args: string[]): Promise<CliRun> => runWarden(args, { dataDir: data.path });

beforeAll(async () => {
  data = await tempDir('warden-cli-data-');
  src = await tempDir('warden-cli-src-');
  await mkdir(join(src.path, 'docs'));
  await writeFile(join(src.path, 'docs', 'a.md'), 'one\n');
  await writeFile(join(src.path, '.env'), 'SECRET=1\n');
});

afterAll(async () => {
  await data?.[Symbol.asyncDispose]();
  await src?.[Symbol.asyncDispose]();
});

it('adds, lists and shows a codebase', async () => {
  const add = await warden(['codebase', 'add', src.path, '--name', 'proj', '--json']);
  expect(add.code).toBe(0);
  expect(JSON.parse(add.stdout)).toMatchObject({ codebase: 'proj', version: 1, files: 2 });
  const ls = await warden(['codebase', 'ls', '--json']);
  expect((JSON.parse(ls.stdout) as Array<{ name: string }>).map((c) => c.name)).toContain('proj');
  const show = await warden(['codebase', 'show', 'proj']);
  expect(show.stdout).toContain('docs/a.md');
});

it('runs on a codebase under a preset, shows the diff and commits it', async () => {
  const r = await warden(['run', '--codebase', 'proj', '--preset', 'full-write', '--diff', '--commit', '--json', '--', 'sh', '-c', 'echo two >> docs/a.md; cat .env']);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as { stdout: string; diff: { modified: Array<{ path: string }> }; committed: { version: number } };
  expect(doc.stdout).toBe('SECRET=1\n');
  expect(doc.diff.modified.map((c) => c.path)).toEqual(['docs/a.md']);
  expect(doc.committed.version).toBe(2);
  const safe = await warden(['run', '--codebase', 'proj', '--preset', 'agent-safe', '--', 'sh', '-c', 'cat docs/a.md; ls -a']);
  expect(safe.code, safe.stderr).toBe(0);
  expect(safe.stdout).toContain('one\ntwo\n');
  expect(safe.stdout).not.toContain('.env');
});

it('refuses a codebase that does not exist, naming the fix', async () => {
  const r = await warden(['run', '--codebase', 'missing', '--', 'true']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('E_CODEBASE_NOT_FOUND');
});
