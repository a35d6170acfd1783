import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImage, skeleton, tarOf } from './image.js';

const merged = [
  { name: 'bin', symlinkTo: 'usr/bin' },
  { name: 'lib', symlinkTo: 'usr/lib' },
  { name: 'lib64', symlinkTo: 'usr/lib64' },
];

describe('base image', () => {
  it('holds mount points, the host’s symlinks and Warden’s /etc, and no /root or home', () => {
    const s = skeleton([...merged, { name: 'sbin' }]);
    const byPath = Object.fromEntries(s.map((e) => [e.path, e]));
    for (const d of ['usr', 'etc', 'tmp', 'workspace', '.warden', 'proc', 'sys', 'dev', 'sbin']) expect(byPath[d]?.type, d).toBe('dir');
    expect(byPath.bin).toEqual({ type: 'symlink', path: 'bin', target: 'usr/bin' });
    expect(byPath['etc/passwd']).toMatchObject({ type: 'file', mode: 0o644 });
    expect(byPath.root).toBeUndefined();
    expect(byPath.home).toBeUndefined();
  });

  it('is a valid tar that GNU tar unpacks to exactly the skeleton', () => {
    const tar = tarOf(skeleton(merged));
    expect(tar.length % 512).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'warden-image-test-'));
    try {
      writeFileSync(join(dir, 'base.tar'), tar);
      const listing = execFileSync('tar', ['-tvf', join(dir, 'base.tar')], { encoding: 'utf8' });
      expect(listing).toMatch(/^lrwxrwxrwx root\/root\s+0 1970-01-01 00:00 bin -> usr\/bin$/m);
      expect(listing).toMatch(/^drwxrwxrwt root\/root\s+0 1970-01-01 00:00 tmp\/$/m);
      execFileSync('tar', ['-xf', join(dir, 'base.tar'), '-C', dir, '--no-same-owner']);
      expect(readlinkSync(join(dir, 'lib64'))).toBe('usr/lib64');
      expect(readFileSync(join(dir, 'etc/hosts'), 'utf8')).toContain('127.0.0.1\tlocalhost');
      expect(statSync(join(dir, 'workspace')).isDirectory()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a deterministic docker-save archive: same layout, same image id; another layout, another id', () => {
    const a = baseImage(merged);
    expect(baseImage(merged).archive.equals(a.archive)).toBe(true);
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.ref).toBe(`warden/base:${a.id.slice(7, 23)}`);
    expect(baseImage([{ name: 'bin' }, { name: 'lib' }]).id).not.toBe(a.id);
    const dir = mkdtempSync(join(tmpdir(), 'warden-image-test-'));
    try {
      writeFileSync(join(dir, 'image.tar'), a.archive);
      execFileSync('tar', ['-xf', join(dir, 'image.tar'), '-C', dir, '--no-same-owner']);
      const hex = a.id.slice(7);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
      expect(manifest).toEqual([{ Config: `${hex}.json`, RepoTags: [a.ref], Layers: [`${hex}/layer.tar`] }]);
      // The id is the digest of the config, which names the layer by its digest.
      const config = readFileSync(join(dir, `${hex}.json`));
      expect(createHash('sha256').update(config).digest('hex')).toBe(hex);
      const layer = readFileSync(join(dir, hex, 'layer.tar'));
      expect((JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
      expect(layer.equals(tarOf(skeleton(merged)))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
