import { describe, expect, it } from 'vitest';
import { sandboxPath } from '../paths.js';
import { entryInfo, eventName, permissions } from './entry.js';

describe('envd paths and entries', () => {
  it.each([
    [undefined, '/workspace'],
    ['', '/workspace'],
    ['~', '/workspace'],
    ['~/a/b', '/workspace/a/b'],
    ['a/b', '/workspace/a/b'],
    ['./a', '/workspace/a'],
    ['/tmp/x', '/tmp/x'],
  ])('resolves %j against the home: %s', (given, want) => {
    expect(sandboxPath(given)).toBe(want);
  });

  it.each([
    ['file', 0o644, '-rw-r--r--'],
    ['dir', 0o755, 'drwxr-xr-x'],
    ['symlink', 0o777, 'Lrwxrwxrwx'],
    ['file', 0o4755, 'urwxr-xr-x'],
    ['dir', 0o1777, 'dtrwxrwxrwx'],
    ['other', 0o600, '?rw-------'],
  ] as const)('shows a %s with mode %o as %s', (type, mode, want) => {
    expect(permissions(type, mode)).toBe(want);
  });

  it('turns a Warden entry into envd JSON (int64 as a string, RFC 3339 time)', () => {
    const mtime = new Date('2025-01-02T03:04:05.678Z');
    expect(entryInfo({ name: 'l', path: '/workspace/l', type: 'symlink', size: 3, mode: 0o777, mtime, target: 'a/b' })).toEqual({
      name: 'l',
      type: 'FILE_TYPE_SYMLINK',
      path: '/workspace/l',
      size: '3',
      mode: 0o777,
      permissions: 'Lrwxrwxrwx',
      owner: '',
      group: '',
      modifiedTime: '2025-01-02T03:04:05.678Z',
      symlinkTarget: 'a/b',
    });
  });

  it('names watch events relative to the watched directory', () => {
    expect(eventName('/workspace/w', '/workspace/w/a/b.txt')).toBe('a/b.txt');
    expect(eventName('/workspace/w', '/workspace/w')).toBe('w');
  });
});
