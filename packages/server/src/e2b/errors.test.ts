import { describe, expect, it } from 'vitest';
import { WardenError, type ErrorCode } from '@warden/protocol';
import { ConnectFailure, apiStatus, connectHttpStatus, reasonPhrase, safeError, sandboxStatus, toConnectError } from './errors.js';

const connect = (code: ErrorCode): string => toConnectError(new WardenError(code, 'x'), 'req_1', []).code;

describe('Warden errors for the E2B SDKs', () => {
  it.each([
    ['E_FILE_NOT_FOUND', 'not_found'],
    ['E_FILE_EXISTS', 'already_exists'],
    ['E_SANDBOX_CLOSED', 'unavailable'],
    ['E_SANDBOX_NOT_FOUND', 'unavailable'],
    ['E_UNAUTHENTICATED', 'unauthenticated'],
    ['E_GUARD_DENIED', 'permission_denied'],
    ['E_PERMISSION_DENIED', 'permission_denied'],
    ['E_APPROVAL_PENDING', 'failed_precondition'],
    ['E_INVALID_ARGUMENT', 'invalid_argument'],
    ['E_NOT_A_DIRECTORY', 'invalid_argument'],
    ['E_EXEC_FAILED', 'invalid_argument'],
    ['E_UNSUPPORTED', 'unimplemented'],
    ['E_CAPACITY', 'resource_exhausted'],
    ['E_FILE_TIMEOUT', 'deadline_exceeded'],
    ['E_COMMAND_NOT_FOUND', 'not_found'],
  ] as const)('%s is Connect %s', (code, want) => {
    expect(connect(code)).toBe(want);
  });

  it('hides what is not a Warden error and redacts host paths', () => {
    expect(toConnectError(new Error('/var/lib/warden/secret broke'), 'req_1', [])).toEqual({ code: 'internal', message: expect.not.stringContaining('/var/lib') as string, internal: true });
    const e = safeError(new WardenError('E_INVALID_ARGUMENT', 'bad /srv/data/x'), 'req_1', [['/srv/data', '<data-dir>']]);
    expect(e.message).toBe('bad <data-dir>/x');
    expect(toConnectError(new ConnectFailure('data_loss', 'lost'), 'r', [])).toEqual({ code: 'data_loss', message: 'lost', internal: false });
  });

  it('answers "not found" for an ended sandbox on the control plane and 502 inside it, as E2B does', () => {
    const closed = safeError(new WardenError('E_SANDBOX_CLOSED', 'ended'), 'r', []);
    expect([apiStatus(closed), sandboxStatus(closed)]).toEqual([404, 502]);
    const missing = safeError(new WardenError('E_FILE_NOT_FOUND', 'no'), 'r', []);
    expect([apiStatus(missing), sandboxStatus(missing)]).toEqual([404, 404]);
  });

  it('uses the Connect protocol’s HTTP statuses for unary errors', () => {
    expect(['invalid_argument', 'not_found', 'already_exists', 'unimplemented', 'unavailable', 'unauthenticated'].map((c) => connectHttpStatus(c as never))).toEqual([400, 404, 409, 501, 503, 401]);
  });

  it('makes any message a safe reason phrase', () => {
    expect(reasonPhrase('Lang "r" — nope\nnext')).toBe('Lang "r" nope next');
    expect(reasonPhrase('x'.repeat(1000))).toHaveLength(400);
    expect(reasonPhrase('\n')).toBe('Error');
  });
});
