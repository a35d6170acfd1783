/**
 * Codebase names and version numbers: validated once, at the store's edge.
 * Names become directory names on the host, so the pattern also keeps out
 * `.`, `..`, slashes and anything a shell or URL would need to quote.
 */
import { WardenError } from '@warden/protocol';

/** Lower-case letters, digits, `.`, `_`, `-`; starts with a letter or digit; 1–64 characters. */
export const CODEBASE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} (string of ${value.length})`;
  return `${String(value)} (${value === null ? 'null' : typeof value})`;
}

/** Throws E_INVALID_ARGUMENT unless `name` is a valid codebase name. */
export function assertCodebaseName(name: unknown, what = 'codebase name'): asserts name is string {
  if (typeof name === 'string' && CODEBASE_NAME_PATTERN.test(name)) return;
  throw new WardenError(
    'E_INVALID_ARGUMENT',
    `${what} must be 1 to 64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit (for example "my-app"), got ${describe(name)}.`,
    { details: { argument: what, pattern: CODEBASE_NAME_PATTERN.source } },
  );
}

/** Throws E_INVALID_ARGUMENT unless `version` is a positive safe integer. */
export function assertVersion(version: unknown): asserts version is number {
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1) return;
  throw new WardenError('E_INVALID_ARGUMENT', `version must be a positive integer (1, 2, …), got ${describe(version)}. Omit it for the latest version.`, {
    details: { argument: 'version' },
  });
}
