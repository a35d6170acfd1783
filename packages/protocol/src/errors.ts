/**
 * Warden's error family. Every error has a stable `code` that callers branch
 * on, a message that says what happened and what to do, and JSON-safe details.
 */
import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

const BRAND = Symbol.for('warden.error');

export type ErrorDetails = Readonly<Record<string, unknown>>;

export class WardenError extends Error {
  override readonly name: string = 'WardenError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** HTTP status the server answers with for this error. */
  get status(): number {
    // A newer server may send a code this build does not know.
    return (ERROR_CATALOGUE[this.code] as (typeof ERROR_CATALOGUE)[ErrorCode] | undefined)?.status ?? 500;
  }

  /** The wire form: never a stack, a cause or host-only details. */
  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    const entry = ERROR_CATALOGUE[this.code] as (typeof ERROR_CATALOGUE)[ErrorCode] | undefined; // a newer server may send a code this build lacks
    return !entry || entry.expose
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: entry.description, details: {} };
  }
}

/** Brand check that works across package copies, unlike `instanceof`. */
export function isWardenError(value: unknown): value is WardenError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Narrowing helper: `hasCode(err, 'E_SANDBOX_NOT_FOUND')`. */
export function hasCode(value: unknown, code: ErrorCode): value is WardenError {
  return isWardenError(value) && value.code === code;
}
