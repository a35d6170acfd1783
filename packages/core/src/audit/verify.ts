/**
 * Verification: one streaming checker, fed events in seq order with each
 * checkpoint after the event it covers, from the database (verifyDb) or from
 * an export (export.ts). It keeps O(log n) state: the chain head and the
 * Merkle frontier.
 *
 * For each event: the seq is the next one (else `gap`); its fields hash to its
 * stored hash (else `hash-mismatch`, which the database path refines into
 * `reordered` or `inserted` when the row turns out to be another seq's event);
 * its prevHash is the previous event's hash (else `chain-broken`). For each
 * checkpoint: the root recomputed from the events equals its root (else
 * `checkpoint-root`), and the trusted key signed it (else
 * `checkpoint-signature`). A checkpoint past the last event means rows at
 * the end were deleted (`truncated`).
 *
 * A broken link says two neighbours disagree, not which one lies, so the
 * checker looks one row further: if row p+1 still links to row p, row p is
 * the original and row p-1 was rewritten (and rehashed); otherwise row p was.
 */
import { WardenError } from '@warden/protocol';
import { GENESIS_HASH, MalformedEvent, canonicalEvent, eventHash, type EventFields } from './event.js';
import { rowFields, type CheckpointRow, type Db, type EventRow } from './db.js';
import { checkpointSignatureValid, type VerifyingKey } from './keys.js';
import { MerkleFrontier, isHash } from './merkle.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from './types.js';

/** An event as read: fields to hash, or why they could not be read. */
export interface RawEvent {
  readonly seq: unknown;
  readonly hash: unknown;
  readonly fields?: EventFields;
  readonly malformed?: string;
}

export interface RawCheckpoint {
  readonly seq: unknown;
  readonly treeSize: unknown;
  readonly root: unknown;
  readonly ts: unknown;
  readonly keyId: unknown;
  readonly signature: unknown;
}

/** Where the chain starts: before seq 1, or (for a partial export) after `seq` with that event's hash and frontier. */
export interface ChainStart {
  readonly seq: number;
  readonly prevHash: string;
  readonly frontier: MerkleFrontier;
}

const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;
const PROGRESS_EVERY = 65_536;

export class ChainVerifier {
  readonly #key: VerifyingKey;
  readonly #logId: string;
  readonly #first: number;
  readonly #startSeq: number;
  #next: number;
  #prev: string;
  readonly #frontier: MerkleFrontier;
  #events = 0;
  /** The last event that checked out. */
  #lastGood: number;
  #checkpoints = 0;
  #lastCheckpoint = 0;
  #bad: VerifyProblem | undefined;
  /** Row p's link to p-1 is broken; decided at the next row (or the end). */
  #pending: { seq: number; hash: string; prevHash: string } | undefined;
  /** The row whose fields did not hash to its hash, for callers that can look further. */
  mismatch: { seq: number; fields: EventFields; hash: string } | undefined;
  /** The key id the log itself claims (meta table or export header), for messages. */
  readonly #claimedKeyId: string | undefined;

  constructor(key: VerifyingKey, logId: string, start?: ChainStart, claimedKeyId?: string) {
    this.#key = key;
    this.#logId = logId;
    this.#startSeq = start?.seq ?? 0;
    this.#first = this.#startSeq + 1;
    this.#next = this.#first;
    this.#lastGood = this.#startSeq;
    this.#prev = start?.prevHash ?? GENESIS_HASH;
    this.#frontier = start?.frontier ?? MerkleFrontier.empty();
    this.#claimedKeyId = claimedKeyId;
  }

  get failed(): boolean {
    return this.#bad !== undefined || this.#pending !== undefined;
  }

  get problem(): VerifyProblem | undefined {
    return this.#bad;
  }

  /** The next seq expected. */
  get next(): number {
    return this.#next;
  }

  get events(): number {
    return this.#events;
  }

  fail(problem: VerifyProblem): void {
    this.#bad ??= problem;
  }

