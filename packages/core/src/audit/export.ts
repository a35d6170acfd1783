/**
 * Export as JSON Lines, and offline verification of an export.
 *
 *   {"type":"header","format":"warden-audit-v1","logId":…,"keyId":…,"publicKey":…,"fromSeq":1,"prevHash":"000…","frontier":[]}
 *   {"action":"sandbox.create",…,"hash":…,"prevHash":…,"seq":1,"ts":…}      one event per line, canonical JSON
 *   {"type":"checkpoint","seq":1000,"treeSize":1000,"root":…,"ts":…,"keyId":…,"signature":…}
 *
 * Events are in seq order; each checkpoint follows the event it covers, so a
 * verifier needs O(log n) memory. Event lines have no `type`; every other
 * line has one. The header's prevHash and frontier (the Merkle subtree roots
 * of events before fromSeq) let an export start mid-log; they are not signed,
 * but the first checkpoint in the export vouches for both.
 */
import type { KeyObject } from 'node:crypto';
import { WardenError } from '@warden/protocol';
import { canonicalJson } from './canonical.js';
import { FORMAT, rowFields, type CheckpointRow, type Db, type EventRow, type Meta } from './db.js';
import { GENESIS_HASH, MalformedEvent, fieldsOfExported, toEvent, type EventFields } from './event.js';
import { parsePublicKey } from './keys.js';
import { MerkleFrontier, isHash } from './merkle.js';
import { ChainVerifier, type ChainStart } from './verify.js';
import type { ExportOptions, VerifyReport } from './types.js';

interface Header {
  readonly type: 'header';
  readonly format: string;
  readonly logId: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly fromSeq: number;
  readonly prevHash: string;
  readonly frontier: readonly string[];
}

const checkpointLine = (c: CheckpointRow): string =>
  canonicalJson({ type: 'checkpoint', seq: c.seq, treeSize: c.tree_size, root: c.root, ts: c.ts, keyId: c.key_id, signature: c.signature });

/** Writes the log (from `fromSeq`) as JSON Lines, in one read transaction. */
export function exportDb(db: Db, meta: Meta, write: (line: string) => void, options: ExportOptions = {}): { events: number; checkpoints: number } {
  if (typeof write !== 'function') throw new WardenError('E_INVALID_ARGUMENT', 'export: write must be a function that takes one line (without a newline).');
  const fromSeq = options.fromSeq ?? 1;
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new WardenError('E_INVALID_ARGUMENT', `export: fromSeq must be an integer ≥ 1, got ${String(fromSeq)}.`);
  return db.transaction(() => {
    const last = (db.prepare('SELECT max(seq) AS n FROM events').get() as { n: number | null }).n ?? 0;
    if (fromSeq > last + 1) throw new WardenError('E_INVALID_ARGUMENT', `export: fromSeq ${fromSeq} is past the end of the log (last seq ${last}).`);
    const frontier = MerkleFrontier.empty();
    let prevHash = GENESIS_HASH;
    for (const r of db.prepare('SELECT hash FROM events WHERE seq < ? ORDER BY seq').iterate(fromSeq) as IterableIterator<{ hash: string }>) {
      frontier.push(r.hash);
      prevHash = r.hash;
    }
    const header: Header = { type: 'header', format: meta.format, logId: meta.logId, keyId: meta.keyId, publicKey: meta.publicKey, fromSeq, prevHash, frontier: frontier.hashes() };
    write(canonicalJson(header));
    const cps = db.prepare('SELECT * FROM checkpoints WHERE seq >= ? ORDER BY seq').all(fromSeq - 1) as CheckpointRow[];
    let ci = 0;
    let events = 0;
    let checkpoints = 0;
    const emit = (c: CheckpointRow): void => {
      write(checkpointLine(c));
      checkpoints++;
    };
    while (ci < cps.length && cps[ci]!.seq === fromSeq - 1) emit(cps[ci++]!);
    for (const row of db.prepare('SELECT * FROM events WHERE seq >= ? ORDER BY seq').iterate(fromSeq) as IterableIterator<EventRow>) {
      let line: string;
      try {
        line = canonicalJson(toEvent(rowFields(row), row.hash));
      } catch (err) {
        throw new WardenError('E_AUDIT_UNAVAILABLE', `export: event ${row.seq} cannot be read (${(err as Error).message}); run verify to see what was changed.`, { cause: err });
      }
      write(line);
      events++;
      while (ci < cps.length && cps[ci]!.seq < row.seq) ci++;
      while (ci < cps.length && cps[ci]!.seq === row.seq) emit(cps[ci++]!);
    }
    return { events, checkpoints };
  })();
}

