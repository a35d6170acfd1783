import { describe, expect, it } from 'vitest';
import { deltaPaths, hostLayout, hostMountArgs, type CodebaseMount } from './mounts.js';

const l = hostLayout('/state/docker/sbx_1');

describe('codebase mounts in the host namespace', () => {
  it('binds the view read-only and overlays the writable dirs, each upper on the one capped tmpfs', () => {
    const w: CodebaseMount = {
      kind: 'codebase',
      base: '/store/views/v1',
      overlays: [
        { prefix: 'docs', lowers: ['/store/views/v1/docs'], rootMode: 0o1777 },
        { prefix: 'out', lowers: ['/store/snap/out', '/store/views/v1/out'], rootMode: 0o755 },
      ],
      sizeBytes: 1048576,
      inodes: 512,
    };
    expect(hostMountArgs(w, l)).toEqual([
      '--host-ns',
      '--bind-ro', '/store/views/v1:/state/docker/sbx_1/ws',
      '--delta', '/state/docker/sbx_1/delta:1048576:512',
      '--lower', '/store/views/v1/docs',
      '--overlay', '/state/docker/sbx_1/ws/docs:0:1777',
      '--lower', '/store/snap/out',
      '--lower', '/store/views/v1/out',
      '--overlay', '/state/docker/sbx_1/ws/out:1:755',
    ]);
    expect(deltaPaths(w, l)).toEqual({
      merged: '/state/docker/sbx_1/ws',
      uppers: [
        { prefix: 'docs', path: '/state/docker/sbx_1/delta/0/upper' },
        { prefix: 'out', path: '/state/docker/sbx_1/delta/1/upper' },
      ],
    });
  });

  it('a whole-workspace overlay has no bind; a read-only view has no tmpfs', () => {
    expect(hostMountArgs({ kind: 'codebase', overlays: [{ prefix: '', lowers: ['/v'], rootMode: 0o755 }], sizeBytes: 1, inodes: 2 }, l)).toEqual([
      '--host-ns',
      '--delta', '/state/docker/sbx_1/delta:1:2',
      '--lower', '/v',
      '--overlay', '/state/docker/sbx_1/ws:0:755',
    ]);
    expect(hostMountArgs({ kind: 'codebase', base: '/v', overlays: [], sizeBytes: 1, inodes: 2 }, l)).toEqual(['--host-ns', '--bind-ro', '/v:/state/docker/sbx_1/ws']);
  });
});