  /** Replaces the problem found with a more precise account of the same damage. */
  refine(problem: VerifyProblem): void {
    if (this.#bad) this.#bad = problem;
  }

  event(e: RawEvent): void {
    if (this.#bad) return;
    if (this.#pending) return this.#resolve(e);
    const expected = this.#next;
    if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq)) return this.fail({ seq: expected, reason: 'malformed', message: `The event after seq ${expected - 1} has no integer seq.` });
    if (e.seq > expected) {
      const missing = e.seq - expected === 1 ? `seq ${expected} is` : `seqs ${expected}–${e.seq - 1} are`;
      return this.fail({ seq: expected, reason: 'gap', message: `Event ${missing} missing: seq ${expected - 1} is followed by seq ${e.seq}. Rows were deleted.` });
    }
    if (e.seq < expected) return this.fail({ seq: expected, reason: 'reordered', message: `Seq ${e.seq} appears again after seq ${expected - 1}; events are out of order or duplicated.` });
    const got = this.#check(e);
    if (typeof got === 'object') return this.fail(got);
    const f = e.fields!;
    if (f.prevHash !== this.#prev) {
      this.#pending = { seq: e.seq, hash: got, prevHash: f.prevHash };
      this.#next++;
      return;
    }
    this.#accept(e.seq, got);
  }

  /** Checks a row on its own: its shape and its hash. Returns the hash, or the problem. */
  #check(e: RawEvent): string | VerifyProblem {
    const seq = e.seq as number;
    if (e.malformed !== undefined || e.fields === undefined) return { seq, reason: 'malformed', message: `Event ${seq} cannot be read: ${e.malformed ?? 'no fields'}.` };
    if (!isHash(e.hash)) return { seq, reason: 'malformed', message: `Event ${seq} has no valid hash (64 lower-case hex digits).` };
    let canonical: string;
    try {
      canonical = canonicalEvent(e.fields);
    } catch (err) {
      if (err instanceof MalformedEvent) return { seq, reason: 'malformed', message: `Event ${seq} is not an event: ${err.message}.` };
      throw err;
    }
    if (!isHash(e.fields.prevHash)) return { seq, reason: 'malformed', message: `Event ${seq} has no valid prevHash.` };
    if (eventHash(e.fields.prevHash, canonical) !== e.hash) {
      this.mismatch = { seq, fields: e.fields, hash: e.hash };
      return { seq, reason: 'hash-mismatch', message: `Event ${seq}'s fields do not hash to its stored hash: a field of it was edited.` };
    }
    return e.hash;
  }

