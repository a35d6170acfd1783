/** The list filters of E2B's control plane, parsed. Pure. */
import { WardenError } from '@warden/protocol';

/**
 * `metadata=k1%3Dv1%26k2%3Dv2`: the SDK URL-encodes each key and value, joins
 * them as a query string and sends that as one (again encoded) parameter, so
 * after the query string is decoded each key and value is decoded once more.
 */
export function parseMetadata(q: string | undefined): Array<[string, string]> {
  if (q === undefined || q === '') return [];
  try {
    return [...new URLSearchParams(q)].map(([k, v]) => [decodeURIComponent(k), decodeURIComponent(v)]);
  } catch (err) {
    throw new WardenError('E_INVALID_REQUEST', `metadata is not a query string of URL-encoded key=value pairs (${(err as Error).message}).`, { cause: err });
  }
}

export type E2bState = 'running' | 'paused';

/** `state=running,paused` or repeated `state=`; default both. Warden has no paused sandboxes. */
export function parseStates(q: string | readonly string[] | undefined): Set<E2bState> {
  const raw = (typeof q === 'string' ? [q] : (q ?? [])).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (raw.length === 0) return new Set(['running', 'paused']);
  for (const s of raw) {
    if (s !== 'running' && s !== 'paused') throw new WardenError('E_INVALID_REQUEST', `state must be running or paused (comma-separated), got ${JSON.stringify(s)}.`);
  }
  return new Set(raw as E2bState[]);
}

export function parseStartedAfter(q: string | undefined): number | undefined {
  if (q === undefined || q === '') return undefined;
  const ms = Date.parse(q);
  if (Number.isNaN(ms)) throw new WardenError('E_INVALID_REQUEST', `startedAfter must be an RFC 3339 time such as 2025-01-31T12:00:00Z, got ${JSON.stringify(q)}.`);
  return ms;
}
