import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { openAuditLog } from './log.js';
import { compileQuery } from './query.js';
import type { AuditEvent, AuditEventInput, AuditLog, AuditQuery } from './types.js';

const START = Date.parse('2025-05-01T00:00:00.000Z');
const ACTIONS = ['sandbox.create', 'command.start', 'command.end', 'commander.x', 'guard.decision', 'approval.request', 'approval.decide', 'sandbox.end'];
let dir: string;
let log: AuditLog;
let all: AuditEvent[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-audit-query-'));
  let minute = 0;
  // Events one minute apart; half are committed, half still buffered when queried.
  log = openAuditLog({ file: join(dir, 'audit.sqlite'), keyFile: join(dir, 'audit.key'), now: () => new Date(START + 60_000 * minute++), flushIntervalMs: 60_000 });
  all = [];
  for (let i = 0; i < 120; i++) {
    const e: AuditEventInput = {
      action: ACTIONS[i % ACTIONS.length]!,
      actor: i % 5 === 0 ? 'system' : `key:k${i % 3}`,
      tenant: `t${i % 2}`,
      ...(i % 4 === 3 ? {} : { sandboxId: `sbx_${i % 6}` }),
      ...(i % 8 === 4 ? { decision: (['allow', 'ask', 'deny'] as const)[i % 3] } : {}),
    };
    all.push(log.append(e, { durable: i === 59 }));
  }
});
afterAll(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (minutes: number): string => new Date(START + 60_000 * minutes).toISOString();

/** The oracle: the same filter in plain JavaScript over what append returned. */
function expected(q: AuditQuery): number[] {
  let r = all.filter(
    (e) =>
      (q.sandboxId === undefined || e.sandboxId === q.sandboxId) &&
      (q.tenant === undefined || e.tenant === q.tenant) &&
      (q.actor === undefined || e.actor === q.actor) &&
      (q.decision === undefined || e.decision === q.decision) &&
      (q.action === undefined || (q.action.endsWith('.*') ? e.action.startsWith(q.action.slice(0, -1)) : e.action === q.action)) &&
      (q.since === undefined || Date.parse(e.ts) >= new Date(q.since).getTime()) &&
      (q.until === undefined || Date.parse(e.ts) < new Date(q.until).getTime()),
  );
  if (q.order === 'desc') r = r.reverse();
  if (q.afterSeq !== undefined) r = r.filter((e) => (q.order === 'desc' ? e.seq < q.afterSeq! : e.seq > q.afterSeq!));
  return r.slice(0, q.limit ?? 100).map((e) => e.seq);
}

describe('query', () => {
  it.each<[string, AuditQuery]>([
    ['no filter (first 100)', {}],
    ['sandboxId', { sandboxId: 'sbx_2' }],
    ['tenant', { tenant: 't1' }],
    ['exact action', { action: 'command.end' }],
    ['action prefix (not commander.x)', { action: 'command.*' }],
    ['action prefix approval.*', { action: 'approval.*' }],
    ['actor', { actor: 'system' }],
    ['decision', { decision: 'deny' }],
    ['since (inclusive)', { since: at(100) }],
    ['until (exclusive), as a Date', { until: new Date(START + 60_000 * 10) }],
    ['since and until', { since: at(30), until: at(40) }],
    ['a date-only since', { since: '2025-05-01' }],
    ['tenant + action prefix + sandboxId', { tenant: 't0', action: 'command.*', sandboxId: 'sbx_0' }],
    ['descending', { order: 'desc', limit: 7 }],
    ['afterSeq ascending (a page)', { afterSeq: 50, limit: 10 }],
    ['afterSeq descending (a page back)', { afterSeq: 50, limit: 10, order: 'desc' }],
    ['limit 1000', { limit: 1000 }],
    ['nothing matches', { sandboxId: 'sbx_none' }],
  ])('%s', (_name, q) => {
    const got = log.query(q).map((e) => e.seq);
    expect(got).toEqual(expected(q));
    if (q.sandboxId === 'sbx_none') expect(got).toEqual([]);
    else expect(got.length).toBeGreaterThan(0);
  });

  it('returns whole events, equal to what append returned', () => {
    expect(log.query({ sandboxId: 'sbx_1', limit: 3 })).toEqual(all.filter((e) => e.sandboxId === 'sbx_1').slice(0, 3));
  });

  it('pages through everything with afterSeq without gaps or repeats', () => {
    const seen: number[] = [];
    for (let after = 0; ; ) {
      const page = log.query({ afterSeq: after, limit: 17 });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.seq));
      after = page[page.length - 1]!.seq;
    }
    expect(seen).toEqual(all.map((e) => e.seq));
  });

  it.each<[string, unknown, string]>([
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit 1001', { limit: 1001 }, 'limit'],
    ['a fractional limit', { limit: 2.5 }, 'limit'],
    ['a bad since', { since: 'yesterday' }, 'since'],
    ['an invalid Date', { until: new Date(Number.NaN) }, 'until'],
    ['a wildcard in the middle', { action: 'com*.end' }, 'action'],
    ['an SQL-looking action', { action: "x' OR 1=1 --" }, 'action'],
    ['an unknown decision', { decision: 'perhaps' }, 'decision'],
    ['an unknown order', { order: 'random' }, 'order'],
    ['a negative afterSeq', { afterSeq: -1 }, 'afterSeq'],
    ['an empty sandboxId', { sandboxId: '' }, 'sandboxId'],
    ['an unknown filter', { sandbox: 'sbx_1' }, '"sandbox"'],
  ])('refuses %s with E_INVALID_ARGUMENT naming it', (_what, q, named) => {
    let err: unknown;
    try {
      log.query(q as AuditQuery);
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err) && err.code).toBe('E_INVALID_ARGUMENT');
    expect((err as Error).message).toContain(named);
  });

  it.each<[string, AuditQuery, string]>([
    ['sandboxId', { sandboxId: 'sbx_1' }, 'events_sandbox'],
    ['tenant', { tenant: 't1', order: 'desc' }, 'events_tenant'],
    ['action prefix', { action: 'command.*' }, 'events_action'],
    ['time range', { since: at(5), until: at(9) }, 'events_ts'],
    ['since alone (a seq range found on events_ts)', { since: at(118) }, 'INTEGER PRIMARY KEY (rowid>?)'],
    ['until alone, newest first', { until: at(3), order: 'desc' }, 'INTEGER PRIMARY KEY (rowid<?)'],
  ])('uses an index for %s', (_what, q, index) => {
    const db = new Database(join(dir, 'audit.sqlite'), { readonly: true });
    try {
      const c = compileQuery(q);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.params) as { detail: string }[]).map((r) => r.detail).join('; ');
      expect(plan).toContain(index);
    } finally {
      db.close();
    }
  });
});
