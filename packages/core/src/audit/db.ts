/**
 * The audit log's own SQLite file, in WAL mode like the server's store
 * (packages/server/src/store/db.ts): numbered migrations, one transaction
 * each. Every hashed field has its own column, so queries use indexes and
 * verification recomputes each hash from exactly what is stored; there is no
 * JSON copy of the event that could disagree with the columns.
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardenError } from '@warden/protocol';
import type { EventFields } from './event.js';

export type Db = Database.Database;

export const FORMAT = 'warden-audit-v1';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   ) STRICT;
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     ts TEXT NOT NULL,
     action TEXT NOT NULL,
     actor TEXT,
     tenant TEXT,
     sandbox_id TEXT,
     input_digest TEXT,
     preview TEXT,
     decision TEXT,
     rule_ids TEXT,
     risk TEXT,
     outcome TEXT,
     duration_ms REAL,
     details TEXT,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   ) STRICT;
   CREATE INDEX events_sandbox ON events (sandbox_id) WHERE sandbox_id IS NOT NULL;
   CREATE INDEX events_tenant ON events (tenant) WHERE tenant IS NOT NULL;
   CREATE INDEX events_action ON events (action);
   CREATE INDEX events_ts ON events (ts);
   CREATE TABLE checkpoints (
     seq INTEGER PRIMARY KEY,
     tree_size INTEGER NOT NULL,
     root TEXT NOT NULL,
     ts TEXT NOT NULL,
     key_id TEXT NOT NULL,
     signature TEXT NOT NULL,
     frontier TEXT NOT NULL
   ) STRICT;`,
];

export interface EventRow {
  readonly seq: number;
  readonly ts: string;
  readonly action: string;
  readonly actor: string | null;
  readonly tenant: string | null;
  readonly sandbox_id: string | null;
  readonly input_digest: string | null;
  readonly preview: string | null;
  readonly decision: string | null;
  readonly rule_ids: string | null;
  readonly risk: string | null;
  readonly outcome: string | null;
  readonly duration_ms: number | null;
  readonly details: string | null;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface CheckpointRow {
  readonly seq: number;
  readonly tree_size: number;
  readonly root: string;
  readonly ts: string;
  readonly key_id: string;
  readonly signature: string;
  /** JSON array of the Merkle frontier's subtree roots (not signed; lets open skip rereading the log). */
  readonly frontier: string;
}

export const INSERT_EVENT = `INSERT INTO events (seq, ts, action, actor, tenant, sandbox_id, input_digest, preview, decision, rule_ids, risk, outcome, duration_ms, details, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const INSERT_CHECKPOINT = 'INSERT INTO checkpoints (seq, tree_size, root, ts, key_id, signature, frontier) VALUES (?, ?, ?, ?, ?, ?, ?)';

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** INSERT_EVENT's parameters. */
export function eventParams(f: EventFields, hash: string): unknown[] {
  const n = orNull;
  return [
    f.seq,
    f.ts,
    f.action,
    n(f.actor),
    n(f.tenant),
    n(f.sandboxId),
    n(f.inputDigest),
    n(f.preview),
    n(f.decision),
    n(f.ruleIdsJson),
    n(f.risk),
    n(f.outcome),
    n(f.durationMs),
    n(f.detailsJson),
    f.prevHash,
    hash,
  ];
}

/** A row's fields as stored (NULL → undefined), for hashing and for callers. */
export function rowFields(r: EventRow): EventFields {
  const u = orUndefined;
  return {
    seq: r.seq,
    ts: r.ts,
    prevHash: r.prev_hash,
    action: r.action,
    actor: u(r.actor),
    tenant: u(r.tenant),
    sandboxId: u(r.sandbox_id),
    inputDigest: u(r.input_digest),
    preview: u(r.preview),
    decision: u(r.decision),
    ruleIdsJson: u(r.rule_ids),
    risk: u(r.risk),
    outcome: u(r.outcome),
    durationMs: u(r.duration_ms),
    detailsJson: u(r.details),
  };
}

/**
 * Opens the log's database. Writable: creates the file (0600, parent 0700)
 * and brings the schema up to date. Read-only: the file must exist with the
 * current schema; the writer may be running (WAL lets readers in).
 */
export function openAuditDb(file: string, readOnly: boolean): Db {
  if (readOnly) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 1000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== MIGRATIONS.length) {
        throw new WardenError(
          'E_AUDIT_UNAVAILABLE',
          `The audit log ${file} has schema version ${version}; this build reads version ${MIGRATIONS.length}. Open it once for writing with this build to upgrade it.`,
        );
      }
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    chmodSync(file, 0o600); // previews, actors and tenants are not for every local user
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Readers never block a WAL writer; only a second writer would, and that is refused anyway.
    db.pragma('busy_timeout = 1000');
    // The log copies the WAL into the database itself (log.ts, #checkpointWal), so that this never
    // happens inside a durable append; SQLite's own trigger stays only as a backstop (~64 MiB).
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma('cache_size = -16384'); // 16 MiB: the right-hand pages of the four indexes stay hot
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new WardenError('E_AUDIT_UNAVAILABLE', `The audit log ${file} has schema version ${version}, newer than this build knows (${MIGRATIONS.length}); use a newer Warden.`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v] ?? '');
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    // Statistics for the planner (STAT4 is compiled in): without them a `ts >= ?` query scans the
    // table in seq order instead of using events_ts. Bounded: at most ~1000 rows per index are read.
    db.pragma('analysis_limit = 1000');
    db.pragma('optimize = 0x10002');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface Meta {
  readonly format: string;
  readonly logId: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly createdAt: string;
}

export function readMeta(db: Db): Meta | undefined {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const m = new Map(rows.map((r) => [r.key, r.value]));
  const logId = m.get('log_id');
  if (logId === undefined) return undefined;
  return { format: m.get('format') ?? '', logId, keyId: m.get('key_id') ?? '', publicKey: m.get('public_key') ?? '', createdAt: m.get('created_at') ?? '' };
}

/** Records the log's identity once; returns what is recorded (another process may have won the race). */
export function initMeta(db: Db, meta: Meta): Meta {
  const put = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('format', meta.format);
    put.run('log_id', meta.logId);
    put.run('key_id', meta.keyId);
    put.run('public_key', meta.publicKey);
    put.run('created_at', meta.createdAt);
  }).immediate();
  return readMeta(db)!;
}

/** Prepared statements, compiled once per SQL text (preparing costs ~5x a cached run). */
export class Statements {
  readonly #db: Db;
  readonly #cache = new Map<string, Database.Statement>();

  constructor(db: Db) {
    this.#db = db;
  }

  get(sql: string): Database.Statement {
    let s = this.#cache.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }
}