const CHECKPOINT_KEYS = new Set(['type', 'seq', 'treeSize', 'root', 'ts', 'keyId', 'signature']);

function parseHeader(line: string): { header: Header; start: ChainStart } | string {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'the first line is not JSON';
  }
  if (typeof h !== 'object' || h === null || h.type !== 'header') return 'the first line is not an export header ({"type":"header",…})';
  if (h.format !== FORMAT) return `the export format is ${JSON.stringify(h.format)}, not ${FORMAT}`;
  if (typeof h.logId !== 'string' || typeof h.keyId !== 'string') return 'the header has no logId or keyId';
  const fromSeq = h.fromSeq;
  if (typeof fromSeq !== 'number' || !Number.isSafeInteger(fromSeq) || fromSeq < 1) return 'the header has no valid fromSeq';
  if (!isHash(h.prevHash) || (fromSeq === 1 && h.prevHash !== GENESIS_HASH)) return 'the header has no valid prevHash';
  const frontier = Array.isArray(h.frontier) ? MerkleFrontier.restore(fromSeq - 1, h.frontier as unknown[]) : undefined;
  if (!frontier) return `the header's frontier is not that of ${fromSeq - 1} events`;
  return { header: h as unknown as Header, start: { seq: fromSeq - 1, prevHash: h.prevHash, frontier } };
}

/**
 * Verifies an export offline: every hash, link, Merkle root and signature,
 * against `publicKey` (SPKI PEM, base64 of the raw 32 bytes, or a KeyObject) —
 * the key you trust, not the one the header names. Lines may end in `\n`;
 * blank lines are skipped.
 *
 * @example
 * const report = verifyExport(readFileSync('audit.jsonl', 'utf8').split('\n'), trustedPem);
 * if (!report.ok) console.error(report.firstBad);
 */
export function verifyExport(lines: Iterable<string>, publicKey: string | KeyObject): VerifyReport {
  const key = parsePublicKey(publicKey);
  let v: ChainVerifier | undefined;
  /** After a gap at seq s, whether s turns up later (then the lines were reordered, not deleted). */
  let gapAt: number | undefined;
  for (const rawLine of lines) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (!v) {
      const h = parseHeader(line);
      if (typeof h === 'string') {
        return { ok: false, events: 0, checkpoints: 0, lastSeq: 0, lastCheckpointSeq: 0, uncovered: 0, keyId: key.keyId, firstBad: { seq: 1, reason: 'malformed', message: `Not a Warden audit export: ${h}.` } };
      }
      v = new ChainVerifier(key, h.header.logId, h.start, h.header.keyId);
      continue;
    }
    if (v.problem) {
      if (v.problem.reason !== 'gap') break;
      gapAt ??= v.problem.seq;
      if (line.includes(`"seq":${gapAt},`) || line.includes(`"seq":${gapAt}}`)) {
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (o.type === undefined && o.seq === gapAt) {
            v.refine({ seq: gapAt, reason: 'reordered', message: `Event ${gapAt} is out of place: it comes after a later event. Lines were moved.` });
            break;
          }
        } catch {
          // not this one
        }
      }
      continue;
    }
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not an object');
    } catch {
      v.event({ seq: v.next, hash: undefined, malformed: `the line after seq ${v.next - 1} is not a JSON object` });
      continue;
    }
    if (o.type === 'checkpoint') {
      const extra = Object.keys(o).filter((k) => !CHECKPOINT_KEYS.has(k));
      if (extra.length > 0) v.checkpoint({ seq: o.seq, treeSize: undefined, root: undefined, ts: undefined, keyId: undefined, signature: undefined });
      else v.checkpoint({ seq: o.seq, treeSize: o.treeSize, root: o.root, ts: o.ts, keyId: o.keyId, signature: o.signature });
      continue;
    }
    if (o.type !== undefined) {
      v.event({ seq: v.next, hash: undefined, malformed: `a line of type ${JSON.stringify(o.type)} is among the events` });
      continue;
    }
    let fields: EventFields | undefined;
    let malformed: string | undefined;
    try {
      fields = fieldsOfExported(o);
    } catch (err) {
      if (!(err instanceof MalformedEvent)) throw err;
      malformed = err.message;
    }
    v.event(fields ? { seq: o.seq, hash: o.hash, fields } : { seq: o.seq, hash: o.hash, malformed: malformed ?? 'unreadable' });
  }
  if (!v) return { ok: false, events: 0, checkpoints: 0, lastSeq: 0, lastCheckpointSeq: 0, uncovered: 0, keyId: key.keyId, firstBad: { seq: 1, reason: 'malformed', message: 'The export is empty: no header.' } };
  return v.report();
}
