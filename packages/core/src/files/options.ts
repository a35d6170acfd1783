/** Validation of file-operation options at the edge: raw input → a complete, frozen object. */
import { WardenError } from '@warden/protocol';
import type { FileOpOptions } from './types.js';

export interface OpLimits {
  readonly signal: AbortSignal | undefined;
  /** undefined: no limit. */
  readonly timeoutMs: number | undefined;
}

const MAX_TIMEOUT_MS = 86_400_000;

function invalid(message: string): WardenError {
  return new WardenError('E_INVALID_ARGUMENT', message);
}

export function checkInt(name: string, v: unknown, min: number, max: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v) ?? typeof v}.`);
  }
}

export function checkBoolean(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw invalid(`${name} must be true or false, got ${JSON.stringify(v) ?? typeof v}.`);
}

export function checkSignal(v: unknown): AbortSignal | undefined {
  if (v !== undefined && !(v instanceof AbortSignal)) throw invalid('signal must be an AbortSignal (for example AbortSignal.timeout(5000)).');
  return v;
}

export function opLimits(opts: FileOpOptions | undefined, defaultTimeoutMs: number): OpLimits {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalid(`options must be an object such as { timeoutMs: 10000 }, got ${typeof opts}.`);
  checkInt('timeoutMs', opts?.timeoutMs, 1, MAX_TIMEOUT_MS);
  return Object.freeze({ signal: checkSignal(opts?.signal), timeoutMs: opts?.timeoutMs ?? defaultTimeoutMs });
}
