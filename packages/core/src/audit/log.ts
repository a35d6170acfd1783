/**
 * The audit log: a hash chain of events in SQLite with signed Merkle
 * checkpoints (see docs/audit.md for the formats and what verify proves).
 *
 * Appends are synchronous. Each gets its seq and hash at once from the chain
 * head kept in memory, so the order is append order, then waits in a buffer;
 * the buffer is committed in one transaction on a short timer, when it is
 * full, or before a durable append returns (with synchronous=FULL for that
 * commit, which makes everything before it durable too). The Merkle frontier
 * tracks committed events only, and a checkpoint due after a commit is
 * written in the same transaction.
 *
 * One writer per file: every commit checks that the database still ends where
 * this process left it, so a second writer is refused instead of forking the
 * chain.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { WardenError } from '@warden/protocol';
import { canonicalEvent, chained, eventHash, GENESIS_HASH, normalizeInput, toEvent } from './event.js';
import { FORMAT, INSERT_CHECKPOINT, INSERT_EVENT, Statements, eventParams, initMeta, openAuditDb, readMeta, rowFields, type CheckpointRow, type Db, type EventRow, type Meta } from './db.js';
import { exportDb } from './export.js';
import { checkpointSignatureValid, loadSigningKey, parsePublicKey, signCheckpoint, type SigningKey, type VerifyingKey } from './keys.js';
import { MerkleFrontier } from './merkle.js';
import { compileQuery } from './query.js';
import { auditLogConfig, type AuditLogConfig } from './options.js';
import { verifyDb } from './verify.js';
import type { AuditEvent, AuditEventInput, AuditLog, AuditLogOptions, AuditQuery, Checkpoint, ExportOptions, VerifyOptions, VerifyReport } from './types.js';

interface Pending {
  readonly event: AuditEvent;
  readonly params: unknown[];
}

/** The log copies its WAL into the database file (a PASSIVE checkpoint) at most this often, after commits. */
const WAL_CHECKPOINT_MS = 100;

const unavailable = (message: string, cause?: unknown): WardenError => new WardenError('E_AUDIT_UNAVAILABLE', message, cause === undefined ? {} : { cause });
const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function toCheckpoint(r: CheckpointRow): Checkpoint {
  return Object.freeze({ seq: r.seq, treeSize: r.tree_size, root: r.root, ts: r.ts, keyId: r.key_id, signature: r.signature });
}

/**
 * Opens (creating if needed) the audit log in `file`, signing checkpoints
 * with the Ed25519 key in `keyFile`. Throws E_AUDIT_UNAVAILABLE when the log
 * cannot be trusted to continue: a different or missing key, a last row that
 * does not verify, rows deleted under a checkpoint.
 *
 * @example
 * const audit = openAuditLog({ file: `${dataDir}/audit.sqlite`, keyFile: '/etc/warden/audit.key' });
 * audit.append({ action: 'sandbox.create', actor: 'key:k1', tenant: 't1', sandboxId: sbx.id, outcome: 'ok' });
 * audit.close();
 */
export function openAuditLog(options: AuditLogOptions): AuditLog {
  const cfg = auditLogConfig(options);
  let db: Db;
  try {
    db = openAuditDb(cfg.file, cfg.readOnly);
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw unavailable(`Cannot open the audit log ${cfg.file}: ${reason(err)}. Check that the data dir exists and is writable.`, err);
  }
  try {
    return cfg.readOnly ? openReadOnly(db, cfg) : openWritable(db, cfg);
  } catch (err) {
    db.close();
    if (err instanceof WardenError) throw err;
    throw unavailable(`Cannot open the audit log ${cfg.file}: ${reason(err)}.`, err);
  }
}

function openReadOnly(db: Db, cfg: AuditLogConfig): AuditLog {
  const meta = readMeta(db);
  if (!meta) throw unavailable(`The audit log ${cfg.file} has never been written to; there is nothing to read.`);
  // A public key given explicitly is the one to trust: it came from outside the data dir.
  const key = cfg.publicKey !== undefined ? parsePublicKey(cfg.publicKey) : loadSigningKey(cfg.keyFile!, false);
  return new Log(db, cfg, meta, key, undefined);
}

