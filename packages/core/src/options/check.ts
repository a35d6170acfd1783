/**
 * Checks shared by the option parsers of queued runs (session commands, code
 * cells): each refusal is an E_INVALID_ARGUMENT that names the option, what
 * it expects and what it got.
 */
import { WardenError } from '@warden/protocol';
import { checkGateOptions, type GateOptions } from '../guard/gate.js';

export function invalid(message: string): WardenError {
  return new WardenError('E_INVALID_ARGUMENT', message);
}

/** `opts` as a record when it is a plain object with only `known` keys; `what` names it in the error. */
export function checkKeys(what: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw invalid(`${what} must be an object such as { ${known[0]}: … }, got ${JSON.stringify(opts) ?? typeof opts}.`);
  }
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw invalid(`${what} has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known options are ${known.join(', ')}.`);
  return opts as Record<string, unknown>;
}

/** Undefined, or an integer from `min` to `max`. */
export function intIn(name: string, v: unknown, min: number, max: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v) ?? typeof v}.`);
  }
}

/** The defaults a queued run takes from the sandbox's limits. */
export interface RunDefaults {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

/** Checks timeoutMs, maxOutputBytes, the guard's options and signal of a queued run (a session command, a code cell). */
export function checkRunOptions(o: GateOptions & { readonly timeoutMs?: unknown; readonly maxOutputBytes?: unknown; readonly signal?: unknown }): void {
  intIn('timeoutMs', o.timeoutMs, 1, 86_400_000);
  intIn('maxOutputBytes', o.maxOutputBytes, 1, 1_073_741_824);
  checkGateOptions(o);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalid(`signal must be an AbortSignal, got ${typeof o.signal}.`);
}
