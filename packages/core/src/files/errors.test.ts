import { describe, expect, it } from 'vitest';
import { fileError, parseFailure } from './errors.js';

const ctx = { sandboxId: 'sbx_1', op: 'read', path: '/workspace/a' } as const;

describe('parseFailure', () => {
  it('takes the last stderr line when it is a well-formed report', () => {
    expect(parseFailure('noise\n{"errno":"ENOENT","message":"No such file or directory","path":"/workspace/a"}\n')).toEqual({ errno: 'ENOENT', message: 'No such file or directory', path: '/workspace/a' });
  });

  it.each([[''], ['not json'], ['{"errno":5,"message":"x"}'], ['{"errno":"enoent","message":"x"}'], ['{"errno":"ENOENT"}'], ['[1]']])('ignores %j', (text) => {
    expect(parseFailure(text)).toBeUndefined();
  });
});

describe('fileError', () => {
  it.each([
    ['ENOENT', 'E_FILE_NOT_FOUND'],
    ['EEXIST', 'E_FILE_EXISTS'],
    ['ENOTEMPTY', 'E_FILE_EXISTS'],
    ['EACCES', 'E_PERMISSION_DENIED'],
    ['EPERM', 'E_PERMISSION_DENIED'],
    ['EROFS', 'E_PERMISSION_DENIED'],
    ['ENOTDIR', 'E_NOT_A_DIRECTORY'],
    ['EISDIR', 'E_IS_A_DIRECTORY'],
    ['ENOSPC', 'E_NO_SPACE'],
    ['EDQUOT', 'E_NO_SPACE'],
    ['EFBIG', 'E_FILE_TOO_LARGE'],
    ['EINVAL', 'E_INVALID_ARGUMENT'],
    ['ENAMETOOLONG', 'E_INVALID_ARGUMENT'],
    ['EXDEV', 'E_FILE_OPERATION_FAILED'],
    ['ELOOP', 'E_FILE_OPERATION_FAILED'],
    ['EIO', 'E_FILE_OPERATION_FAILED'],
  ])('%s → %s, naming the sandbox path', (errno, code) => {
    const err = fileError(ctx, { errno, message: 'msg', path: '/workspace/a' });
    expect(err.code).toBe(code);
    expect(err.message).toContain('"/workspace/a"');
    expect(err.message).toContain('sbx_1');
    expect(err.details).toMatchObject({ sandboxId: 'sbx_1', op: 'read', path: '/workspace/a', errno });
  });

  it('names the entry concerned when it is not the path asked for', () => {
    const err = fileError({ ...ctx, op: 'remove', path: '/workspace/tree' }, { errno: 'EACCES', message: 'Permission denied', path: '/workspace/tree/locked' });
    expect(err.message).toContain('"/workspace/tree/locked"');
    expect(err.details).toMatchObject({ entry: '/workspace/tree/locked' });
  });
});
