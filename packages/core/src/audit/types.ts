/**
 * The audit log's vocabulary: what callers record (AuditEventInput), what the
 * log stores and hands back (AuditEvent, Checkpoint), and what verification
 * reports (VerifyReport). docs/audit.md describes the formats byte by byte.
 */
import type { Decision, Risk } from '../guard/types.js';
import type { Logger } from '../logger.js';

/** One thing that happened. Only `action` is required; absent fields are left out of the hash, not stored as null. */
export interface AuditEventInput {
  /**
   * Dotted name, two or more segments of `[A-Za-z0-9_-]`, at most 128 characters:
   * `sandbox.create`, `command.end`, `guard.decision`, `approval.decide`, `key.create` …
   */
  readonly action: string;
  /** Who: `key:<id>`, `cli`, `system`, `approver:key:<id>`. */
  readonly actor?: string;
  readonly tenant?: string;
  readonly sandboxId?: string;
  /** sha256 hex (64 lower-case hex digits) of the full input: the command, the file, the action an approval binds to. */
  readonly inputDigest?: string;
  /** A human-readable excerpt. The log masks secrets in it and caps it (512 characters by default) before hashing. */
  readonly preview?: string;
  readonly decision?: Decision;
  readonly ruleIds?: readonly string[];
  readonly risk?: Risk;
  /** `ok`, `exited:0`, `signaled:KILL`, `timeout`, `denied`, `approved`, `error:E_…`. */
  readonly outcome?: string;
  /** Non-negative, finite. */
  readonly durationMs?: number;
  /**
   * JSON-safe values only (plain objects, arrays, strings, finite numbers,
   * booleans, null; at most 64 KiB as canonical JSON). Secrets in string
   * values are masked like the preview's. Properties whose value is undefined
   * are left out, as JSON.stringify does.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An event as recorded: the input (preview redacted) plus its place in the chain. */
export interface AuditEvent extends AuditEventInput {
  /** 1, 2, 3 … with no gaps, in append order. */
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds, from the log's clock at append time. */
  readonly ts: string;
  /** The previous event's hash; 64 zeros for seq 1. */
  readonly prevHash: string;
  /** sha256 hex of prevHash + the canonical JSON of every other field. */
  readonly hash: string;
}

/** A signed commitment to events 1..seq: an RFC 6962 Merkle tree head. */
export interface Checkpoint {
  /** The last event it covers (0: an empty log). */
  readonly seq: number;
  /** Leaves in the tree: always equal to seq, as seq starts at 1. */
  readonly treeSize: number;
  /** RFC 6962 Merkle tree hash over the event hashes 1..seq, hex. */
  readonly root: string;
  readonly ts: string;
  /** sha256 hex of the raw 32-byte Ed25519 public key that signed it. */
  readonly keyId: string;
  /** Ed25519 signature, base64, over the checkpoint's signed form (docs/audit.md). */
  readonly signature: string;
}

export const VERIFY_FAILURES = [
  /** The row's fields do not hash to its stored hash: a column was edited. */
  'hash-mismatch',
  /** A row is internally consistent but does not link to its neighbour: it was rewritten and rehashed. */
  'chain-broken',
  /** A seq is missing: the row was deleted. */
  'gap',
  /** The row holds the event written under another seq: rows were moved (swapped, renumbered). */
  'reordered',
  /** Rows that were never written were slipped in before the row written under this seq. */
  'inserted',
  /** A checkpoint covers events that are no longer there: rows at the end were deleted. */
  'truncated',
  /** A row or line is not an event at all (wrong types, unknown fields, bad JSON). */
  'malformed',
  /** The recomputed Merkle root differs from the checkpoint's: events it covers were rewritten (or the root was edited). */
  'checkpoint-root',
  /** The checkpoint's signature does not verify with the trusted public key. */
  'checkpoint-signature',
  /** A checkpoint row or line has the wrong shape or sits in the wrong place. */
  'checkpoint-malformed',
] as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[number];

export interface VerifyProblem {
  /** The first event (or, for checkpoint-* reasons, the checkpoint's seq) that is not as written. */
  readonly seq: number;
  readonly reason: VerifyFailure;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Events checked (up to the first problem). */
  readonly events: number;
  /** Checkpoints whose root and signature were checked. */
  readonly checkpoints: number;
  /** The last event that verified (on failure, the one before the damage; a bad checkpoint does not make its event bad). */
  readonly lastSeq: number;
  /** The seq of the last good checkpoint (0 when none). */
  readonly lastCheckpointSeq: number;
  /**
   * Events after the last checkpoint. They are chained, so editing one is
   * caught, but no signature covers them: deleting them from the end (or
   * appending forged ones) cannot be told apart from a log that stopped there.
   */
  readonly uncovered: number;
  /** The id of the key the signatures were checked against. */
  readonly keyId: string;
  readonly firstBad?: VerifyProblem;
}

export interface VerifyProgress {
  readonly events: number;
  readonly lastSeq: number;
}

export interface VerifyOptions {
  /** Called every 65,536 events. Throwing from it stops verification (the error propagates). */
  readonly onProgress?: (progress: VerifyProgress) => void;
}

export interface AuditQuery {
  readonly sandboxId?: string;
  readonly tenant?: string;
  /** Exact (`command.end`) or a prefix ending in `.*` (`command.*`). */
  readonly action?: string;
  readonly actor?: string;
  readonly decision?: Decision;
  /** ts ≥ since (inclusive). */
  readonly since?: string | Date;
  /** ts < until (exclusive). */
  readonly until?: string | Date;
  /** A cursor: events after this seq in the chosen order (seq > afterSeq ascending, seq < afterSeq descending). */
  readonly afterSeq?: number;
  /** Default 100, at most 1000. */
  readonly limit?: number;
  /** By seq; default 'asc'. */
  readonly order?: 'asc' | 'desc';
}

export interface ExportOptions {
  /** First event to export (default 1). The header carries what a verifier needs to start there. */
  readonly fromSeq?: number;
}

export interface AuditLog extends Disposable {
  /**
   * Records an event and returns it as stored. Synchronous.
   *
   * `durable: true`: the event and everything appended before it are committed
   * with synchronous=FULL (fsync) before this returns; if that fails it throws
   * E_AUDIT_UNAVAILABLE and the event is not recorded. Use it for decisions and
   * approvals, before the action runs.
   *
   * `durable: false` (default): buffered and committed in one transaction with
   * its neighbours within flushIntervalMs or when maxBatch events are waiting.
   * A crash loses at most that tail. Throws E_AUDIT_UNAVAILABLE only when the
   * buffer is full because commits keep failing.
   *
   * Throws E_INVALID_ARGUMENT for an input that is not an event (see AuditEventInput).
   *
   * @example
   * log.append({ action: 'guard.decision', actor: 'key:k1', sandboxId, decision: 'deny', ruleIds: ['fs/rm-root'], risk: 'critical' }, { durable: true });
   */
  append(event: AuditEventInput, options?: { readonly durable?: boolean }): AuditEvent;
  /** Commits buffered events now (synchronous=NORMAL). Throws E_AUDIT_UNAVAILABLE if the commit fails. */
  flush(): void;
  /** Events matching every given filter, buffered ones included (they are flushed first). */
  query(filter?: AuditQuery): AuditEvent[];
  get(seq: number): AuditEvent | undefined;
  /** Recomputes every hash, link, Merkle root and signature from the stored columns. Flushes first. */
  verify(options?: VerifyOptions): VerifyReport;
  /**
   * Writes the log as JSON Lines: a header, then every event in seq order with
   * each checkpoint right after the event it covers. A writable log first
   * checkpoints its tail, so the export ends with a checkpoint. `write` must not
   * call back into the log. See verifyExport.
   */
  export(write: (line: string) => void, options?: ExportOptions): { events: number; checkpoints: number };
  /** Flushes and signs a checkpoint over everything appended so far (or returns the last one if nothing is new). */
  checkpoint(): Checkpoint;
  /** The Ed25519 public key signatures are checked against, as SPKI PEM. Keep a copy elsewhere to verify independently. */
  readonly publicKey: string;
  /** sha256 hex of the raw public key. */
  readonly keyId: string;
  /** Random id chosen when the log was created; part of every signed checkpoint. */
  readonly logId: string;
  /** Flushes, signs a final checkpoint, closes the database. Idempotent. */
  close(): void;
}

export interface AuditLogOptions {
  /** The SQLite file, e.g. `<dataDir>/audit.sqlite`. Created (0600) with its parent directory if missing, unless readOnly. */
  readonly file: string;
  /**
   * The Ed25519 signing key (PKCS#8 PEM). Created 0600 if missing when the log
   * is new; keep it outside the database's directory. An existing log refuses a
   * missing or different key (E_AUDIT_UNAVAILABLE): key rotation is not supported.
   * Optional only with readOnly and publicKey.
   */
  readonly keyFile?: string;
  /** Open for reading (query, verify, export) only, e.g. from the CLI while the server runs. Default false. */
  readonly readOnly?: boolean;
  /** readOnly only: verify against this public key (SPKI PEM or base64 of the raw 32 bytes) instead of keyFile's. */
  readonly publicKey?: string;
  /** Longest a non-durable event waits in memory. Default 5; 0 to 60000. */
  readonly flushIntervalMs?: number;
  /** Buffered events that trigger a commit at once. Default 256; 1 to 65536. */
  readonly maxBatch?: number;
  /** Sign a checkpoint every this many events. Default 1000; 1 to 10,000,000. */
  readonly checkpointEvery?: number;
  /** …and at least this often while events arrive. Default 60000; 10 to 86,400,000. */
  readonly checkpointIntervalMs?: number;
  /** Characters of a preview kept (after masking). Default 512; 32 to 65536. */
  readonly previewMaxChars?: number;
  /** Events held in memory while commits fail before append refuses more. Default 100,000. */
  readonly maxBufferedEvents?: number;
  /** The clock for event and checkpoint timestamps. Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Where commit failures are reported. Default silent. */
  readonly logger?: Logger;
}