  #accept(seq: number, hash: string): void {
    this.#frontier.push(hash);
    this.#prev = hash;
    this.#next = seq + 1;
    this.#lastGood = seq;
    this.#events++;
  }

  /** Row p did not link to row p-1; `e` is row p+1 (or undefined at the end). */
  #resolve(e: RawEvent | undefined): void {
    const p = this.#pending!;
    this.#pending = undefined;
    const hasPrev = p.seq - 1 >= this.#first;
    let nextLinks = false;
    if (e && e.seq === p.seq + 1 && e.fields) {
      const h = this.#check(e);
      nextLinks = typeof h === 'string' && e.fields.prevHash === p.hash;
    }
    if (hasPrev && (nextLinks || !e)) {
      this.#events--; // row p-1 was counted as good
      this.#lastGood = p.seq - 2;
      const why = e ? `row ${p.seq + 1} still links to row ${p.seq}, so row ${p.seq - 1} is the one that changed` : `row ${p.seq} is the last, so it may instead be row ${p.seq} that was rewritten`;
      this.fail({
        seq: p.seq - 1,
        reason: 'chain-broken',
        message: `Event ${p.seq - 1} was rewritten and rehashed: event ${p.seq} was chained to a different event ${p.seq - 1} (${why}).`,
      });
      return;
    }
    this.fail({
      seq: p.seq,
      reason: 'chain-broken',
      message: hasPrev
        ? `Event ${p.seq} was rewritten and rehashed: its prevHash is not event ${p.seq - 1}'s hash, and event ${p.seq + 1} is not chained to it.`
        : `Event ${p.seq} is the first but its prevHash is ${p.prevHash.slice(0, 16)}…, not ${this.#prev.slice(0, 16)}….`,
    });
  }

  checkpoint(c: RawCheckpoint): void {
    if (this.failed) return;
    const at = this.#next - 1;
    const seq = typeof c.seq === 'number' && Number.isSafeInteger(c.seq) ? c.seq : at;
    const malformed = (why: string): void => this.fail({ seq, reason: 'checkpoint-malformed', message: `The checkpoint at seq ${seq} ${why}.` });
    if (seq !== c.seq || seq < 0) return malformed('has no valid seq');
    if (seq !== at) return malformed(`is out of place: it comes after event ${at}`);
    if (c.treeSize !== seq) return malformed(`has treeSize ${String(c.treeSize)}; it must equal its seq`);
    if (!isHash(c.root) || typeof c.ts !== 'string' || typeof c.keyId !== 'string' || typeof c.signature !== 'string' || !SIGNATURE.test(c.signature)) {
      return malformed('has a field of the wrong shape (root, ts, keyId or signature)');
    }
    const root = this.#frontier.root();
    if (c.root !== root) {
      const from = this.#lastCheckpoint + 1;
      return this.fail({
        seq,
        reason: 'checkpoint-root',
        message: `The checkpoint at seq ${seq} signed root ${c.root.slice(0, 16)}…, but events 1–${seq} hash to ${root.slice(0, 16)}…: the root was edited, or events ${from}–${seq} were rewritten with the chain recomputed.`,
      });
    }
    if (!checkpointSignatureValid(this.#key, { logId: this.#logId, seq, treeSize: seq, root, ts: c.ts }, c.signature)) {
      const keys = [
        c.keyId !== this.#key.keyId ? `it names key ${c.keyId.slice(0, 16)}…` : '',
        this.#claimedKeyId !== undefined && this.#claimedKeyId !== this.#key.keyId ? `the log says it was made with key ${this.#claimedKeyId.slice(0, 16)}…` : '',
      ].filter(Boolean);
      return this.fail({
        seq,
        reason: 'checkpoint-signature',
        message: `The checkpoint at seq ${seq} is not signed by the trusted key ${this.#key.keyId.slice(0, 16)}…${keys.length ? ` (${keys.join('; ')})` : ''}: its signature, timestamp or log id was edited, or it was signed with another key.`,
      });
    }
    if (c.keyId !== this.#key.keyId) return malformed(`names key ${c.keyId.slice(0, 16)}… but was signed by ${this.#key.keyId.slice(0, 16)}…`);
    this.#checkpoints++;
    this.#lastCheckpoint = seq;
  }

  /** No more events: decides a pending broken link. */
  finish(): void {
    if (this.#pending) this.#resolve(undefined);
  }

  report(): VerifyReport {
    this.finish();
    const lastSeq = this.#lastGood;
    const covered = Math.max(this.#lastCheckpoint, this.#startSeq);
    return {
      ok: this.#bad === undefined,
      events: this.#events,
      checkpoints: this.#checkpoints,
      lastSeq,
      lastCheckpointSeq: this.#lastCheckpoint,
      uncovered: Math.max(0, lastSeq - covered),
      keyId: this.#key.keyId,
      ...(this.#bad ? { firstBad: this.#bad } : {}),
    };
  }
}

const cpOf = (r: CheckpointRow): RawCheckpoint => ({ seq: r.seq, treeSize: r.tree_size, root: r.root, ts: r.ts, keyId: r.key_id, signature: r.signature });

/**
 * Verifies the whole database against `key`, in one read transaction (a
 * consistent snapshot even while a writer appends).
 */
export function verifyDb(db: Db, key: VerifyingKey, meta: { logId: string; keyId: string }, options: VerifyOptions = {}): VerifyReport {
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new WardenError('E_INVALID_ARGUMENT', 'verify: onProgress must be a function.');
  return db.transaction(() => {
    const v = new ChainVerifier(key, meta.logId, undefined, meta.keyId);
    const cps = db.prepare('SELECT * FROM checkpoints ORDER BY seq').all() as CheckpointRow[];
    let ci = 0;
    while (ci < cps.length && cps[ci]!.seq <= 0) v.checkpoint(cpOf(cps[ci++]!));
    let lastRead = 0;
    for (const row of db.prepare('SELECT * FROM events ORDER BY seq').iterate() as IterableIterator<EventRow>) {
      lastRead = row.seq;
      v.event({ seq: row.seq, hash: row.hash, fields: rowFields(row) });
      if (v.problem) break;
      // Checkpoints at seqs that are missing are reached through the gap first.
      while (ci < cps.length && cps[ci]!.seq < row.seq) ci++;
      while (ci < cps.length && cps[ci]!.seq === row.seq) v.checkpoint(cpOf(cps[ci++]!));
      if (onProgress && row.seq % PROGRESS_EVERY === 0) onProgress({ events: v.events, lastSeq: row.seq });
    }
    v.finish();
    if (!v.problem) {
      const beyond = cps.find((c) => c.seq > lastRead);
      if (beyond) {
        v.fail({
          seq: lastRead + 1,
          reason: 'truncated',
          message: `The checkpoint at seq ${beyond.seq} covers events up to ${beyond.seq}, but the log ends at ${lastRead}: events ${lastRead + 1}–${beyond.seq} were deleted.`,
        });
      }
    } else if (v.problem.reason === 'hash-mismatch' && v.mismatch) {
      const moved = movedFrom(db, v.mismatch);
      if (moved !== undefined) v.refine(moved);
    }
    return v.report();
  })();
}

/**
 * A row whose fields do not hash to its hash may be intact but under another
 * seq. Its original seq is where its neighbours put it: one after the row
 * whose hash is its prevHash, or one before the row that names its hash as
 * prevHash. If rehashing under that seq reproduces its hash, say so.
 */
function movedFrom(db: Db, m: { seq: number; fields: EventFields; hash: string }): VerifyProblem | undefined {
  const candidates = new Set<number>();
  const succ = db.prepare('SELECT seq FROM events WHERE prev_hash = ? AND seq != ?').all(m.hash, m.seq) as { seq: number }[];
  for (const r of succ) candidates.add(r.seq - 1);
  const pred = db.prepare('SELECT seq FROM events WHERE hash = ? AND seq != ?').all(m.fields.prevHash, m.seq) as { seq: number }[];
  for (const r of pred) candidates.add(r.seq + 1);
  for (const original of candidates) {
    if (original === m.seq || original < 1) continue;
    let h: string;
    try {
      h = eventHash(m.fields.prevHash, canonicalEvent({ ...m.fields, seq: original }));
    } catch {
      continue;
    }
    if (h !== m.hash) continue;
    if (original < m.seq) {
      return {
        seq: original,
        reason: 'inserted',
        message: `The event written as seq ${original} now sits at seq ${m.seq}: ${m.seq - original === 1 ? 'a row was' : `${m.seq - original} rows were`} inserted at seq ${original} and the rest renumbered.`,
      };
    }
    return {
      seq: m.seq,
      reason: 'reordered',
      message: `Seq ${m.seq} holds the event written as seq ${original}: rows were swapped or renumbered (or rows before it deleted).`,
    };
  }
  return undefined;
}
