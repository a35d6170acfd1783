import { describe, expect, it } from 'vitest';
import type { WatchEvent } from './types.js';
import { writeTempFilter } from './write-temps.js';

const run = (events: ReadonlyArray<[WatchEvent['type'], string]>): string[] => {
  const filter = writeTempFilter();
  return events.flatMap(([type, path]) => filter({ type, path })).map((e) => `${e.type} ${e.path}`);
};

describe('writeTempFilter', () => {
  it('reports an atomic write through an anonymous temp as create + write of the path', () => {
    expect(
      run([
        ['chmod', '/w/#2231473'],
        ['write', '/w/#2231473'],
        ['create', '/w/.warden-write-0dde380f3a805bd4'],
        ['rename', '/w/.warden-write-0dde380f3a805bd4'],
        ['create', '/w/x.txt'],
      ]),
    ).toEqual(['create /w/x.txt', 'write /w/x.txt']);
  });

  it('does the same for a named temp (filesystems without O_TMPFILE)', () => {
    expect(
      run([
        ['create', '/w/sub/.warden-write-00112233445566ff'],
        ['write', '/w/sub/.warden-write-00112233445566ff'],
        ['rename', '/w/sub/.warden-write-00112233445566ff'],
        ['create', '/w/sub/y'],
        ['create', '/w/sub/z'],
      ]),
    ).toEqual(['create /w/sub/y', 'write /w/sub/y', 'create /w/sub/z']);
  });

  it('keeps real files whose names only look like temporaries', () => {
    expect(
      run([
        ['create', '/w/#42'],
        ['write', '/w/#42'],
        ['create', '/w/.warden-write-x'],
        ['remove', '/w/#42'],
        ['overflow', '/w'],
      ]),
    ).toEqual(['create /w/#42', 'write /w/#42', 'create /w/.warden-write-x', 'remove /w/#42', 'overflow /w']);
  });

  it('passes ordinary events through in order', () => {
    const events: Array<[WatchEvent['type'], string]> = [
      ['create', '/w/f'],
      ['write', '/w/f'],
      ['chmod', '/w/f'],
      ['rename', '/w/f'],
      ['create', '/w/g'],
      ['remove', '/w/g'],
    ];
    expect(run(events)).toEqual(events.map(([t, p]) => `${t} ${p}`));
  });
});
