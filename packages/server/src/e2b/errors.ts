/**
 * Warden errors in the shapes the E2B SDKs turn into their own error classes.
 * The same safe text as every Warden error response (exposed codes keep their
 * message, host paths are redacted, anything else is E_INTERNAL), in four
 * wire formats:
 *
 * - control plane: `{ code: <HTTP status>, message }`; 401 → AuthenticationError,
 *   404 → NotFoundError/false from kill, 429 → RateLimitError, else SandboxError.
 * - envd REST (/files): the same body; 400 InvalidArgumentError, 404
 *   FileNotFoundError, 502 "sandbox gone" (TimeoutError, isRunning() false), 507 NotEnoughSpaceError.
 * - Connect RPC: `{ code: "not_found", message }`, mapped by the SDK's own table.
 * - code interpreter: a plain-text body; the SDK reads it for 404 and 502 and
 *   otherwise shows `<status> <reason phrase>`, so the message also goes in the reason phrase.
 */
import type { ErrorCode } from '@warden/protocol';
import { redactHostPaths, toErrorResponse } from '../errors.js';

export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

/** An outcome only the Connect protocol can say (a stream's deadline, lost watch events). Its message is ours, so it is safe to send. */
export class ConnectFailure extends Error {
  override readonly name = 'ConnectFailure';
  readonly code: ConnectCode;
  constructor(code: ConnectCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A Warden error, or anything thrown, reduced to what may cross the wire. */
export interface SafeError {
  readonly code: ErrorCode | 'E_INTERNAL';
  readonly status: number;
  readonly message: string;
  /** Not a Warden error: log it. */
  readonly internal: boolean;
}

export function safeError(err: unknown, requestId: string, hostPaths: ReadonlyArray<readonly [string, string]>): SafeError {
  const { status, body, internal } = toErrorResponse(err, requestId);
  const safe = redactHostPaths(body, hostPaths);
  return { code: safe.code as ErrorCode, status, message: safe.message, internal };
}

/** The sandbox ended or was never this caller's: E2B's proxy answers 502 for a sandbox that is not running. */
const GONE: ReadonlySet<string> = new Set(['E_SANDBOX_NOT_FOUND', 'E_SANDBOX_CLOSED', 'E_ENGINE_CLOSED']);

/** HTTP status for the control plane: a sandbox that has ended is "not found", as on E2B. */
export function apiStatus(e: SafeError): number {
  return e.code === 'E_SANDBOX_CLOSED' ? 404 : e.status;
}

/** HTTP status for requests to a sandbox (envd REST, code interpreter). */
export function sandboxStatus(e: SafeError): number {
  return GONE.has(e.code) ? 502 : e.status;
}

const CONNECT_BY_CODE: Partial<Record<ErrorCode, ConnectCode>> = {
  E_FILE_EXISTS: 'already_exists',
  E_SANDBOX_NOT_FOUND: 'unavailable',
  E_SANDBOX_CLOSED: 'unavailable',
  E_ENGINE_CLOSED: 'unavailable',
  E_SHUTTING_DOWN: 'unavailable',
  E_EXEC_FAILED: 'invalid_argument',
  E_FILE_TIMEOUT: 'deadline_exceeded',
  E_UNSUPPORTED: 'unimplemented',
  E_APPROVAL_PENDING: 'failed_precondition',
  E_NOT_A_DIRECTORY: 'invalid_argument',
  E_IS_A_DIRECTORY: 'invalid_argument',
};

function connectByStatus(status: number): ConnectCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 422 || status === 428) return 'failed_precondition';
  if (status === 413 || status === 429 || status === 507) return 'resource_exhausted';
  if (status === 501) return 'unimplemented';
  if (status === 502 || status === 503) return 'unavailable';
  if (status === 504) return 'deadline_exceeded';
  if (status >= 400 && status < 500) return 'invalid_argument';
  return 'internal';
}

export function connectCode(e: SafeError): ConnectCode {
  return (e.code === 'E_INTERNAL' ? undefined : CONNECT_BY_CODE[e.code]) ?? connectByStatus(e.status);
}

/** The HTTP status of a unary Connect error (the protocol's table). */
export function connectHttpStatus(code: ConnectCode): number {
  switch (code) {
    case 'canceled':
      return 499;
    case 'invalid_argument':
    case 'failed_precondition':
    case 'out_of_range':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'permission_denied':
      return 403;
    case 'not_found':
      return 404;
    case 'already_exists':
    case 'aborted':
      return 409;
    case 'resource_exhausted':
      return 429;
    case 'unimplemented':
      return 501;
    case 'unavailable':
      return 503;
    case 'deadline_exceeded':
      return 504;
    case 'unknown':
    case 'internal':
    case 'data_loss':
      return 500;
  }
}

/** A Connect error from anything thrown: its code and a message that may be sent. */
export function toConnectError(err: unknown, requestId: string, hostPaths: ReadonlyArray<readonly [string, string]>): { code: ConnectCode; message: string; internal: boolean } {
  if (err instanceof ConnectFailure) return { code: err.code, message: err.message, internal: false };
  const e = safeError(err, requestId, hostPaths);
  return { code: connectCode(e), message: e.message, internal: e.internal };
}

/**
 * Text safe as an HTTP reason phrase (printable ASCII, bounded): the code
 * interpreter SDK shows only `<status> <reason>` for most failures.
 */
export function reasonPhrase(message: string): string {
  const flat = message.replace(/[^\x20-\x7e]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return flat.length > 400 ? `${flat.slice(0, 397)}...` : flat || 'Error';
}