function openWritable(db: Db, cfg: AuditLogConfig): AuditLog {
  const existing = readMeta(db);
  const key = loadSigningKey(cfg.keyFile!, existing === undefined);
  const meta = existing ?? initMeta(db, { format: FORMAT, logId: randomBytes(16).toString('hex'), keyId: key.keyId, publicKey: key.pem, createdAt: cfg.now().toISOString() });
  if (meta.keyId !== key.keyId) {
    throw unavailable(
      `The audit signing key ${cfg.keyFile} (id ${key.keyId.slice(0, 16)}…) is not the key this log was created with (id ${meta.keyId.slice(0, 16)}…). Restore the original key file; keys cannot be rotated.`,
    );
  }
  return new Log(db, cfg, meta, key, resume(db, cfg, key, meta));
}

interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly frontier: MerkleFrontier;
  readonly checkpoint: Checkpoint | undefined;
}

/**
 * Where the chain continues. Trust but check: the last row must hash to its
 * hash and link to the row before it, and no checkpoint may lie past it, or
 * appending would extend (and hide) damage. The Merkle frontier comes from
 * the last checkpoint (its stored subtree roots, checked against its signed
 * root) plus the rows after it, or, if that does not add up, from every row.
 */
function resume(db: Db, cfg: AuditLogConfig, key: VerifyingKey, meta: Meta): Head {
  const verifyHint = 'Run verify (readOnly) to find the first bad row; the log cannot be extended until it is repaired or moved aside.';
  const last = db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 2').all() as EventRow[];
  const [tail, before] = last;
  if (tail) {
    const f = rowFields(tail);
    let ok: boolean;
    try {
      ok = eventHash(f.prevHash, canonicalEvent(f)) === tail.hash;
    } catch {
      ok = false;
    }
    if (!ok) throw unavailable(`The last event in the audit log ${cfg.file} (seq ${tail.seq}) does not match its hash. ${verifyHint}`);
    const expectedPrev = tail.seq === 1 ? GENESIS_HASH : before?.seq === tail.seq - 1 ? before.hash : undefined;
    if (tail.prev_hash !== expectedPrev) throw unavailable(`The last event in the audit log ${cfg.file} (seq ${tail.seq}) does not link to event ${tail.seq - 1}. ${verifyHint}`);
  }
  const lastSeq = tail?.seq ?? 0;
  const cpRow = db.prepare('SELECT * FROM checkpoints ORDER BY seq DESC LIMIT 1').get() as CheckpointRow | undefined;
  if (cpRow && cpRow.seq > lastSeq) {
    throw unavailable(`The audit log ${cfg.file} has a checkpoint at seq ${cpRow.seq} but its events end at ${lastSeq}: events were deleted. ${verifyHint}`);
  }
  let frontier: MerkleFrontier | undefined;
  if (cpRow) {
    let saved: unknown;
    try {
      saved = JSON.parse(cpRow.frontier);
    } catch {
      saved = undefined;
    }
    const restored = Array.isArray(saved) ? MerkleFrontier.restore(cpRow.seq, saved) : undefined;
    const signed = checkpointSignatureValid(key, { logId: meta.logId, seq: cpRow.seq, treeSize: cpRow.tree_size, root: cpRow.root, ts: cpRow.ts }, cpRow.signature);
    if (restored && signed && restored.root() === cpRow.root) frontier = restored;
    else cfg.logger.warn('audit: the last checkpoint does not add up; rebuilding the Merkle frontier from every event', { seq: cpRow.seq });
  }
  const from = frontier ? frontier.size : 0;
  frontier ??= MerkleFrontier.empty();
  for (const r of db.prepare('SELECT hash FROM events WHERE seq > ? ORDER BY seq').iterate(from) as IterableIterator<{ hash: string }>) frontier.push(r.hash);
  if (frontier.size !== lastSeq) throw unavailable(`The audit log ${cfg.file} ends at seq ${lastSeq} but holds ${frontier.size} events: rows are missing. ${verifyHint}`);
  return { seq: lastSeq, hash: tail?.hash ?? GENESIS_HASH, ts: tail?.ts ?? '', frontier, checkpoint: cpRow ? toCheckpoint(cpRow) : undefined };
}

