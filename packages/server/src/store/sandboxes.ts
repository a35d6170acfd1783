/** Sandbox records: the store, not memory, is the truth about which sandboxes exist and who owns them. */
import type { Limits, SandboxView } from '@warden/protocol';
import { Statements, type Db } from './db.js';

interface SandboxRow {
  id: string;
  tenant: string;
  engine_id: string;
  runtime: string;
  state: 'running' | 'closed';
  limits: string;
  codebase: string | null;
  metadata: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  closed_reason: string | null;
}

export interface NewSandboxRecord {
  readonly id: string;
  readonly tenant: string;
  readonly engineId: string;
  readonly runtime: string;
  readonly limits: Limits;
  readonly codebase: { name: string; version: number } | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface ListFilter {
  readonly tenant: string;
  readonly state: 'running' | 'closed' | 'all';
  readonly metadata: ReadonlyArray<readonly [string, string]>;
  readonly limit: number;
  /** Exclusive: rows after this (created_at, id) in `order`. */
  readonly after?: { createdAt: number; id: string };
  /** By (created_at, id): 'asc' oldest first (default), 'desc' newest first. */
  readonly order?: 'asc' | 'desc';
  /** Only sandboxes created at or after this time (epoch ms). Default: no bound. */
  readonly createdFrom?: number;
}

function view(r: SandboxRow): SandboxView {
  return {
    id: r.id,
    tenant: r.tenant,
    runtime: r.runtime,
    state: r.state,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    endedAt: r.ended_at === null ? null : new Date(r.ended_at).toISOString(),
    closedReason: r.closed_reason,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    limits: JSON.parse(r.limits) as Limits,
    codebase: r.codebase === null ? null : (JSON.parse(r.codebase) as { name: string; version: number }),
  };
}

export class SandboxStore {
  readonly #db: Db;
  readonly #sql: Statements;

  constructor(db: Db) {
    this.#db = db;
    this.#sql = new Statements(db);
  }

  insert(r: NewSandboxRecord): SandboxView {
    const row: SandboxRow = {
      id: r.id,
      tenant: r.tenant,
      engine_id: r.engineId,
      runtime: r.runtime,
      state: 'running',
      limits: JSON.stringify(r.limits),
      codebase: r.codebase === null ? null : JSON.stringify(r.codebase),
      metadata: JSON.stringify(r.metadata),
      created_at: r.createdAt,
      expires_at: r.expiresAt,
      ended_at: null,
      closed_reason: null,
    };
    this.#sql
      .get(
        `INSERT INTO sandboxes (id, tenant, engine_id, runtime, state, limits, codebase, metadata, created_at, expires_at)
         VALUES (@id, @tenant, @engine_id, @runtime, @state, @limits, @codebase, @metadata, @created_at, @expires_at)`,
      )
      .run(row);
    return view(row);
  }

  /** The sandbox if it belongs to `tenant`; another tenant's id is indistinguishable from a missing one. */
  get(id: string, tenant: string): SandboxView | undefined {
    const r = this.#sql.get('SELECT * FROM sandboxes WHERE id = ? AND tenant = ?').get(id, tenant) as SandboxRow | undefined;
    return r && view(r);
  }

  list(f: ListFilter): SandboxView[] {
    const where = ['tenant = @tenant'];
    const params: Record<string, string | number> = { tenant: f.tenant, limit: f.limit };
    if (f.state !== 'all') {
      where.push('state = @state');
      params.state = f.state;
    }
    f.metadata.forEach(([k, v], i) => {
      where.push(`EXISTS (SELECT 1 FROM json_each(sandboxes.metadata) WHERE key = @mk${i} AND value = @mv${i})`);
      params[`mk${i}`] = k;
      params[`mv${i}`] = v;
    });
    const desc = f.order === 'desc';
    if (f.after) {
      where.push(desc ? '(created_at < @ac OR (created_at = @ac AND id < @ai))' : '(created_at > @ac OR (created_at = @ac AND id > @ai))');
      params.ac = f.after.createdAt;
      params.ai = f.after.id;
    }
    if (f.createdFrom !== undefined) {
      where.push('created_at >= @cf');
      params.cf = f.createdFrom;
    }
    const sql = `SELECT * FROM sandboxes WHERE ${where.join(' AND ')} ORDER BY ${desc ? 'created_at DESC, id DESC' : 'created_at, id'} LIMIT @limit`;
    return (this.#sql.get(sql).all(params) as SandboxRow[]).map(view);
  }

  setExpiry(id: string, expiresAt: number): void {
    this.#sql.get("UPDATE sandboxes SET expires_at = ? WHERE id = ? AND state = 'running'").run(expiresAt, id);
  }

  /** Marks a sandbox ended; the first reason recorded wins. */
  markClosed(id: string, reason: string, at = Date.now()): void {
    this.#sql.get("UPDATE sandboxes SET state = 'closed', ended_at = ?, closed_reason = ? WHERE id = ? AND state = 'running'").run(at, reason, id);
  }

  /** Running sandboxes whose TTL has passed. */
  expired(now = Date.now()): Array<{ id: string; tenant: string }> {
    return this.#sql.get("SELECT id, tenant FROM sandboxes WHERE state = 'running' AND expires_at <= ?").all(now) as Array<{ id: string; tenant: string }>;
  }

  /**
   * Records of sandboxes that were running under another engine (a previous
   * server process): they died with it. Marks them closed and returns their ids.
   */
  closeOrphans(currentEngineId: string, reason: string): string[] {
    return this.#db.transaction(() => {
      const rows = this.#sql.get("SELECT id FROM sandboxes WHERE state = 'running' AND engine_id != ?").all(currentEngineId) as Array<{ id: string }>;
      const now = Date.now();
      for (const r of rows) this.markClosed(r.id, reason, now);
      return rows.map((r) => r.id);
    })();
  }

  runningCount(): number {
    return (this.#sql.get("SELECT count(*) AS n FROM sandboxes WHERE state = 'running'").get() as { n: number }).n;
  }
}
