/** Query filters, checked once, turned into one parameterised SELECT. */
import { WardenError } from '@warden/protocol';
import { DECISIONS } from '../guard/types.js';
import type { AuditQuery } from './types.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const ACTION = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
/** The first seq whose ts is at or after the bound (past the end when none is). */
const FIRST_SEQ_AT = '(SELECT coalesce((SELECT seq FROM events INDEXED BY events_ts WHERE ts >= ? ORDER BY ts, seq LIMIT 1), 9007199254740991))';

export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly (string | number)[];
}

const invalid = (message: string): WardenError => new WardenError('E_INVALID_ARGUMENT', message);
const show = (v: unknown): string => `${JSON.stringify(v) ?? String(v)} (${v === null ? 'null' : typeof v})`;

function time(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw invalid(`audit query ${name} must be a Date or an ISO 8601 time such as '2025-01-31T12:00:00Z', got ${show(v)}.`);
  return d.toISOString();
}

function str(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`audit query ${name} must be a non-empty string, got ${show(v)}.`);
  return v;
}

/**
 * The SELECT for a filter. Timestamps compare as ISO strings, which order
 * like the times they name (all are UTC with milliseconds). A `prefix.*`
 * action becomes a range on the action index: `command.` ≤ action < `command/`
 * ('/' follows '.').
 */
export function compileQuery(raw: AuditQuery | undefined): CompiledQuery {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw invalid(`audit query must be an object such as { sandboxId: 'sbx_…' }, got ${show(raw)}.`);
  const q = raw ?? {};
  const known = new Set(['sandboxId', 'tenant', 'action', 'actor', 'decision', 'since', 'until', 'afterSeq', 'limit', 'order']);
  const unknown = Object.keys(q).filter((k) => !known.has(k));
  if (unknown.length > 0) throw invalid(`audit query has unknown filter ${unknown.map((k) => JSON.stringify(k)).join(', ')}; filters are ${[...known].join(', ')}.`);

  const where: string[] = [];
  const params: (string | number)[] = [];
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  eq('sandbox_id', str('sandboxId', q.sandboxId));
  eq('tenant', str('tenant', q.tenant));
  eq('actor', str('actor', q.actor));
  if (q.decision !== undefined) {
    if (!(DECISIONS as readonly unknown[]).includes(q.decision)) throw invalid(`audit query decision must be one of ${DECISIONS.join(', ')}, got ${show(q.decision)}.`);
    eq('decision', q.decision);
  }
  if (q.action !== undefined) {
    const a: unknown = q.action;
    const prefix = typeof a === 'string' && a.endsWith('.*') ? a.slice(0, -2) : undefined;
    if (typeof a !== 'string' || !ACTION.test(prefix ?? a)) throw invalid(`audit query action must be an action such as 'command.end' or a prefix such as 'command.*', got ${show(a)}.`);
    if (prefix === undefined) eq('action', a);
    else {
      where.push('action >= ? AND action < ?');
      params.push(`${prefix}.`, `${prefix}/`);
    }
  }
  // ts never decreases with seq (log.ts clamps it), so a time bound is a seq bound: the first seq at
  // or after it, found on events_ts in O(log n), then a range on the primary key. Left to itself,
  // SQLite scans the whole table when fewer rows match than the limit. The `+ts` comparisons keep the
  // result exact and are not used to pick an index.
  const since = time('since', q.since);
  const until = time('until', q.until);
  if (since !== undefined) {
    where.push(`seq >= ${FIRST_SEQ_AT} AND +ts >= ?`);
    params.push(since, since);
  }
  if (until !== undefined) {
    where.push(`seq < ${FIRST_SEQ_AT} AND +ts < ?`);
    params.push(until, until);
  }
  if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') throw invalid(`audit query order must be 'asc' or 'desc', got ${show(q.order)}.`);
  const desc = q.order === 'desc';
  if (q.afterSeq !== undefined) {
    if (typeof q.afterSeq !== 'number' || !Number.isSafeInteger(q.afterSeq) || q.afterSeq < 0) throw invalid(`audit query afterSeq must be an integer ≥ 0, got ${show(q.afterSeq)}.`);
    where.push(desc ? 'seq < ?' : 'seq > ?');
    params.push(q.afterSeq);
  }
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalid(`audit query limit must be an integer from 1 to ${MAX_LIMIT}, got ${show(limit)}.`);
  params.push(limit);
  const sql = `SELECT * FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
  return { sql, params };
}