class Log implements AuditLog {
  readonly #db: Db;
  readonly #cfg: AuditLogConfig;
  readonly #meta: Meta;
  readonly #key: VerifyingKey;
  /** undefined when read-only. */
  readonly #signer: SigningKey | undefined;
  readonly #stmts: Statements;
  #buffer: Pending[] = [];
  /** Chain head of everything appended (buffered included). */
  #headSeq = 0;
  #headHash = GENESIS_HASH;
  #headTs = '';
  /** What the database holds. */
  #committedSeq = 0;
  #frontier = MerkleFrontier.empty();
  #lastCheckpoint: Checkpoint | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  /** The last commit failure, reported once until a commit succeeds. */
  #failing: string | undefined;
  #closed = false;
  /** When the WAL was last copied into the database, and whether a copy is already scheduled. */
  #walCheckpointAt = Date.now();
  #walCheckpointSoon: NodeJS.Immediate | undefined;
  /** The commit transaction: checks this process is still the only writer, inserts the batch and the checkpoint. */
  readonly #write: Database.Transaction<(expected: number, batch: readonly Pending[], cp: Checkpoint | undefined, frontier: string | undefined) => void>;

  constructor(db: Db, cfg: AuditLogConfig, meta: Meta, key: VerifyingKey, head: Head | undefined) {
    this.#db = db;
    this.#cfg = cfg;
    this.#meta = meta;
    this.#key = key;
    this.#stmts = new Statements(db);
    this.#write = db.transaction((expected: number, batch: readonly Pending[], cp: Checkpoint | undefined, frontier: string | undefined) => {
      const end = (this.#stmts.get('SELECT max(seq) AS n FROM events').get() as { n: number | null }).n ?? 0;
      if (end !== expected) {
        throw new Error(`the log ends at seq ${end}, not ${expected} as this process left it: another process is writing to it (one writer per file)`);
      }
      const insert = this.#stmts.get(INSERT_EVENT);
      for (const p of batch) insert.run(p.params);
      if (cp) this.#stmts.get(INSERT_CHECKPOINT).run(cp.seq, cp.treeSize, cp.root, cp.ts, cp.keyId, cp.signature, frontier);
    });
    if (head) {
      this.#signer = key as SigningKey;
      this.#headSeq = this.#committedSeq = head.seq;
      this.#headHash = head.hash;
      this.#headTs = head.ts;
      this.#frontier = head.frontier;
      this.#lastCheckpoint = head.checkpoint;
      this.#checkpointTimer = setInterval(() => this.#onCheckpointTimer(), cfg.checkpointIntervalMs);
      this.#checkpointTimer.unref();
    }
  }

  get publicKey(): string {
    return this.#key.pem;
  }

  get keyId(): string {
    return this.#key.keyId;
  }

  get logId(): string {
    return this.#meta.logId;
  }

  #writable(what: string): void {
    if (this.#closed) throw unavailable(`audit ${what}: the audit log is closed.`);
    if (!this.#signer) throw unavailable(`audit ${what}: the audit log was opened read-only.`);
  }

  append(input: AuditEventInput, options: { readonly durable?: boolean } = {}): AuditEvent {
    this.#writable('append');
    if (typeof options !== 'object' || options === null || (options.durable !== undefined && typeof options.durable !== 'boolean')) {
      throw new WardenError('E_INVALID_ARGUMENT', 'audit append: options must be { durable?: boolean }.');
    }
    const n = normalizeInput(input, this.#cfg.previewMaxChars);
    if (this.#buffer.length >= this.#cfg.maxBufferedEvents) {
      throw unavailable(`audit append: ${this.#buffer.length} events are waiting because commits to ${this.#cfg.file} keep failing (${this.#failing ?? 'unknown error'}); check the data dir disk.`);
    }
    const now = this.#cfg.now();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw unavailable('audit append: the clock (options.now) did not return a valid Date.');
    // ts never goes backwards: if the clock steps back, events keep the last ts until it catches up.
    // Queries by time rely on it (query.ts).
    let ts = now.toISOString();
    if (ts < this.#headTs) ts = this.#headTs;
    const fields = chained(n, this.#headSeq + 1, ts, this.#headHash);
    const hash = eventHash(fields.prevHash, canonicalEvent(fields));
    const event = Object.freeze(toEvent(fields, hash));
    this.#buffer.push({ event, params: eventParams(fields, hash) });
    const headTs = this.#headTs;
    this.#headSeq = fields.seq;
    this.#headHash = hash;
    this.#headTs = ts;

    if (options.durable === true) {
      try {
        this.#commit(true, false);
      } catch (err) {
        // Not recorded: forget it, so the chain continues from what is (or will be) in the database.
        this.#buffer.pop();
        this.#headSeq = fields.seq - 1;
        this.#headHash = fields.prevHash;
        this.#headTs = headTs;
        this.#scheduleFlush();
        throw unavailable(`audit append: could not make ${event.action} durable in ${this.#cfg.file}: ${reason(err)}. The action must not run.`, err);
      }
    } else if (this.#buffer.length >= this.#cfg.maxBatch && this.#failing === undefined) {
      this.#tryCommit();
    } else {
      // Also while commits fail: then the retry timer tries again, not every append.
      this.#scheduleFlush();
    }
    return event;
  }

  flush(): void {
    if (this.#closed || !this.#signer || this.#buffer.length === 0) return;
    try {
      this.#commit(false, false);
    } catch (err) {
      this.#scheduleFlush();
      throw unavailable(`audit flush: could not commit ${this.#buffer.length} events to ${this.#cfg.file}: ${reason(err)}.`, err);
    }
  }

  checkpoint(): Checkpoint {
    this.#writable('checkpoint');
    if (this.#buffer.length === 0 && this.#lastCheckpoint && this.#lastCheckpoint.seq === this.#committedSeq) return this.#lastCheckpoint;
    try {
      this.#commit(false, true);
    } catch (err) {
      this.#scheduleFlush();
      throw unavailable(`audit checkpoint: could not write to ${this.#cfg.file}: ${reason(err)}.`, err);
    }
    return this.#lastCheckpoint!;
  }

  query(filter?: AuditQuery): AuditEvent[] {
    const q = compileQuery(filter);
    this.#open('query');
    this.flush();
    const rows = this.#stmts.get(q.sql).all(...q.params) as EventRow[];
    return rows.map((r) => this.#toEvent(r));
  }

  get(seq: number): AuditEvent | undefined {
    this.#open('get');
    if (!Number.isSafeInteger(seq)) throw new WardenError('E_INVALID_ARGUMENT', `audit get: seq must be an integer, got ${String(seq)}.`);
    if (seq > this.#committedSeq && seq <= this.#headSeq) return this.#buffer[seq - this.#committedSeq - 1]?.event;
    const row = this.#stmts.get('SELECT * FROM events WHERE seq = ?').get(seq) as EventRow | undefined;
    return row && this.#toEvent(row);
  }

  verify(options?: VerifyOptions): VerifyReport {
    this.#open('verify');
    this.flush();
    return verifyDb(this.#db, this.#key, this.#meta, options);
  }

  export(write: (line: string) => void, options?: ExportOptions): { events: number; checkpoints: number } {
    this.#open('export');
    // A writable log first covers its tail, so the export ends on a signature.
    if (this.#signer && this.#headSeq > (this.#lastCheckpoint?.seq ?? 0)) this.checkpoint();
    return exportDb(this.#db, this.#meta, write, options);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    clearInterval(this.#checkpointTimer);
    clearImmediate(this.#walCheckpointSoon);
    let failure: unknown;
    try {
      if (this.#signer && (this.#buffer.length > 0 || (this.#lastCheckpoint?.seq ?? 0) < this.#committedSeq)) this.#commit(false, true);
      if (this.#signer) {
        this.#optimize();
        this.#stmts.get('PRAGMA wal_checkpoint(TRUNCATE)').get(); // leave no WAL behind
      }
    } catch (err) {
      failure = err;
    } finally {
      this.#db.close();
    }
    if (failure !== undefined) {
      throw unavailable(`audit close: the last ${this.#buffer.length} events could not be committed to ${this.#cfg.file} and are lost: ${reason(failure)}.`, failure);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #open(what: string): void {
    if (this.#closed) throw unavailable(`audit ${what}: the audit log is closed.`);
  }

  #toEvent(r: EventRow): AuditEvent {
    try {
      return toEvent(rowFields(r), r.hash);
    } catch (err) {
      throw unavailable(`audit: event ${r.seq} in ${this.#cfg.file} cannot be read (${reason(err)}); run verify to see what was changed.`, err);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#buffer.length === 0 || this.#closed) return;
    // After a failure, retry less eagerly: the disk will not heal in 5 ms.
    const delay = this.#failing === undefined ? this.#cfg.flushIntervalMs : Math.max(this.#cfg.flushIntervalMs, 250);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#tryCommit();
    }, delay);
    this.#flushTimer.unref();
  }

  /** A commit nobody waits for: a failure is logged and retried, the events stay buffered. */
  #tryCommit(): void {
    try {
      this.#commit(false, false);
    } catch {
      this.#scheduleFlush();
    }
  }

  #onCheckpointTimer(): void {
    if (this.#closed || this.#headSeq <= (this.#lastCheckpoint?.seq ?? 0)) return;
    try {
      this.#commit(false, true);
    } catch {
      this.#scheduleFlush();
      return;
    }
    this.#optimize();
  }

  /** Refreshes the planner's statistics when the table has changed enough (cheap otherwise; see db.ts). */
  #optimize(): void {
    try {
      this.#stmts.get('PRAGMA optimize = 0x10002').run(); // 0x10000: look at every table, not only those queried
    } catch (err) {
      this.#cfg.logger.warn('audit: PRAGMA optimize failed', { error: reason(err) });
    }
  }

  /**
   * Writes the buffer (and a checkpoint if one is due or `forceCheckpoint`) in
   * one IMMEDIATE transaction. The in-memory state moves only after COMMIT.
   */
  #commit(durable: boolean, forceCheckpoint: boolean): void {
    const batch = this.#buffer;
    const lastSeq = batch.length > 0 ? batch[batch.length - 1]!.event.seq : this.#committedSeq;
    const frontier = batch.length > 0 ? this.#frontier.clone() : this.#frontier;
    for (const p of batch) frontier.push(p.event.hash);
    const lastCp = this.#lastCheckpoint?.seq ?? -1;
    const due = forceCheckpoint ? lastSeq > lastCp : lastSeq - Math.max(lastCp, 0) >= this.#cfg.checkpointEvery;
    if (batch.length === 0 && !due) return;
    let cp: Checkpoint | undefined;
    if (due) {
      const body = { logId: this.#meta.logId, seq: lastSeq, treeSize: lastSeq, root: frontier.root(), ts: this.#cfg.now().toISOString() };
      cp = Object.freeze({ seq: body.seq, treeSize: body.treeSize, root: body.root, ts: body.ts, keyId: this.#key.keyId, signature: signCheckpoint(this.#signer!, body) });
    }
    try {
      if (durable) this.#stmts.get('PRAGMA synchronous = FULL').run();
      try {
        this.#write.immediate(this.#committedSeq, batch, cp, cp && JSON.stringify(frontier.hashes()));
      } finally {
        if (durable) this.#relax();
      }
    } catch (err) {
      if (this.#failing === undefined) this.#cfg.logger.error('audit: commit failed; events stay buffered and are retried', { file: this.#cfg.file, events: batch.length, error: reason(err) });
      this.#failing = reason(err);
      throw err;
    }
    if (this.#failing !== undefined) this.#cfg.logger.info('audit: commits work again', { file: this.#cfg.file });
    this.#failing = undefined;
    this.#buffer = [];
    this.#committedSeq = lastSeq;
    this.#frontier = frontier;
    if (cp) this.#lastCheckpoint = cp;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#afterCommit(durable);
  }

  /** Back to synchronous=NORMAL after a durable commit. Never throws: the commit's outcome must not depend on it. */
  #relax(): void {
    try {
      this.#stmts.get('PRAGMA synchronous = NORMAL').run();
    } catch (err) {
      this.#cfg.logger.warn('audit: could not return to synchronous=NORMAL; buffered commits will fsync too', { error: reason(err) });
    }
  }

  /**
   * SQLite would copy the WAL into the database file (writes plus an fsync,
   * milliseconds) inside whichever commit crossed its threshold, often a
   * durable append that an action is waiting on. So the log does it itself:
   * after a buffered commit, or just after a durable append has returned
   * (setImmediate), at most every WAL_CHECKPOINT_MS. PASSIVE never waits for
   * readers. A failure only means the WAL grows until the next try. SQLite's
   * own trigger (db.ts) remains for callers that never yield to the event loop.
   */
  #afterCommit(durable: boolean): void {
    if (Date.now() - this.#walCheckpointAt < WAL_CHECKPOINT_MS) return;
    if (!durable) {
      this.#checkpointWal();
    } else if (this.#walCheckpointSoon === undefined) {
      this.#walCheckpointSoon = setImmediate(() => {
        this.#walCheckpointSoon = undefined;
        if (!this.#closed) this.#checkpointWal();
      });
      this.#walCheckpointSoon.unref();
    }
  }

  #checkpointWal(): void {
    this.#walCheckpointAt = Date.now();
    try {
      this.#stmts.get('PRAGMA wal_checkpoint(PASSIVE)').get();
    } catch (err) {
      this.#cfg.logger.warn('audit: copying the WAL into the database failed; will retry', { file: this.#cfg.file, error: reason(err) });
    }
  }
}
